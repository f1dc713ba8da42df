#include "qom/object.hpp"

#include "options/keyval.hpp"
#include "plugins/registry.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace tessera {

namespace {

std::map<std::string, std::unique_ptr<TypeImpl>, std::less<>> &types() {
    static std::map<std::string, std::unique_ptr<TypeImpl>, std::less<>> t;
    return t;
}
const ts_host *g_host = nullptr;

struct Global {
    std::string driver, prop, value;
};
std::vector<Global> &globals() {
    static std::vector<Global> g;
    return g;
}

std::unique_ptr<ts_object> &root_slot() {
    static std::unique_ptr<ts_object> r;
    return r;
}

}  // namespace

const ts_object_class *TypeImpl::object_class() const {
    if (!cls) return nullptr;
    switch (kind) {
    case TypeKind::Device: return &static_cast<const ts_device_class *>(cls)->base;
    case TypeKind::Cpu: return &static_cast<const ts_cpu_class *>(cls)->base;
    case TypeKind::Board: return &static_cast<const ts_board_class *>(cls)->base;
    case TypeKind::Block: return &static_cast<const ts_block_driver_class *>(cls)->base;
    case TypeKind::Netdev: return &static_cast<const ts_netdev_class *>(cls)->base;
    case TypeKind::Object: return static_cast<const ts_object_class *>(cls);
    default: return nullptr;
    }
}

void set_host_table(const ts_host *host) { g_host = host; }
const ts_host *host_table() { return g_host; }

void type_register_builtin(TypeImpl t) {
    t.provider = "built-in";
    auto name = t.name;
    types()[name] = std::make_unique<TypeImpl>(std::move(t));
}

const TypeImpl *type_find_loaded(std::string_view name) {
    auto it = types().find(name);
    return it == types().end() ? nullptr : it->second.get();
}

const TypeImpl &type_get(std::string_view name, std::string_view what) {
    if (auto *t = type_find_loaded(name)) return *t;
    const TypeEntry *e = plugin_registry().find(name);
    if (!e) {
        if (const PluginFile *pf = plugin_registry().refused_provider(name))
            throw UsageError(std::string(what) + " '" + std::string(name) + "': its plugin " + pf->path +
                             " was refused: " + pf->refused);
    }
    if (!e) throw UsageError(plugin_registry().missing_type_message(what, name));
    const void *cls = plugin_registry().load_class(*e, g_host);
    auto t = std::make_unique<TypeImpl>();
    t->name = e->type->name;
    t->kind = e->type->kind;
    t->parent = e->type->parent;
    t->category = e->type->category;
    t->description = e->type->description;
    t->provider = e->plugin->path;
    t->cls = cls;
    auto &slot = types()[t->name];
    slot = std::move(t);
    return *slot;
}

std::vector<TypeSummary> types_of_kind(TypeKind kind) {
    std::vector<TypeSummary> out;
    for (const auto &[n, t] : types())
        if (t->kind == kind) out.push_back({t->name, t->category, t->description, t->provider, t->kind});
    for (const TypeEntry *e : plugin_registry().of_kind(kind)) {
        if (type_find_loaded(e->type->name)) continue;
        out.push_back({e->type->name, e->type->category, e->type->description, e->plugin->path, kind});
    }
    std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.name < b.name; });
    return out;
}

void global_prop_add(std::string driver, std::string prop, std::string value) {
    globals().push_back({std::move(driver), std::move(prop), std::move(value)});
}

static std::string_view prop_type_name(ts_prop_type t) {
    switch (t) {
    case TS_PROP_BOOL: return "bool";
    case TS_PROP_INT: return "int64";
    case TS_PROP_UINT: return "uint64";
    case TS_PROP_SIZE: return "size";
    case TS_PROP_STRING: return "str";
    case TS_PROP_ENUM: return "enum";
    case TS_PROP_LINK: return "link";
    case TS_PROP_CHARDEV: return "chr";
    case TS_PROP_DRIVE: return "drive";
    case TS_PROP_NETDEV: return "netdev";
    case TS_PROP_MACADDR: return "macaddr";
    }
    return "?";
}

std::string prop_normalise(std::string_view type_name, const ts_prop_decl &d, std::string_view value) {
    auto expects = [&](std::string_view what) {
        return UsageError("Parameter '" + std::string(d.name) + "' expects " + std::string(what));
    };
    auto range_check = [&](auto v) {
        if (d.min == 0 && d.max == 0) return;
        if (v < static_cast<decltype(v)>(d.min) || v > static_cast<decltype(v)>(d.max))
            throw UsageError("Property '" + std::string(type_name) + "." + d.name + "' doesn't take value '" +
                             std::string(value) + "' (minimum: " + std::to_string(d.min) +
                             ", maximum: " + std::to_string(d.max) + ")");
    };
    switch (d.type) {
    case TS_PROP_BOOL:
        try {
            return parse_bool(value) ? "on" : "off";
        } catch (const UsageError &) {
            throw expects("'on' or 'off'");
        }
    case TS_PROP_INT: {
        int64_t v;
        try { v = parse_int(value); } catch (const UsageError &) { throw expects("int64"); }
        range_check(v);
        return std::to_string(v);
    }
    case TS_PROP_UINT: {
        uint64_t v;
        try { v = parse_uint(value); } catch (const UsageError &) { throw expects("uint64"); }
        range_check(v);
        return std::to_string(v);
    }
    case TS_PROP_SIZE: {
        uint64_t v;
        try { v = parse_size(value); } catch (const UsageError &) { throw expects("a non-negative size"); }
        range_check(v);
        return std::to_string(v);
    }
    case TS_PROP_ENUM: {
        std::string allowed;
        for (auto *e = d.enum_values; e && *e; e++) {
            if (value == *e) return std::string(value);
            allowed += (allowed.empty() ? "" : ", ") + std::string(*e);
        }
        throw UsageError("Parameter '" + std::string(d.name) + "' does not accept value '" + std::string(value) +
                         "' (one of: " + allowed + ")");
    }
    case TS_PROP_MACADDR: {
        unsigned b[6];
        char tail;
        if (value.size() != 17 ||
            sscanf(std::string(value).c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                   &b[5], &tail) != 6)
            throw UsageError("Property '" + std::string(type_name) + "." + d.name + "' doesn't take value '" +
                             std::string(value) + "'");
        return std::string(value);
    }
    default:
        return std::string(value);
    }
}

std::string props_help(const TypeImpl &t) {
    std::ostringstream o;
    const ts_object_class *oc = t.object_class();
    if (!oc || oc->prop_count == 0) {
        o << "There are no options for " << t.name << ".\n";
        return o.str();
    }
    o << t.name << " options:\n";
    std::vector<const ts_prop_decl *> ds;
    for (uint32_t i = 0; i < oc->prop_count; i++) ds.push_back(&oc->props[i]);
    std::sort(ds.begin(), ds.end(), [](auto a, auto b) { return std::strcmp(a->name, b->name) < 0; });
    for (auto *d : ds) {
        std::string left = std::string("  ") + d->name + "=<" + std::string(prop_type_name(d->type)) + ">";
        o << left;
        std::string right;
        if (d->description) right = d->description;
        if (d->default_value) right += std::string(right.empty() ? "" : " ") + "(default: " + d->default_value + ")";
        if (!right.empty()) o << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << "- " << right;
        o << "\n";
    }
    return o.str();
}

}  // namespace tessera

ts_object::Prop *ts_object::find_prop(std::string_view n) {
    for (auto &p : props)
        if (n == p.decl->name) return &p;
    return nullptr;
}

ts_object::~ts_object() {
    // Children first, then ourselves; plugin instances are destroyed by their class.
    children.clear();
    if (instance && type) {
        if (const ts_object_class *oc = type->object_class(); oc && oc->destroy) oc->destroy(instance);
    }
}

namespace tessera {

ts_object *object_root() {
    auto &r = root_slot();
    if (!r) {
        r = std::make_unique<ts_object>();
        r->path = "/";
    }
    return r.get();
}

static ts_object *child_named(ts_object *parent, std::string_view name) {
    for (auto &c : parent->children)
        if (c->name == name) return c.get();
    return nullptr;
}

static ts_object *add_child(ts_object *parent, std::unique_ptr<ts_object> o, std::string name) {
    o->name = std::move(name);
    o->parent = parent;
    o->path = (parent->path == "/" ? "" : parent->path) + "/" + o->name;
    parent->children.push_back(std::move(o));
    return parent->children.back().get();
}

ts_object *object_container(std::string_view path) {
    ts_object *cur = object_root();
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        size_t s = path.find('/');
        std::string_view part = path.substr(0, s);
        path.remove_prefix(s == std::string_view::npos ? path.size() : s);
        ts_object *c = child_named(cur, part);
        if (!c) c = add_child(cur, std::make_unique<ts_object>(), std::string(part));
        cur = c;
    }
    return cur;
}

ts_object *object_machine() { return object_container("/machine"); }

ts_object *object_resolve(std::string_view path) {
    ts_object *cur = object_root();
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        size_t s = path.find('/');
        cur = child_named(cur, path.substr(0, s));
        if (!cur) return nullptr;
        path.remove_prefix(s == std::string_view::npos ? path.size() : s);
    }
    return cur;
}

static ts_object *find_id(ts_object *o, std::string_view id) {
    if (!o->id.empty() && o->id == id && o->type) return o;
    for (auto &c : o->children)
        if (auto *f = find_id(c.get(), id)) return f;
    return nullptr;
}

ts_object *object_find_by_id(std::string_view id) { return find_id(object_root(), id); }

static ts_object *object_new_impl(ts_object *parent, std::string_view type, std::string_view id,
                                  std::string_view what, std::string name);

ts_object *object_new(ts_object *parent, std::string_view type, std::string_view id, std::string_view what) {
    return object_new_impl(parent, type, id, what, {});
}

ts_object *object_new_named(ts_object *parent, std::string_view type, std::string_view name) {
    return object_new_impl(parent, type, {}, "-machine", std::string(name));
}

static ts_object *object_new_impl(ts_object *parent, std::string_view type, std::string_view id,
                                  std::string_view what, std::string name) {
    const TypeImpl &t = type_get(type, what);
    const ts_object_class *oc = t.object_class();
    if (!oc || !oc->create)
        throw UsageError(std::string(what) + " '" + t.name + "': type cannot be instantiated");
    if (!id.empty() && object_find_by_id(id))
        throw UsageError(std::string(what) + " '" + t.name + "': Duplicate ID '" + std::string(id) + "'");
    auto o = std::make_unique<ts_object>();
    o->type = &t;
    o->id = std::string(id);
    for (uint32_t i = 0; i < oc->prop_count; i++) {
        ts_object::Prop p{&oc->props[i], std::nullopt};
        // Defaults go through the same normalisation as user values, so a
        // "0x1000" default reads back as 4096.
        if (p.decl->default_value) p.value = prop_normalise(t.name, *p.decl, p.decl->default_value);
        o->props.push_back(p);
    }
    if (!name.empty()) {
    } else if (!parent) {
        if (!id.empty()) {
            parent = object_container(t.kind == TypeKind::Object ? "/objects" : "/machine/peripheral");
            name = std::string(id);
        } else {
            parent = object_container("/machine/unattached");
        }
    } else if (!id.empty()) {
        name = std::string(id);
    }
    if (name.empty()) {
        static unsigned counter = 0;
        name = (t.kind == TypeKind::Cpu ? "cpu[" : "device[") + std::to_string(counter++) + "]";
    }
    ts_object *obj = add_child(parent, std::move(o), name);
    for (const auto &g : globals())
        if (g.driver == t.name) object_set_prop(obj, g.prop, g.value);
    ts_error err{};
    obj->instance = oc->create(obj, &err);
    if (!obj->instance) {
        std::string msg = std::string(what) + " '" + t.name + "': " + err.message;
        auto &sib = parent->children;
        sib.erase(std::find_if(sib.begin(), sib.end(), [&](auto &c) { return c.get() == obj; }));
        throw UsageError(msg);
    }
    return obj;
}

void object_set_prop(ts_object *obj, std::string_view name, std::string_view value) {
    auto *p = obj->find_prop(name);
    if (!p)
        throw UsageError("Property '" + obj->type->name + "." + std::string(name) + "' not found");
    if (obj->realized)
        throw UsageError("Property '" + obj->type->name + "." + std::string(name) +
                         "' cannot be set after the device is realized");
    p->value = prop_normalise(obj->type->name, *p->decl, value);
}

void object_realize(ts_object *obj) {
    if (obj->realized) return;
    const ts_object_class *oc = obj->type->object_class();
    ts_error err{};
    if (oc->realize && oc->realize(obj->instance, &err) != TS_OK) {
        std::string who = obj->id.empty() ? obj->type->name : "'" + obj->id + "' (" + obj->type->name + ")";
        throw UsageError("Device " + who + ": " + err.message);
    }
    obj->realized = true;
}

static void reset_tree(ts_object *o) {
    if (o->type && o->realized) {
        const ts_object_class *oc = o->type->object_class();
        if (oc && oc->reset) oc->reset(o->instance);
    }
    for (auto &c : o->children) reset_tree(c.get());
}

void object_reset_all() { reset_tree(object_root()); }

static void tree_text(ts_object *o, int depth, std::ostringstream &out) {
    out << std::string(size_t(depth) * 2, ' ') << (o->name.empty() ? "/" : o->name);
    if (o->type) out << " (" << o->type->name << ")";
    out << "\n";
    for (auto &c : o->children) tree_text(c.get(), depth + 1, out);
}

std::string object_tree_text() {
    std::ostringstream o;
    tree_text(object_root(), 0, o);
    return o.str();
}

}  // namespace tessera
