// Puts an HMP instance on a chardev front end.
#include "monitor/hmp.hpp"

#include "chardev/registry.hpp"
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
    // On a mux the monitor speaks when it gets the focus (C-a c), as the
    // reference's does; elsewhere when the chardev opens.
    const bool muxed = chr->kind() == "mux";
    h.event = [raw, muxed](ChrEvent e) {
        if ((e == ChrEvent::Opened && !muxed) || e == ChrEvent::MuxIn) {
            if (!raw->banner_shown) raw->hmp->print_banner();
            raw->banner_shown = true;
            raw->hmp->prompt();
        }
    };
    m->fe = &chr->attach(std::move(h));
    if (!m->early.empty()) m->fe->write(std::exchange(m->early, {}));
    g_monitors.push_back(std::move(m));
}

}  // namespace tessera
