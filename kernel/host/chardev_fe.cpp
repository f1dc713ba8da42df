#include "host/chardev_fe.hpp"

#include "chardev/registry.hpp"
#include "qom/object.hpp"

#include <cstring>
#include <memory>
#include <vector>

struct ts_chardev_fe {
    tessera::ChrFrontend *fe;
};

namespace tessera {

namespace {
std::vector<std::string> g_serials;
std::vector<std::unique_ptr<ts_chardev_fe>> g_fes;

ts_chardev_fe *attach(Chardev &chr, const ts_chardev_ops *ops, void *opaque) {
    ChrHandlers h;
    if (ops->can_receive) h.can_receive = [ops, opaque] { return ops->can_receive(opaque); };
    if (ops->receive)
        h.receive = [ops, opaque](std::span<const uint8_t> d) { ops->receive(opaque, d.data(), d.size()); };
    if (ops->size >= offsetof(ts_chardev_ops, event) + sizeof(ops->event) && ops->event)
        h.event = [ops, opaque](ChrEvent e) {
            if (e == ChrEvent::Opened || e == ChrEvent::Closed || e == ChrEvent::Break) ops->event(opaque, int(e));
        };
    g_fes.push_back(std::make_unique<ts_chardev_fe>(ts_chardev_fe{&chr.attach(std::move(h))}));
    return g_fes.back().get();
}
}  // namespace

void serial_set_chardev(unsigned n, std::string id) {
    if (g_serials.size() <= n) g_serials.resize(n + 1);
    g_serials[n] = std::move(id);
}

ts_chardev_fe *chardev_fe_attach(ts_object *obj, const char *prop, const ts_chardev_ops *ops, void *opaque,
                                 ts_error *err) {
    auto *p = obj->find_prop(prop);
    if (!p || !p->value || p->value->empty()) {
        if (err) std::snprintf(err->message, sizeof err->message, "Property '%s' is not set", prop);
        return nullptr;
    }
    Chardev *chr = chardev_find(*p->value);
    if (!chr) {
        if (err)
            std::snprintf(err->message, sizeof err->message, "Property '%s.%s' can't find value '%s'",
                          obj->type->name.c_str(), prop, p->value->c_str());
        return nullptr;
    }
    return attach(*chr, ops, opaque);
}

ts_chardev_fe *chardev_fe_serial_attach(unsigned n, const ts_chardev_ops *ops, void *opaque) {
    if (n >= g_serials.size() || g_serials[n].empty()) return nullptr;
    Chardev *chr = chardev_find(g_serials[n]);
    return chr ? attach(*chr, ops, opaque) : nullptr;
}

size_t chardev_fe_write(ts_chardev_fe *fe, const uint8_t *buf, size_t len) {
    return fe ? fe->fe->write(std::span<const uint8_t>(buf, len)) : len;
}

void chardev_fe_accept_input(ts_chardev_fe *fe) {
    if (fe) fe->fe->accept_input();
}

}  // namespace tessera
