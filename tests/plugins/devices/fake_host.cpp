#include "fake_host.hpp"

#include <tessera/sdk/riscv_cpu.h>

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace fake {
namespace {

std::unique_ptr<Host> g_host;
ts_address_space *const kSystemAs = reinterpret_cast<ts_address_space *>(0x1000);

std::string vformat(const char *fmt, va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    return buf;
}

const ts_prop_decl *find_decl(ts_object *obj, const char *name) {
    if (!obj->cls) return nullptr;
    const auto &b = obj->cls->base;
    for (uint32_t i = 0; i < b.prop_count; i++)
        if (std::strcmp(b.props[i].name, name) == 0) return &b.props[i];
    return nullptr;
}

// The property's text: set value, else declared default, else nullptr.
const char *prop_text(ts_object *obj, const char *name) {
    auto it = obj->props.find(name);
    if (it != obj->props.end()) return it->second.c_str();
    const ts_prop_decl *d = find_decl(obj, name);
    return d ? d->default_value : nullptr;
}

// ---- host functions --------------------------------------------------------

void h_log(uint64_t mask, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = vformat(fmt, ap);
    va_end(ap);
    (void)mask;
    Host::get().logs.push_back(s);
}
void h_error_report(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Host::get().errors.push_back(vformat(fmt, ap));
    va_end(ap);
}
void h_error_set(ts_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = vformat(fmt, ap);
    va_end(ap);
    if (err) snprintf(err->message, sizeof err->message, "%s", s.c_str());
}

void *h_object_instance(ts_object *o) { return o->instance; }
const char *h_object_type(ts_object *o) { return o->type.c_str(); }
const char *h_object_id(ts_object *o) { return o->id.empty() ? nullptr : o->id.c_str(); }
const char *h_object_path(ts_object *o) { return o->path.c_str(); }

ts_status h_prop_get_bool(ts_object *o, const char *name, int *out) {
    const char *t = prop_text(o, name);
    if (!t) return TS_ERROR;
    std::string v = t;
    *out = v == "on";  // the kernel normalises booleans to on/off
    return TS_OK;
}
ts_status h_prop_get_int(ts_object *o, const char *name, int64_t *out) {
    const char *t = prop_text(o, name);
    if (!t) return TS_ERROR;
    *out = std::strtoll(t, nullptr, 10);  // normalised to decimal, like the kernel
    return TS_OK;
}
ts_status h_prop_get_uint(ts_object *o, const char *name, uint64_t *out) {
    const char *t = prop_text(o, name);
    if (!t) return TS_ERROR;
    *out = std::strtoull(t, nullptr, 10);
    return TS_OK;
}
const char *h_prop_get_str(ts_object *o, const char *name) { return prop_text(o, name); }

ts_status h_bus_add(ts_object *owner, const char *, const char *name, ts_error *) {
    owner->buses.push_back(name);
    return TS_OK;
}

ts_region *h_region_mmio(ts_object *, const char *name, uint64_t size, const ts_mmio_ops *ops, void *opaque) {
    auto r = std::make_unique<ts_region>(ts_region{name, size, *ops, opaque});
    Host::get().regions.push_back(std::move(r));
    return Host::get().regions.back().get();
}
void h_device_add_region(ts_object *obj, ts_region *r) { obj->regions.push_back(r); }
ts_region *h_device_region(ts_object *obj, unsigned i) {
    return i < obj->regions.size() ? obj->regions[i] : nullptr;
}
uint64_t h_region_size(ts_region *r) { return r->size; }
ts_address_space *h_system_as() { return kSystemAs; }

ts_memtx h_as_rw(ts_address_space *as, uint64_t addr, void *buf, uint64_t len, int is_write) {
    Host &h = Host::get();
    if (as != kSystemAs) return TS_MEMTX_DECODE_ERROR;
    if (addr < h.ram_base || addr - h.ram_base > h.ram.size() || len > h.ram.size() - (addr - h.ram_base))
        return TS_MEMTX_DECODE_ERROR;
    uint8_t *p = h.ram.data() + (addr - h.ram_base);
    if (is_write) std::memcpy(p, buf, len);
    else std::memcpy(buf, p, len);
    return TS_MEMTX_OK;
}

ts_status h_gpio_in_init(ts_object *obj, const char *name, int count, ts_irq_handler handler, void *opaque) {
    obj->ins[name] = {handler, opaque, count};
    return TS_OK;
}
ts_irq *h_gpio_out_init(ts_object *obj, const char *name, int count) {
    auto &v = obj->outs[name];
    v.clear();
    for (int i = 0; i < count; i++) v.push_back(std::make_unique<ts_irq>(ts_irq{obj, name, i}));
    return count ? v.front().get() : nullptr;
}
ts_irq *h_gpio_out(ts_object *obj, const char *name, int n) {
    auto it = obj->outs.find(name);
    if (it == obj->outs.end() || n < 0 || n >= static_cast<int>(it->second.size())) return nullptr;
    return it->second[static_cast<size_t>(n)].get();
}
void h_irq_set(ts_irq *irq, int level) {
    if (irq->level != level) irq->changes++;
    irq->level = level;
}

int64_t h_clock_ns(ts_clock c) { return Host::get().now(c); }
ts_timer *h_timer_new(ts_clock c, ts_timer_cb cb, void *opaque) {
    Host::get().timers.push_back(std::make_unique<ts_timer>(ts_timer{c, cb, opaque}));
    return Host::get().timers.back().get();
}
void h_timer_mod(ts_timer *t, int64_t deadline) { t->deadline = deadline; }
void h_timer_del(ts_timer *t) { t->deadline = -1; }
void h_timer_free(ts_timer *t) {
    auto &v = Host::get().timers;
    std::erase_if(v, [t](const auto &p) { return p.get() == t; });
}

unsigned h_cpu_count() { return static_cast<unsigned>(Host::get().cpus.size()); }
ts_object *h_cpu_get(unsigned i) {
    auto &v = Host::get().cpu_objects;
    return i < v.size() ? v[i].get() : nullptr;
}
void h_set_time_source(void *cpu, uint64_t (*read)(void *), void *opaque, uint64_t hz) {
    auto *c = static_cast<Cpu *>(cpu);
    c->read_time = read;
    c->time_opaque = opaque;
    c->timebase_hz = hz;
}
const ts_riscv_timer_v1 kTimerCap = {sizeof(ts_riscv_timer_v1), h_set_time_source};
const void *h_cpu_get_capability(ts_object *, const char *id) {
    return std::strcmp(id, TS_RISCV_TIMER_V1) == 0 ? &kTimerCap : nullptr;
}

void h_request_shutdown(int cause, int status) { Host::get().shutdowns.emplace_back(cause, status); }
void h_request_reset() { Host::get().resets++; }

ts_chardev_fe *attach(ts_chardev_fe &fe, const ts_chardev_ops *ops, void *opaque) {
    fe.ops = *ops;
    fe.opaque = opaque;
    return &fe;
}
ts_chardev_fe *h_chardev_attach(ts_object *obj, const char *prop, const ts_chardev_ops *ops, void *opaque,
                                ts_error *err) {
    const char *id = prop_text(obj, prop);
    if (!id) {
        h_error_set(err, "property '%s' not set", prop);
        return nullptr;
    }
    return attach(Host::get().chardev(id), ops, opaque);
}
ts_chardev_fe *h_serial_attach(unsigned n, const ts_chardev_ops *ops, void *opaque) {
    return attach(Host::get().serial(n), ops, opaque);
}
size_t h_chardev_write(ts_chardev_fe *fe, const uint8_t *buf, size_t len) {
    size_t n = std::min(len, fe->accept_budget);
    if (fe->accept_budget != SIZE_MAX) fe->accept_budget -= n;
    fe->output.append(reinterpret_cast<const char *>(buf), n);
    return n;
}
void h_chardev_accept_input(ts_chardev_fe *fe) { fe->accept_input_calls++; }

ts_block_be *h_block_attach(ts_object *obj, const char *prop, ts_error *err) {
    const char *id = prop_text(obj, prop);
    if (!id) {
        h_error_set(err, "drive property '%s' not set", prop);
        return nullptr;
    }
    return &Host::get().drive(id);
}
ts_status h_block_pread(ts_block_be *be, uint64_t off, void *buf, size_t len, ts_error *err) {
    if (off > be->data.size() || len > be->data.size() - off) {
        h_error_set(err, "read beyond end of image");
        return TS_ERROR;
    }
    std::memcpy(buf, be->data.data() + off, len);
    return TS_OK;
}
ts_status h_block_pwrite(ts_block_be *be, uint64_t off, const void *buf, size_t len, ts_error *err) {
    if (be->read_only || off > be->data.size() || len > be->data.size() - off) {
        h_error_set(err, "write refused");
        return TS_ERROR;
    }
    std::memcpy(be->data.data() + off, buf, len);
    return TS_OK;
}
ts_status h_block_flush(ts_block_be *be, ts_error *) {
    be->flushes++;
    return TS_OK;
}
uint64_t h_block_length(ts_block_be *be) { return be->data.size(); }
int h_block_read_only(ts_block_be *be) { return be->read_only; }

}  // namespace

Host::Host() {
    table_.size = sizeof(ts_host);
    table_.abi_major = TESSERA_ABI_MAJOR;
    table_.abi_minor = TESSERA_ABI_MINOR;
    table_.log_mask = &log_mask;
    table_.log = h_log;
    table_.error_report = h_error_report;
    table_.error_set = h_error_set;
    table_.object_instance = h_object_instance;
    table_.object_type = h_object_type;
    table_.object_id = h_object_id;
    table_.object_path = h_object_path;
    table_.prop_get_bool = h_prop_get_bool;
    table_.prop_get_int = h_prop_get_int;
    table_.prop_get_uint = h_prop_get_uint;
    table_.prop_get_str = h_prop_get_str;
    table_.bus_add = h_bus_add;
    table_.region_mmio = h_region_mmio;
    table_.region_size = h_region_size;
    table_.device_add_region = h_device_add_region;
    table_.device_region = h_device_region;
    table_.system_as = h_system_as;
    table_.as_rw = h_as_rw;
    table_.gpio_in_init = h_gpio_in_init;
    table_.gpio_out_init = h_gpio_out_init;
    table_.gpio_out = h_gpio_out;
    table_.irq_set = h_irq_set;
    table_.clock_ns = h_clock_ns;
    table_.timer_new = h_timer_new;
    table_.timer_mod = h_timer_mod;
    table_.timer_del = h_timer_del;
    table_.timer_free = h_timer_free;
    table_.cpu_count = h_cpu_count;
    table_.cpu_get = h_cpu_get;
    table_.cpu_get_capability = h_cpu_get_capability;
    table_.request_shutdown = h_request_shutdown;
    table_.request_reset = h_request_reset;
    table_.chardev_attach = h_chardev_attach;
    table_.serial_attach = h_serial_attach;
    table_.chardev_write = h_chardev_write;
    table_.chardev_accept_input = h_chardev_accept_input;
    table_.block_attach = h_block_attach;
    table_.block_pread = h_block_pread;
    table_.block_pwrite = h_block_pwrite;
    table_.block_flush = h_block_flush;
    table_.block_length = h_block_length;
    table_.block_read_only = h_block_read_only;
}

Host &Host::reset() {
    g_host.reset(new Host());  // private constructor
    return *g_host;
}
Host &Host::get() { return *g_host; }

void Host::advance(ts_clock c, int64_t ns) {
    int64_t target = clock_[c] + ns;
    for (;;) {
        ts_timer *next = nullptr;
        for (auto &t : timers)
            if (t->clock == c && t->deadline >= 0 && t->deadline <= target &&
                (!next || t->deadline < next->deadline))
                next = t.get();
        if (!next) break;
        clock_[c] = std::max(clock_[c], next->deadline);
        next->deadline = -1;
        next->cb(next->opaque);
    }
    clock_[c] = target;
}

uint64_t Host::read(ts_object *obj, uint64_t off, unsigned size, unsigned region) {
    ts_region *r = obj->regions.at(region);
    EXPECT_LT(off, r->size) << "read outside region " << r->name;
    uint64_t v = 0;
    last_tx = r->ops.read(r->opaque, off, size, &v);
    return v;
}
void Host::write(ts_object *obj, uint64_t off, uint64_t value, unsigned size, unsigned region) {
    ts_region *r = obj->regions.at(region);
    EXPECT_LT(off, r->size) << "write outside region " << r->name;
    last_tx = r->ops.write(r->opaque, off, size, value);
}

int Host::irq(ts_object *obj, const std::string &group, int n) {
    ts_irq *i = h_gpio_out(obj, group.c_str(), n);
    if (!i) throw std::runtime_error("no output line " + group);
    return i->level;
}
int Host::irq_changes(ts_object *obj, const std::string &group, int n) {
    ts_irq *i = h_gpio_out(obj, group.c_str(), n);
    if (!i) throw std::runtime_error("no output line " + group);
    return i->changes;
}
void Host::set_input(ts_object *obj, const std::string &group, int n, int level) {
    auto &in = obj->ins.at(group);
    ASSERT_LT(n, in.count);
    in.handler(in.opaque, n, level);
}

void Host::add_cpus(unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        cpus.push_back(std::make_unique<Cpu>());
        auto o = std::make_unique<ts_object>();
        o->type = "rv64";
        o->path = "/machine/cpu" + std::to_string(i);
        o->instance = cpus.back().get();
        cpu_objects.push_back(std::move(o));
    }
}

bool Host::log_contains(const std::string &needle) const {
    return std::any_of(logs.begin(), logs.end(), [&](const auto &l) { return l.find(needle) != l.npos; });
}

ts_object *Host::new_object(const std::string &type, const ts_device_class *cls) {
    auto o = std::make_unique<ts_object>();
    o->type = type;
    o->cls = cls;
    o->path = "/machine/unattached/" + type + "[" + std::to_string(objects.size()) + "]";
    objects.push_back(std::move(o));
    return objects.back().get();
}

// ---- Plugin ------------------------------------------------------------------

Plugin::Plugin(const std::string &path) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    desc_ = static_cast<const ts_plugin_descriptor *>(dlsym(handle_, TESSERA_DESCRIPTOR_SYMBOL));
    if (!desc_) throw std::runtime_error("no descriptor in " + path);
    ts_error err{};
    if (desc_->init(Host::get().table(), &err) != TS_OK) throw std::runtime_error(err.message);
}

Plugin::~Plugin() {
    destroy_all();
    if (desc_ && desc_->fini) desc_->fini();
    if (handle_) dlclose(handle_);
}

void Plugin::destroy_all() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it)
        (*it)->cls->base.destroy((*it)->instance);
    created_.clear();
}

const ts_device_class *Plugin::device_class(const std::string &type) const {
    return static_cast<const ts_device_class *>(desc_->get_class(type.c_str()));
}

std::string Plugin::try_create(const std::string &type, const std::map<std::string, std::string> &props,
                               ts_object **out) {
    const ts_device_class *cls = device_class(type);
    if (!cls) return "no class for " + type;
    ts_object *obj = Host::get().new_object(type, cls);
    ts_error err{};
    obj->instance = cls->base.create(obj, &err);
    if (!obj->instance) return err.message;
    created_.push_back(obj);
    obj->props = props;
    if (cls->base.realize(obj->instance, &err) != TS_OK) return err.message;
    if (cls->base.reset) cls->base.reset(obj->instance);
    if (out) *out = obj;
    return "";
}

ts_object *Plugin::create(const std::string &type, const std::map<std::string, std::string> &props) {
    ts_object *obj = nullptr;
    std::string err = try_create(type, props, &obj);
    EXPECT_EQ(err, "") << "creating " << type;
    if (!obj) throw std::runtime_error("cannot create " + type + ": " + err);
    return obj;
}

ts_object *Plugin::create_on_bus(ts_object *parent, const std::string &type,
                                 const std::map<std::string, std::string> &props) {
    ts_object *child = create(type, props);
    ts_error err{};
    EXPECT_EQ(parent->cls->plug(parent->instance, child, &err), TS_OK) << err.message;
    child->plugged_into = parent;
    return child;
}

}  // namespace fake
