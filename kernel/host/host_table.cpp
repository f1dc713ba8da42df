#include "plugins/abi_guard.hpp"
#include "host/host_table.hpp"

#include "block/host_glue.hpp"
#include "net/config.hpp"
#include "files/fdset.hpp"
#include "host/chardev_fe.hpp"
#include "loader/loader.hpp"
#include "log/log.hpp"
#include "loop/bql.hpp"
#include "loop/clock.hpp"
#include "loop/main_loop.hpp"
#include "loop/timer.hpp"
#include "fdt/fdt.hpp"
#include "memory/address_space.hpp"
#include "memory/region.hpp"
#include "options/keyval.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"
#include "vcpu/vcpu.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <vector>

namespace tessera {

namespace {

std::map<std::string, std::string, std::less<>> g_config;
RegionPtr g_sysmem;
std::unique_ptr<AddressSpace> g_sysas;
ts_region *g_machine_ram = nullptr;
// Regions made by plugins live as long as the machine.
std::vector<RegionPtr> g_regions;
std::function<void(int, int)> g_shutdown;
std::function<void()> g_reset;
std::unique_ptr<Fdt> g_fdt;

Fdt &machine_fdt() {
    if (!g_fdt) g_fdt = std::make_unique<Fdt>();
    return *g_fdt;
}
void machine_fdt_reset() { g_fdt = std::make_unique<Fdt>(); }

void set_err(ts_error *err, std::string_view msg) { set_abi_error(err, msg); }


ts_region *keep(RegionPtr r) {
    g_regions.push_back(std::move(r));
    return g_regions.back().get();
}

// ---- logging ----
void h_log(uint64_t mask, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vprintf(mask, fmt, ap);
    va_end(ap);
}
void h_error_report(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    error_report(buf);
}
void h_error_set(ts_error *err, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
// Kernel capabilities by id: today the block layer's child access.
const void *h_get_capability(const char *id) { return block_host_capability(id); }

// ---- objects ----
void *h_object_instance(ts_object *o) { return o ? o->instance : nullptr; }
const char *h_object_type(ts_object *o) { return o && o->type ? o->type->name.c_str() : nullptr; }
const char *h_object_id(ts_object *o) { return o && !o->id.empty() ? o->id.c_str() : nullptr; }
const char *h_object_path(ts_object *o) { return o ? o->path.c_str() : nullptr; }

const std::string *prop_value(ts_object *o, const char *name) {
    auto *p = o ? o->find_prop(name) : nullptr;
    return p && p->value ? &*p->value : nullptr;
}
ts_status h_prop_get_bool(ts_object *o, const char *name, int *out) {
    auto *v = prop_value(o, name);
    if (!v) return TS_ERROR;
    *out = *v == "on";
    return TS_OK;
}
ts_status h_prop_get_int(ts_object *o, const char *name, int64_t *out) {
    auto *v = prop_value(o, name);
    if (!v) return TS_ERROR;
    *out = std::strtoll(v->c_str(), nullptr, 10);
    return TS_OK;
}
ts_status h_prop_get_uint(ts_object *o, const char *name, uint64_t *out) {
    auto *v = prop_value(o, name);
    if (!v) return TS_ERROR;
    *out = std::strtoull(v->c_str(), nullptr, 10);
    return TS_OK;
}
const char *h_prop_get_str(ts_object *o, const char *name) {
    auto *v = prop_value(o, name);
    return v ? v->c_str() : nullptr;
}
ts_object *h_prop_get_link(ts_object *o, const char *name) {
    auto *v = prop_value(o, name);
    return v ? object_find_by_id(*v) : nullptr;
}
ts_status h_prop_set(ts_object *o, const char *name, const char *value, ts_error *err) {
    return guarded(err, [&] { object_set_prop(o, name, value); });
}
ts_object *h_object_new(ts_object *parent, const char *type, const char *id, ts_error *err) {
    ts_object *out = nullptr;
    guarded(err, [&] { out = object_new(parent, type, id ? id : "", "type"); });
    return out;
}
ts_status h_object_realize(ts_object *o, ts_error *err) {
    return guarded(err, [&] { object_realize(o); });
}
ts_status h_bus_add(ts_object *owner, const char *type, const char *name, ts_error *err) {
    return guarded(err, [&] { owner->buses.push_back({type, name ? name : "", {}}); });
}

// ---- memory ----
ts_region *h_region_ram(ts_object *owner, const char *name, uint64_t size, ts_error *err) {
    ts_region *r = nullptr;
    guarded(err, [&] { r = keep(make_ram(name, size, {}, owner)); });
    return r;
}
ts_region *h_region_rom(ts_object *owner, const char *name, uint64_t size, ts_error *err) {
    ts_region *r = nullptr;
    guarded(err, [&] { r = keep(make_rom(name, size, owner)); });
    return r;
}
ts_region *h_region_mmio(ts_object *owner, const char *name, uint64_t size, const ts_mmio_ops *ops, void *opaque) {
    return keep(make_mmio(name, size, *ops, opaque, owner));
}
ts_region *h_region_alias(ts_object *owner, const char *name, ts_region *target, uint64_t offset, uint64_t size) {
    return keep(make_alias(name, *target, offset, size, owner));
}
ts_region *h_region_container(ts_object *owner, const char *name, uint64_t size) {
    return keep(make_container(name, size, owner));
}
void h_region_add(ts_region *parent, uint64_t offset, ts_region *child, int priority) {
    region_add(*parent, offset, *child, priority);
}
void h_region_remove(ts_region *parent, ts_region *child) { region_remove(*parent, *child); }
void h_region_set_enabled(ts_region *r, int en) { region_set_enabled(*r, en != 0); }
uint8_t *h_region_host_ptr(ts_region *r) { return region_host_ptr(*r); }
uint64_t h_region_size(ts_region *r) { return r->size; }
ts_region *h_machine_ram() { return g_machine_ram; }
ts_region *h_system_memory() { return host_system_memory(); }
ts_address_space *h_system_as() { return host_system_as(); }
void h_device_add_region(ts_object *o, ts_region *r) { o->regions.push_back(r); }
ts_region *h_device_region(ts_object *o, unsigned i) { return i < o->regions.size() ? o->regions[i] : nullptr; }
ts_memtx h_as_rw(ts_address_space *as, uint64_t addr, void *buf, uint64_t len, int is_write) {
    return as->rw(addr, buf, len, is_write != 0);
}
ts_status h_as_lookup(ts_address_space *as, uint64_t addr, ts_flat_range *out) {
    *out = as->lookup(addr);
    return out->kind == TS_REGION_NONE ? TS_ERROR : TS_OK;
}
void h_ram_write_listen(ts_ram_write_cb cb, void *opaque) { ram_write_listen(cb, opaque); }

// ---- gpio ----
ts_status h_gpio_in_init(ts_object *o, const char *name, int count, ts_irq_handler h, void *opaque) {
    o->gpio_in[name] = {h, opaque, count};
    return TS_OK;
}
ts_irq *h_gpio_out_init(ts_object *o, const char *name, int count) {
    auto &v = o->gpio_out[name];
    while (static_cast<int>(v.size()) < count) v.push_back(std::make_unique<ts_irq>());
    return v.empty() ? nullptr : v[0].get();
}
ts_irq *h_gpio_out(ts_object *o, const char *name, int n) {
    auto it = o->gpio_out.find(name);
    if (it == o->gpio_out.end() || n < 0 || n >= static_cast<int>(it->second.size())) return nullptr;
    return it->second[static_cast<size_t>(n)].get();
}
void h_irq_set(ts_irq *irq, int level) {
    if (!irq) return;
    irq->level = level;
    if (irq->handler) irq->handler(irq->opaque, irq->line, level);
}
ts_status h_gpio_connect(ts_object *src, const char *sname, int sn, ts_object *dst, const char *dname, int dn,
                         ts_error *err) {
    ts_irq *out = h_gpio_out(src, sname, sn);
    if (!out) {
        set_err(err, std::string("no output line ") + sname + "[" + std::to_string(sn) + "] on " + src->path);
        return TS_ERROR;
    }
    auto it = dst->gpio_in.find(dname);
    if (it == dst->gpio_in.end() || dn < 0 || dn >= it->second.count) {
        set_err(err, std::string("no input line ") + dname + "[" + std::to_string(dn) + "] on " + dst->path);
        return TS_ERROR;
    }
    out->handler = it->second.handler;
    out->opaque = it->second.opaque;
    out->line = dn;
    if (out->level) out->handler(out->opaque, dn, out->level);
    return TS_OK;
}

// ---- time and loop ----
int64_t h_clock_ns(ts_clock c) { return clock_ns(static_cast<Clock>(c)); }
ts_timer *h_timer_new(ts_clock c, ts_timer_cb cb, void *opaque) {
    // Owned by the plugin until timer_free.
    return reinterpret_cast<ts_timer *>(std::make_unique<Timer>(static_cast<Clock>(c), cb, opaque).release());
}
void h_timer_mod(ts_timer *t, int64_t d) { reinterpret_cast<Timer *>(t)->mod(d); }
void h_timer_del(ts_timer *t) { reinterpret_cast<Timer *>(t)->del(); }
void h_timer_free(ts_timer *t) { std::unique_ptr<Timer>(reinterpret_cast<Timer *>(t)); }
ts_bh *h_bh_new(ts_bh_cb cb, void *opaque) { return reinterpret_cast<ts_bh *>(MainLoop::instance().bh_new(cb, opaque)); }
void h_bh_schedule(ts_bh *bh) { MainLoop::instance().bh_schedule(reinterpret_cast<Bh *>(bh)); }
void h_bh_free(ts_bh *bh) { MainLoop::instance().bh_free(reinterpret_cast<Bh *>(bh)); }
void h_fd_set_handler(int fd, ts_fd_cb r, ts_fd_cb w, void *opaque) {
    MainLoop::instance().set_fd_handler(fd, r, w, opaque);
}
void h_lock() { bql_lock(); }
void h_unlock() { bql_unlock(); }

// ---- cpus ----
ts_object *h_cpu_new(unsigned index, ts_error *err) {
    ts_object *out = nullptr;
    guarded(err, [&] {
        std::string type = host_config("cpu");
        const TypeImpl &t = type_get(type, "-cpu");
        if (t.kind != TypeKind::Cpu) throw UsageError("-cpu " + type + ": '" + type + "' is not a CPU model");
        auto *cls = static_cast<const ts_cpu_class *>(t.cls);
        ts_object *o = object_new(object_container("/machine/cpus"), type, "", "-cpu");
        if (o->find_prop("hartid")) object_set_prop(o, "hartid", std::to_string(index));
        // -cpu model,prop=... applies to every CPU.
        std::string props = host_config("cpu-props");
        if (!props.empty())
            for (auto &[k, v] : parse_keyval(props).items) object_set_prop(o, k, v);
        vcpu_register(o, cls);
        out = o;
    });
    return out;
}
unsigned h_cpu_count() { return vcpu_count(); }
ts_object *h_cpu_get(unsigned i) { return vcpu_object(i); }
void h_cpu_wake(ts_object *cpu) { vcpu_wake(cpu); }
const void *h_cpu_get_capability(ts_object *cpu, const char *id) {
    for (unsigned i = 0; i < vcpu_count(); i++)
        if (vcpu_object(i) == cpu) {
            auto *cls = vcpu_class(i);
            return cls->get_capability ? cls->get_capability(cpu->instance, id) : nullptr;
        }
    return nullptr;
}

// ---- lifecycle ----
void h_request_shutdown(int cause, int status) {
    if (g_shutdown) g_shutdown(cause, status);
}
void h_request_reset() {
    if (g_reset) g_reset();
}
const char *h_config_get(const char *key) {
    auto it = g_config.find(key);
    return it == g_config.end() || it->second.empty() ? nullptr : it->second.c_str();
}

// ---- loading ----
ts_status h_load_elf(const char *path, ts_address_space *as, int64_t off, uint64_t *entry, uint64_t *low,
                     uint64_t *high, int *cls, ts_error *err) {
    return guarded(err, [&] {
        ElfLoadOptions o;
        o.addr_offset = off;
        ElfInfo i = load_elf(path, *as, o);
        if (entry) *entry = i.entry;
        if (low) *low = i.low;
        if (high) *high = i.high;
        if (cls) *cls = i.elf_class;
    });
}
ts_status h_load_raw(const char *path, ts_address_space *as, uint64_t addr, uint64_t max, uint64_t *size,
                     ts_error *err) {
    return guarded(err, [&] {
        uint64_t s = load_raw(path, *as, addr, max);
        if (size) *size = s;
    });
}
int h_file_is_elf(const char *path, ts_error *err) {
    int r = -1;
    guarded(err, [&] { r = file_is_elf(path) ? 1 : 0; });
    return r;
}
ts_status h_file_read_head(const char *path, void *buf, size_t len, size_t *got, ts_error *err) {
    return guarded(err, [&] {
        size_t n = file_read_head(path, std::span<uint8_t>(static_cast<uint8_t *>(buf), len));
        if (got) *got = n;
    });
}
ts_status h_symbol_lookup(const char *name, uint64_t *addr) {
    auto v = global_symbols().lookup(name);
    if (!v) return TS_ERROR;
    *addr = *v;
    return TS_OK;
}
char *h_firmware_find(const char *name) {
    if (!name) return nullptr;
    if (name[0] == '/' || std::strchr(name, '/')) {
        struct stat st;
        return stat(name, &st) == 0 ? strdup(name) : nullptr;
    }
    std::string dirs = host_config("firmware-dirs");
    std::string_view s = dirs;
    while (!s.empty()) {
        size_t c = s.find(':');
        std::string p = std::string(s.substr(0, c)) + "/" + name;
        s.remove_prefix(c == std::string_view::npos ? s.size() : c + 1);
        struct stat st;
        if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return strdup(p.c_str());
    }
    return nullptr;
}
void h_free(void *p) { std::free(p); }
ts_status h_rom_add(const char *name, const void *data, size_t len, uint64_t addr, ts_error *err) {
    return guarded(err, [&] {
        auto *b = static_cast<const uint8_t *>(data);
        global_roms().add(name, *host_system_as(), addr, std::vector<uint8_t>(b, b + len));
    });
}

// ---- device tree ----
ts_status h_fdt_create(ts_error *err) { return guarded(err, [] { machine_fdt_reset(); }); }
ts_status h_fdt_add_node(const char *path) {
    return guarded(nullptr, [&] { machine_fdt().add_node(path); });
}
ts_status h_fdt_set_prop(const char *path, const char *name, const void *data, size_t len) {
    return guarded(nullptr, [&] {
        machine_fdt().set_prop(path, name, std::span<const uint8_t>(static_cast<const uint8_t *>(data), len));
    });
}
ts_status h_fdt_set_prop_str(const char *path, const char *name, const char *value) {
    return guarded(nullptr, [&] { machine_fdt().set_prop_string(path, name, value); });
}
ts_status h_fdt_set_prop_cells(const char *path, const char *name, const uint32_t *cells, size_t n) {
    return guarded(nullptr, [&] {
        machine_fdt().set_prop_cells(path, name, std::span<const uint32_t>(cells, n));
    });
}
uint32_t h_fdt_phandle(const char *path) {
    uint32_t ph = 0;
    guarded(nullptr, [&] { ph = machine_fdt().phandle(path); });
    return ph;
}
const void *h_fdt_blob(size_t *size) {
    const void *p = nullptr;
    guarded(nullptr, [&] {
        auto blob = machine_fdt().blob();
        p = blob.data();
        if (size) *size = blob.size();
    });
    return p;
}
ts_status h_fdt_load(const char *path, ts_error *err) {
    return guarded(err, [&] { g_fdt = std::make_unique<Fdt>(Fdt::load(path)); });
}

// ---- files ----
int h_open_file(const char *path, int flags, int mode, ts_error *err) {
    int fd = file_open(path, flags, static_cast<unsigned>(mode));
    if (fd < 0) {
        const int saved = errno;  // callers may still look at errno
        if (err) std::snprintf(err->message, sizeof err->message, "Could not open '%s': %s", path, std::strerror(saved));
        errno = saved;
    }
    return fd;
}

int h_log_addr_enabled(uint64_t addr) { return log_filter_allows(addr) ? 1 : 0; }

int h_type_available(const char *name) {
    return name && (type_find_loaded(name) || plugin_registry().find(name)) ? 1 : 0;
}


// Guest randomness: the host's entropy, or a repeatable xoshiro256** stream
// seeded by -seed.
std::mutex g_random_mu;
bool g_random_seeded = false;
uint64_t g_random_state[4];
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t next_random() {
    uint64_t *s = g_random_state;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}
void h_guest_random(void *buf, size_t len) {
    auto *p = static_cast<uint8_t *>(buf);
    std::lock_guard g(g_random_mu);
    if (!g_random_seeded) {
        while (len) {
            ssize_t got = getrandom(p, len, 0);
            if (got <= 0) {
                if (got < 0 && errno == EINTR) continue;
                break;
            }
            p += got;
            len -= size_t(got);
        }
        return;
    }
    while (len) {
        uint64_t v = next_random();
        size_t n = std::min(len, sizeof v);
        std::memcpy(p, &v, n);
        p += n;
        len -= n;
    }
}

const ts_host kHost = {
    sizeof(ts_host), TESSERA_ABI_MAJOR, TESSERA_ABI_MINOR,
    &g_log_mask, h_log, h_error_report, h_error_set, h_get_capability,
    h_object_instance, h_object_type, h_object_id, h_object_path,
    h_prop_get_bool, h_prop_get_int, h_prop_get_uint, h_prop_get_str, h_prop_get_link, h_prop_set,
    h_object_new, h_object_realize, h_bus_add,
    h_region_ram, h_region_rom, h_region_mmio, h_region_alias, h_region_container, h_region_add,
    h_region_remove, h_region_set_enabled, h_region_host_ptr, h_region_size, h_machine_ram,
    h_system_memory, h_system_as, h_device_add_region, h_device_region, h_as_rw, h_as_lookup,
    map_generation_ptr(), h_ram_write_listen,
    h_gpio_in_init, h_gpio_out_init, h_gpio_out, h_irq_set, h_gpio_connect,
    h_clock_ns, h_timer_new, h_timer_mod, h_timer_del, h_timer_free, h_bh_new, h_bh_schedule, h_bh_free,
    h_fd_set_handler, h_lock, h_unlock,
    h_cpu_new, h_cpu_count, h_cpu_get, h_cpu_wake, h_cpu_get_capability,
    h_request_shutdown, h_request_reset, h_config_get,
    h_load_elf, h_load_raw, h_file_is_elf, h_file_read_head, h_symbol_lookup, h_firmware_find, h_free,
    h_rom_add,
    h_fdt_create, h_fdt_add_node, h_fdt_set_prop, h_fdt_set_prop_str, h_fdt_set_prop_cells, h_fdt_phandle,
    h_fdt_blob, h_fdt_load,
    chardev_fe_attach, chardev_fe_serial_attach, chardev_fe_write, chardev_fe_accept_input,
    block_host_attach, block_host_pread, block_host_pwrite, block_host_flush, block_host_length,
    block_host_read_only,
    net::host_net_attach, net::host_net_send,
    h_open_file,
    h_log_addr_enabled,
    net::host_nic_attach, net::host_backend_client, net::host_net_flush, net::host_net_link_up,
    net::host_net_set_info,
    h_type_available,
    net::host_net_default_mac,
    h_guest_random,
};

}  // namespace

void host_set_random_seed(uint64_t seed) {
    std::lock_guard g(g_random_mu);
    // splitmix64 spreads the number over the generator's state.
    for (uint64_t &w : g_random_state) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        w = z ^ (z >> 31);
    }
    g_random_seeded = true;
}

const ts_host *host_table_get() { return &kHost; }

void host_config_set(std::string key, std::string value) { g_config[std::move(key)] = std::move(value); }
std::string host_config(std::string_view key) {
    auto it = g_config.find(key);
    return it == g_config.end() ? std::string() : it->second;
}
ts_region *host_system_memory() {
    if (!g_sysmem) g_sysmem = make_container("system", UINT64_MAX);
    return g_sysmem.get();
}
ts_address_space *host_system_as() {
    if (!g_sysas) g_sysas = std::make_unique<AddressSpace>("memory", *host_system_memory());
    return g_sysas.get();
}
void host_set_machine_ram(ts_region *ram) { g_machine_ram = ram; }
Fdt *host_machine_fdt() { return g_fdt.get(); }
void host_set_request_handlers(std::function<void(int, int)> shutdown, std::function<void()> reset) {
    g_shutdown = std::move(shutdown);
    g_reset = std::move(reset);
}

}  // namespace tessera

namespace tessera {

bool host_machine_powerdown() {
    ts_object *m = object_resolve("/machine");
    if (!m || !m->type || m->type->kind != TypeKind::Board || !m->instance) return false;
    // Boards built against ABI 1.0 have a shorter class: the size says whether
    // the field is there.
    const auto *bc = static_cast<const ts_board_class *>(m->type->cls);
    if (bc->size < offsetof(ts_board_class, powerdown) + sizeof(bc->powerdown) || !bc->powerdown) return false;
    bc->powerdown(m->instance);
    return true;
}

}  // namespace tessera
