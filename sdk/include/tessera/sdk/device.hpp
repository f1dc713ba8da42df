// Device helpers over the C ABI: a class -> ts_device_class adapter, property
// and state declarations, MMIO trampolines, IRQ outputs, timers and chardev
// front ends. Header-only; include it from every device plugin.
//
//   struct Uart : ts::Device {
//       static constexpr const char *type_name = "ns16550a";
//       UartState s;                       // standard-layout guest state
//       explicit Uart(ts_object *o) : Device(o) {}
//       void realize();                    // optional (throws ts::Error)
//       void reset();                      // optional
//   };
//   const ts_device_class uart_class = ts::device_class<Uart>(props, &state);
#pragma once

#include <tessera/sdk/plugin.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ts {

// ---- Logging ---------------------------------------------------------------

namespace detail {
// Format and log one line (the kernel's log does not add the newline).
// Room for a prefix and a whole ts_error message; longer lines are cut.
template <class... A>
void log_line(uint64_t mask, const char *fmt, A... args) {
    char buf[1024];
    if constexpr (sizeof...(A) == 0) std::snprintf(buf, sizeof buf, "%s", fmt);
    else std::snprintf(buf, sizeof buf, fmt, args...);
    host().log(mask, "%s\n", buf);
}
}  // namespace detail

// A guest_errors (-d guest_errors) line; cheap when the item is off.
template <class... A>
void guest_error(const char *fmt, A... args) {
    if (log_enabled(TS_LOG_GUEST_ERROR)) detail::log_line(TS_LOG_GUEST_ERROR, fmt, args...);
}
template <class... A>
void log_unimp(const char *fmt, A... args) {
    if (log_enabled(TS_LOG_UNIMP)) detail::log_line(TS_LOG_UNIMP, fmt, args...);
}

// Run f from a C callback that cannot report errors: an exception becomes
// an error line instead of unwinding into the kernel.
template <class F>
void contained(const char *what, F &&f) noexcept {
    try {
        f();
    } catch (const std::exception &e) {
        host().error_report("%s: %s", what, e.what());
    } catch (...) {
        host().error_report("%s: unknown error", what);
    }
}

// ---- Property declarations -------------------------------------------------

constexpr ts_prop_decl prop(const char *name, ts_prop_type type, const char *def,
                            const char *desc, int64_t min = 0, int64_t max = 0) {
    return ts_prop_decl{sizeof(ts_prop_decl), name, type, def, min, max, nullptr, nullptr, desc};
}
constexpr ts_prop_decl prop_uint(const char *name, const char *def, int64_t min, int64_t max,
                                 const char *desc) {
    return prop(name, TS_PROP_UINT, def, desc, min, max);
}
constexpr ts_prop_decl prop_int(const char *name, const char *def, int64_t min, int64_t max,
                                const char *desc) {
    return prop(name, TS_PROP_INT, def, desc, min, max);
}
constexpr ts_prop_decl prop_bool(const char *name, const char *def, const char *desc) {
    return prop(name, TS_PROP_BOOL, def, desc);
}
constexpr ts_prop_decl prop_str(const char *name, const char *def, const char *desc) {
    return prop(name, TS_PROP_STRING, def, desc);
}

// ---- State declarations ----------------------------------------------------

// One field of a standard-layout state struct S:
//   TS_FIELD(UartState, ier, TS_STATE_U8)  or  TS_FIELD_N(S, fifo, TS_STATE_BYTES, 16)
#define TS_FIELD(S, f, type) ts_state_field{#f, type, offsetof(S, f), 0}
#define TS_FIELD_N(S, f, type, n) ts_state_field{#f, type, offsetof(S, f), n}

template <size_t N>
constexpr ts_state_decl state_decl(const char *name, uint32_t version,
                                   const std::array<ts_state_field, N> &fields,
                                   ts_status (*post_load)(void *, ts_error *) = nullptr,
                                   void (*pre_save)(void *) = nullptr) {
    return ts_state_decl{sizeof(ts_state_decl), name, version, static_cast<uint32_t>(N),
                         fields.data(), pre_save, post_load};
}

// post_load hook calling T::post_load() on the instance (`self`), e.g. to
// re-arm timers or recompute IRQ lines:
//   ts::state_decl("goldfish_rtc", 1, fields, ts::post_load_hook<GoldfishRtc>)
template <class T>
ts_status post_load_hook(void *self, ts_error *err) {
    return guarded(err, [&] { static_cast<T *>(self)->post_load(); });
}

// pre_save hook calling T::pre_save() (e.g. to copy live state into T::s).
template <class T>
void pre_save_hook(void *self) {
    contained(T::type_name, [&] { static_cast<T *>(self)->pre_save(); });
}

// ---- The device base -------------------------------------------------------

class Device {
public:
    explicit Device(ts_object *obj) : obj_(obj) {}
    Device(const Device &) = delete;
    Device &operator=(const Device &) = delete;

    ts_object *object() const { return obj_; }
    const char *path() const {
        const char *p = host().object_path(obj_);
        return p ? p : "?";
    }

    // Properties, read after the kernel set them (i.e. in realize).
    uint64_t prop_uint(const char *name) const {
        uint64_t v = 0;
        if (host().prop_get_uint(obj_, name, &v) != TS_OK) missing(name);
        return v;
    }
    int64_t prop_int(const char *name) const {
        int64_t v = 0;
        if (host().prop_get_int(obj_, name, &v) != TS_OK) missing(name);
        return v;
    }
    bool prop_bool(const char *name) const {
        int v = 0;
        if (host().prop_get_bool(obj_, name, &v) != TS_OK) missing(name);
        return v != 0;
    }
    // Empty if unset.
    std::string_view prop_str(const char *name) const {
        const char *s = host().prop_get_str(obj_, name);
        return s ? std::string_view(s) : std::string_view();
    }

    // Creates an MMIO region with ops over `opaque` and exports it as the
    // device's next region (index 0, 1, ... in creation order).
    ts_region *add_mmio(const char *name, uint64_t size, const ts_mmio_ops &ops, void *opaque) {
        ts_region *r = host().region_mmio(obj_, name, size, &ops, opaque);
        if (!r) throw Error(std::string(name) + ": cannot create MMIO region");
        host().device_add_region(obj_, r);
        return r;
    }

private:
    [[noreturn]] void missing(const char *name) const {
        throw Error(std::string("property '") + name + "' is not set");
    }
    ts_object *obj_;
};

// ---- Class adapter ---------------------------------------------------------

namespace detail {
template <class T> concept HasRealize = requires(T &t) { t.realize(); };
template <class T> concept HasReset = requires(T &t) { t.reset(); };
template <class T> concept HasPlug = requires(T &t, ts_object *c) { t.plug(c); };
template <class T> concept HasUnplug = requires(T &t, ts_object *c) { t.unplug(c); };
template <class T> concept HasState = requires(T &t) { t.s; };
}  // namespace detail

// The ts_device_class for T: create = T(ts_object*), destroy deletes it,
// realize/reset/plug/unplug forward to members when T has them. State fields
// are relative to T::s.
template <class T>
constexpr ts_device_class device_class(std::span<const ts_prop_decl> props, const ts_state_decl *state,
                                       const char *bus_type = nullptr, bool user_creatable = true) {
    ts_object_class base{};
    base.size = sizeof(ts_object_class);
    base.props = props.data();
    base.prop_count = static_cast<uint32_t>(props.size());
    base.state = state;
    base.create = [](ts_object *obj, ts_error *err) -> void * {
        T *p = nullptr;
        guarded(err, [&] { p = std::make_unique<T>(obj).release(); });
        return p;
    };
    base.realize = [](void *self, ts_error *err) -> ts_status {
        if constexpr (detail::HasRealize<T>) return guarded(err, [&] { static_cast<T *>(self)->realize(); });
        else return TS_OK;
    };
    base.reset = [](void *self) {
        if constexpr (detail::HasReset<T>) contained(T::type_name, [&] { static_cast<T *>(self)->reset(); });
    };
    base.destroy = [](void *self) { std::unique_ptr<T>{static_cast<T *>(self)}; };
    base.state_base = [](void *self) -> void * {
        if constexpr (detail::HasState<T>) return &static_cast<T *>(self)->s;
        else return self;
    };
    ts_device_class c{};
    c.size = sizeof(ts_device_class);
    c.base = base;
    c.bus_type = bus_type;
    c.user_creatable = user_creatable ? 1 : 0;
    if constexpr (detail::HasPlug<T>)
        c.plug = [](void *self, ts_object *child, ts_error *err) -> ts_status {
            return guarded(err, [&] { static_cast<T *>(self)->plug(child); });
        };
    if constexpr (detail::HasUnplug<T>)
        c.unplug = [](void *self, ts_object *child) {
            contained(T::type_name, [&] { static_cast<T *>(self)->unplug(child); });
        };
    return c;
}

// A plugin with several types: get_class looks the name up in a table.
struct ClassEntry {
    std::string_view name;
    const void *cls;
};
inline const void *find_class(std::span<const ClassEntry> table, const char *name) {
    if (!name) return nullptr;
    for (const auto &e : table)
        if (e.name == name) return e.cls;
    return nullptr;
}

// ---- MMIO trampolines ------------------------------------------------------

// ops for T with members
//   uint64_t read(uint64_t offset, unsigned size);
//   void write(uint64_t offset, unsigned size, uint64_t value);
// A ts::Error thrown by either is a logged guest error and TS_MEMTX_ERROR.
template <class T>
constexpr ts_mmio_ops mmio_ops(uint8_t min_access = 1, uint8_t max_access = 8) {
    ts_mmio_ops ops{};
    ops.size = sizeof(ts_mmio_ops);
    ops.read = [](void *opaque, uint64_t off, unsigned size, uint64_t *value) noexcept -> ts_memtx {
        try {
            *value = static_cast<T *>(opaque)->read(off, size);
            return TS_MEMTX_OK;
        } catch (const std::exception &e) {
            guest_error("%s: read at 0x%llx: %s", T::type_name, static_cast<unsigned long long>(off), e.what());
            *value = 0;
            return TS_MEMTX_ERROR;
        }
    };
    ops.write = [](void *opaque, uint64_t off, unsigned size, uint64_t value) noexcept -> ts_memtx {
        try {
            static_cast<T *>(opaque)->write(off, size, value);
            return TS_MEMTX_OK;
        } catch (const std::exception &e) {
            guest_error("%s: write at 0x%llx: %s", T::type_name, static_cast<unsigned long long>(off), e.what());
            return TS_MEMTX_ERROR;
        }
    };
    ops.min_access = min_access;
    ops.max_access = max_access;
    ops.big_endian = 0;
    return ops;
}

// ---- IRQ outputs -----------------------------------------------------------

// One output line; remembers its level so repeated sets are free.
class IrqOut {
public:
    IrqOut() = default;
    explicit IrqOut(ts_irq *irq) : irq_(irq) {}
    // Always passed on, even when unchanged: after loadvm the kernel drives
    // every line to its saved level, so a level remembered here may be stale
    // (a deduplicated lower() would leave a restored line high).
    void set(bool level) {
        if (irq_) host().irq_set(irq_, level ? 1 : 0);
        level_ = level;
    }
    void raise() { set(true); }
    void lower() { set(false); }
    bool level() const { return level_; }

private:
    ts_irq *irq_ = nullptr;
    bool level_ = false;
};

// Declare an output group `name` of `count` lines and return handles for it.
inline std::vector<IrqOut> gpio_out(ts_object *obj, const char *name, int count) {
    if (!host().gpio_out_init(obj, name, count) && count > 0)
        throw Error(std::string("cannot create output lines '") + name + "'");
    std::vector<IrqOut> v;
    v.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; i++) v.emplace_back(host().gpio_out(obj, name, i));
    return v;
}

// Input lines `name` delivered to T::Fn(int line, int level).
template <auto Fn, class T>
void gpio_in(ts_object *obj, const char *name, int count, T *self) {
    ts_irq_handler h = [](void *opaque, int line, int level) {
        contained(T::type_name, [&] { (static_cast<T *>(opaque)->*Fn)(line, level); });
    };
    if (host().gpio_in_init(obj, name, count, h, self) != TS_OK)
        throw Error(std::string("cannot create input lines '") + name + "'");
}

// ---- Timers ----------------------------------------------------------------

// An owned host timer calling T::Fn() on expiry.
class Timer {
public:
    Timer() = default;
    template <auto Fn, class T>
    static Timer make(ts_clock clock, T *self) {
        Timer t;
        t.clock_ = clock;
        t.t_ = host().timer_new(
            clock, [](void *o) { contained("timer", [&] { (static_cast<T *>(o)->*Fn)(); }); }, self);
        if (!t.t_) throw Error("cannot create timer");
        return t;
    }
    Timer(Timer &&o) noexcept : t_(std::exchange(o.t_, nullptr)), clock_(o.clock_) {}
    Timer &operator=(Timer &&o) noexcept {
        if (this != &o) {
            reset();
            t_ = std::exchange(o.t_, nullptr);
            clock_ = o.clock_;
        }
        return *this;
    }
    ~Timer() { reset(); }

    void mod(int64_t deadline_ns) {
        if (t_) host().timer_mod(t_, deadline_ns);
    }
    void del() {
        if (t_) host().timer_del(t_);
    }
    int64_t now() const { return host().clock_ns(clock_); }
    ts_timer *handle() const { return t_; }

private:
    void reset() {
        if (t_) host().timer_free(std::exchange(t_, nullptr));
    }
    ts_timer *t_ = nullptr;
    ts_clock clock_ = TS_CLOCK_VIRTUAL;
};

// ---- Chardev front end -------------------------------------------------------

// Calls T::can_receive() -> size_t, T::receive(std::span<const uint8_t>) and,
// if present, T::chr_event(int).
class CharFrontend {
public:
    template <class T>
    static const ts_chardev_ops *ops_for() {
        static const ts_chardev_ops ops = {
            sizeof(ts_chardev_ops),
            [](void *o) -> size_t {
                size_t n = 0;
                contained(T::type_name, [&] { n = static_cast<T *>(o)->can_receive(); });
                return n;
            },
            [](void *o, const uint8_t *buf, size_t len) {
                contained(T::type_name, [&] { static_cast<T *>(o)->receive(std::span<const uint8_t>(buf, len)); });
            },
            [](void *o, int event) {
                if constexpr (requires(T &t) { t.chr_event(0); })
                    contained(T::type_name, [&] { static_cast<T *>(o)->chr_event(event); });
                else (void)o, (void)event;
            },
        };
        return &ops;
    }

    // The chardev named by property prop_name; or, if that is unset and
    // serial_index >= 0, serial port n. Unconnected is not an error.
    template <class T>
    void attach(T *self, const char *prop_name, int serial_index = -1) {
        ts_object *obj = self->object();
        const char *id = host().prop_get_str(obj, prop_name);
        if (id && *id) {
            ts_error err{};
            fe_ = host().chardev_attach(obj, prop_name, ops_for<T>(), self, &err);
            if (!fe_) throw Error(err.message);
        } else if (serial_index >= 0) {
            fe_ = host().serial_attach(static_cast<unsigned>(serial_index), ops_for<T>(), self);
        }
    }
    bool connected() const { return fe_ != nullptr; }
    // Bytes the backend took (all of them when unconnected: they are dropped).
    size_t write(std::span<const uint8_t> data) {
        return fe_ ? host().chardev_write(fe_, data.data(), data.size()) : data.size();
    }
    void accept_input() {
        if (fe_) host().chardev_accept_input(fe_);
    }

private:
    ts_chardev_fe *fe_ = nullptr;
};

}  // namespace ts
