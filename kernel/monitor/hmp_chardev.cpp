// Puts an HMP instance on a chardev front end.
#include "monitor/hmp.hpp"

#include "chardev/registry.hpp"
#include "loop/main_loop.hpp"
#include "options/keyval.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace tessera {

namespace {
struct HmpOnChardev {
    ChrFrontend *fe = nullptr;
    std::unique_ptr<Hmp> hmp;
    bool banner_shown = false;
    bool focused = false;
    Bh *bh = nullptr;
    void (*bh_fn)(void *) = nullptr;
    std::string early;
};
std::vector<std::unique_ptr<HmpOnChardev>> g_monitors;
}  // namespace

void monitor_hmp_start(const std::string &chardev_id) {
    Chardev *chr = chardev_find(chardev_id);
    if (!chr) throw UsageError("-monitor: chardev '" + chardev_id + "' not found");
    auto m = std::make_unique<HmpOnChardev>();
    HmpOnChardev *raw = m.get();
    m->hmp = std::make_unique<Hmp>([raw](std::string_view s) {
        if (raw->fe) raw->fe->write(s);
        else raw->early += s;  // said while attaching (the Opened event)
    });
    ChrHandlers h;
    h.can_receive = [] { return size_t(256); };
    h.receive = [raw](std::span<const uint8_t> d) {
        raw->hmp->input(std::string_view(reinterpret_cast<const char *>(d.data()), d.size()));
    };
    // On a mux the monitor speaks once it has the focus (C-a c). The check is
    // deferred to the main loop: at start-up the serial port attaches after
    // the monitor and takes the focus back, and then nothing is printed, as
    // with the reference.
    const bool muxed = chr->kind() == "mux";
    raw->bh_fn = [](void *o) {
            auto *self = static_cast<HmpOnChardev *>(o);
            if (!self->focused) return;
            if (!self->banner_shown) self->hmp->print_banner();
            self->banner_shown = true;
            self->hmp->prompt();
    };
    raw->bh = MainLoop::instance().bh_new(raw->bh_fn, raw);
    h.event = [raw, muxed](ChrEvent e) {
        if (e == ChrEvent::MuxOut) raw->focused = false;
        if (e == ChrEvent::Opened && !muxed) {
            raw->focused = true;
            raw->bh_fn(raw);  // speak now: input may already be waiting
        } else if (e == ChrEvent::MuxIn) {
            raw->focused = true;
            MainLoop::instance().bh_schedule(raw->bh);
        }
    };
    m->fe = &chr->attach(std::move(h));
    if (!m->early.empty()) m->fe->write(std::exchange(m->early, {}));
    g_monitors.push_back(std::move(m));
}

}  // namespace tessera
