// The object registry: types (from plugins and built into the kernel), the
// instance tree with canonical paths, typed properties declared once.
#pragma once

#include "plugins/manifest.hpp"

#include <tessera/classes.h>
#include <tessera/host.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// A type the kernel can instantiate, with its class once known.
struct TypeImpl {
    std::string name;
    TypeKind kind;
    std::string parent, category, description;
    std::string provider;            // plugin file, or "built-in"
    const void *cls = nullptr;       // kind-specific class, loaded lazily for plugins
    const ts_object_class *object_class() const;
};

// Looks a type up (plugins and built-ins) and makes sure its class is
// loaded; throws UsageError naming what is missing. what: the option for
// messages ("-device").
const TypeImpl &type_get(std::string_view name, std::string_view what);
const TypeImpl *type_find_loaded(std::string_view name);
// Registers a kernel built-in type (machine none, memory backends, ...).
void type_register_builtin(TypeImpl t);
// All known types of a kind, plugins' without loading them.
struct TypeSummary {
    std::string name, category, description, provider;
    TypeKind kind;
};
std::vector<TypeSummary> types_of_kind(TypeKind kind);

void set_host_table(const ts_host *host);
const ts_host *host_table();

// Globals from -global DRIVER.PROP=VALUE, applied when an object is created.
void global_prop_add(std::string driver, std::string prop, std::string value);

// Checks and normalises a property value against its declaration; throws
// UsageError ("Parameter 'x' expects ...").
std::string prop_normalise(std::string_view type_name, const ts_prop_decl &d, std::string_view value);
// The help listing of a type's properties, as -device T,help prints it.
std::string props_help(const TypeImpl &t);

}  // namespace tessera

struct ts_irq {
    ts_irq_handler handler = nullptr;
    void *opaque = nullptr;
    int line = 0;
    int level = 0;
};

struct ts_object {
    const tessera::TypeImpl *type = nullptr;
    std::string id;
    std::string name;                     // name under parent
    ts_object *parent = nullptr;
    std::vector<std::unique_ptr<ts_object>> children;
    void *instance = nullptr;
    bool realized = false;
    std::string path;
    struct Prop {
        const ts_prop_decl *decl;
        std::optional<std::string> value; // normalised text
    };
    std::vector<Prop> props;
    struct GpioIn {
        ts_irq_handler handler;
        void *opaque;
        int count;
    };
    std::map<std::string, GpioIn, std::less<>> gpio_in;
    std::map<std::string, std::vector<std::unique_ptr<ts_irq>>, std::less<>> gpio_out;
    std::vector<ts_region *> regions;
    struct Bus {
        std::string type, name;
        std::vector<ts_object *> children;
    };
    std::vector<Bus> buses;
    ts_object *bus_parent = nullptr;

    Prop *find_prop(std::string_view n);
    ~ts_object();
};

namespace tessera {

ts_object *object_root();            // "/"
ts_object *object_machine();         // "/machine" (created by the machine setup)
ts_object *object_container(std::string_view path);  // created on demand
ts_object *object_resolve(std::string_view path);
ts_object *object_find_by_id(std::string_view id);
// Creates an unrealized instance. parent null: /machine/unattached.
ts_object *object_new(ts_object *parent, std::string_view type, std::string_view id, std::string_view what);
// Same, with an explicit name under parent (the board is "/machine").
ts_object *object_new_named(ts_object *parent, std::string_view type, std::string_view name);
void object_set_prop(ts_object *obj, std::string_view name, std::string_view value);
void object_realize(ts_object *obj);
void object_reset_all();
std::string object_tree_text();      // info qtree-like dump

}  // namespace tessera
