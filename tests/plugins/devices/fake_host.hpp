// A fake kernel for device plugin tests: implements the ts_host functions the
// device plugins use, with recording regions, IRQ lines, a manual clock,
// captured chardevs, vector-backed block devices and RAM. Plugins are loaded
// from the built .so files and driven through their descriptors, so the tests
// exercise the plugins as shipped.
#pragma once

#include <tessera/plugin.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

// The ABI's opaque handles, defined here by the fake.
struct ts_irq {
    ts_object *owner;
    std::string group;
    int n;
    int level = 0;
    int changes = 0;  // how many times the level actually changed
};

struct ts_region {
    std::string name;
    uint64_t size;
    ts_mmio_ops ops;
    void *opaque;
};

struct ts_timer {
    ts_clock clock;
    void (*cb)(void *);
    void *opaque;
    int64_t deadline = -1;  // -1: not armed
};

struct ts_chardev_fe {
    ts_chardev_ops ops{};
    void *opaque = nullptr;
    std::string output;           // what the device wrote
    size_t accept_budget = SIZE_MAX;  // bytes the backend takes before refusing
    int accept_input_calls = 0;
};

struct ts_block_be {
    std::vector<uint8_t> data;
    bool read_only = false;
    int flushes = 0;
};

struct ts_object {
    std::string type, id, path;
    const ts_device_class *cls = nullptr;
    void *instance = nullptr;
    std::map<std::string, std::string> props;
    std::vector<ts_region *> regions;
    std::map<std::string, std::vector<std::unique_ptr<ts_irq>>> outs;
    struct In {
        ts_irq_handler handler;
        void *opaque;
        int count;
    };
    std::map<std::string, In> ins;
    std::vector<std::string> buses;
    ts_object *plugged_into = nullptr;
};

namespace fake {

struct Cpu {
    uint64_t (*read_time)(void *) = nullptr;
    void *time_opaque = nullptr;
    uint64_t timebase_hz = 0;
    uint64_t time() const { return read_time(time_opaque); }
};

class Host {
public:
    // A fresh fake (clears everything from the previous test).
    static Host &reset();
    static Host &get();

    const ts_host *table() const { return &table_; }

    // Clock: advance a clock and run the timers that expire, in order.
    int64_t now(ts_clock c) const { return clock_[c]; }
    void advance(ts_clock c, int64_t ns);
    void set_clock(ts_clock c, int64_t ns) { clock_[c] = ns; }

    // MMIO as a CPU would do it.
    uint64_t read(ts_object *obj, uint64_t off, unsigned size = 4, unsigned region = 0);
    void write(ts_object *obj, uint64_t off, uint64_t value, unsigned size = 4, unsigned region = 0);
    ts_memtx last_tx = TS_MEMTX_OK;

    // IRQ lines.
    int irq(ts_object *obj, const std::string &group, int n = 0);
    int irq_changes(ts_object *obj, const std::string &group, int n = 0);
    void set_input(ts_object *obj, const std::string &group, int n, int level);

    // Backends made available to devices.
    ts_chardev_fe &chardev(const std::string &id) { return chardevs_[id]; }
    ts_chardev_fe &serial(unsigned n) { return chardevs_["serial" + std::to_string(n)]; }
    ts_block_be &drive(const std::string &id) { return drives_[id]; }
    std::vector<uint8_t> ram;
    uint64_t ram_base = 0x80000000;
    std::vector<std::unique_ptr<Cpu>> cpus;
    void add_cpus(unsigned n);

    // Records.
    std::vector<std::string> logs;
    std::vector<std::string> errors;
    std::vector<std::pair<int, int>> shutdowns;  // (cause, status)
    int resets = 0;
    bool log_contains(const std::string &needle) const;

    // Objects.
    ts_object *new_object(const std::string &type, const ts_device_class *cls);
    std::deque<std::unique_ptr<ts_object>> objects;
    std::vector<std::unique_ptr<ts_region>> regions;
    std::vector<std::unique_ptr<ts_timer>> timers;
    std::vector<std::unique_ptr<ts_object>> cpu_objects;

    uint64_t log_mask = ~0ull;

private:
    Host();
    ts_host table_{};
    int64_t clock_[3] = {0, 0, 0};
    std::map<std::string, ts_chardev_fe> chardevs_;
    std::map<std::string, ts_block_be> drives_;
};

// A device plugin loaded from its .so, whose instances the fake host owns.
class Plugin {
public:
    explicit Plugin(const std::string &path);
    ~Plugin();
    Plugin(const Plugin &) = delete;
    Plugin &operator=(const Plugin &) = delete;

    const ts_plugin_descriptor *descriptor() const { return desc_; }
    const ts_device_class *device_class(const std::string &type) const;

    // create -> set properties -> realize -> reset; fails the test on error.
    ts_object *create(const std::string &type, const std::map<std::string, std::string> &props = {});
    // Same but returns the realize error message instead ("" on success).
    std::string try_create(const std::string &type, const std::map<std::string, std::string> &props,
                           ts_object **out = nullptr);
    // Create a child device and plug it into parent's bus.
    ts_object *create_on_bus(ts_object *parent, const std::string &type,
                             const std::map<std::string, std::string> &props = {});
    void destroy_all();

    template <class T>
    T *instance(ts_object *obj) { return static_cast<T *>(obj->instance); }

private:
    void *handle_ = nullptr;
    const ts_plugin_descriptor *desc_ = nullptr;
    std::vector<ts_object *> created_;
};

}  // namespace fake
