#include "chardev/mux.hpp"

#include "loop/clock.hpp"
#include "options/keyval.hpp"

#include <cstdio>

namespace tessera {
namespace {
MuxHooks g_hooks;
int g_escape_char = 0x01;  // C-a

// The reference's help, '%' standing for the escape key's name.
constexpr std::string_view kHelp[] = {
    "% h    print this help\n\r",
    "% x    exit emulator\n\r",
    "% s    save disk data back to file (if -snapshot)\n\r",
    "% t    toggle console timestamps\n\r",
    "% b    send break (magic sysrq)\n\r",
    "% c    switch between console and monitor\n\r",
    "% %  sends %\n\r",
};
}  // namespace

void mux_set_hooks(MuxHooks hooks) { g_hooks = std::move(hooks); }
void mux_set_escape_char(int ch) { g_escape_char = ch; }
int mux_escape_char() { return g_escape_char; }

MuxChardev::MuxChardev(std::string id, Chardev &base) : Chardev(std::move(id)), base_(base)
{
    base_fe_ = &base_.attach(ChrHandlers{
        [this] { return can_receive(); },
        [this](std::span<const uint8_t> d) { receive(d); },
        [this](ChrEvent ev) { on_event(ev); },
    });
    if (base_.is_open())
        set_open(true);
}

MuxChardev::~MuxChardev()
{
    if (base_fe_)
        base_fe_->detach();
}

ChrFrontend &MuxChardev::attach(ChrHandlers handlers)
{
    if (frontends_.size() >= kMaxFrontends)
        throw UsageError("too many uses of multiplexed chardev '" + id() + "'");
    unsigned tag = unsigned(frontends_.size());
    frontends_.emplace_back(new ChrFrontend(this, tag, std::move(handlers)));
    ChrFrontend &f = *frontends_.back();
    if (is_open() && handlers_of(f).event)
        handlers_of(f).event(ChrEvent::Opened);
    set_focus(tag);
    return f;
}

void MuxChardev::set_focus(unsigned tag)
{
    flush(focus_);  // what was typed before the switch belongs to the old focus
    if (ChrFrontend *old = fe(focus_); old && focus_ != tag && handlers_of(*old).event)
        handlers_of(*old).event(ChrEvent::MuxOut);
    focus_ = tag;
    if (ChrFrontend *now = fe(focus_); now && handlers_of(*now).event)
        handlers_of(*now).event(ChrEvent::MuxIn);
    base_fe_->accept_input();
}

size_t MuxChardev::backend_write(std::span<const uint8_t> data) { return base_fe_->write(data); }

size_t MuxChardev::frontend_write(unsigned, std::span<const uint8_t> data)
{
    if (!timestamps_)
        return base_fe_->write(data);
    // Prefix each line with the time since timestamps were switched on.
    for (uint8_t ch : data) {
        if (line_start_) {
            int64_t ms = clock_ns(Clock::Realtime) / 1'000'000;
            if (timestamps_start_ < 0)
                timestamps_start_ = ms;
            ms -= timestamps_start_;
            int64_t secs = ms / 1000;
            char stamp[64];
            std::snprintf(stamp, sizeof stamp, "[%02d:%02d:%02d.%03d] ", int(secs / 3600), int(secs / 60 % 60),
                          int(secs % 60), int(ms % 1000));
            send_to_base(stamp);
            line_start_ = false;
        }
        base_fe_->write(std::span(&ch, 1));
        if (ch == '\n')
            line_start_ = true;
    }
    return data.size();
}

void MuxChardev::frontend_accept_input(unsigned tag)
{
    flush(tag);
    base_fe_->accept_input();
}

void MuxChardev::frontend_detach(unsigned tag)
{
    if (tag < frontends_.size()) {
        // Keep the other tags stable: leave an empty slot.
        frontends_[tag].reset();
        queues_[tag].clear();
    }
}

void MuxChardev::frontend_event(ChrEvent ev)
{
    for (auto &f : frontends_)
        if (f && handlers_of(*f).event)
            handlers_of(*f).event(ev);
}

size_t MuxChardev::can_receive()
{
    // Room in the focused queue; escape sequences are handled even when the
    // front end is busy, since they are never queued.
    if (!fe(focus_))
        return 0;
    return kQueue - queues_[focus_].size();
}

void MuxChardev::receive(std::span<const uint8_t> data)
{
    for (uint8_t ch : data)
        if (process_byte(ch) && fe(focus_) && queues_[focus_].size() < kQueue)
            queues_[focus_].push_back(ch);
    flush(focus_);
}

void MuxChardev::on_event(ChrEvent ev)
{
    if (ev == ChrEvent::Opened || ev == ChrEvent::Closed)
        set_open(ev == ChrEvent::Opened);  // broadcasts through frontend_event
    else if (ChrFrontend *f = fe(focus_); f && handlers_of(*f).event)
        handlers_of(*f).event(ev);
}

void MuxChardev::flush(unsigned tag)
{
    ChrFrontend *f = fe(tag);
    if (!f)
        return;
    auto &q = queues_[tag];
    auto &h = handlers_of(*f);
    while (!q.empty()) {
        size_t room = std::min(h.can_receive ? h.can_receive() : q.size(), q.size());
        if (room == 0)
            return;
        std::vector<uint8_t> chunk(q.begin(), q.begin() + long(room));
        q.erase(q.begin(), q.begin() + long(room));
        if (h.receive)
            h.receive(chunk);
        if (fe(tag) != f)
            return;  // detached by its own callback
    }
}

bool MuxChardev::process_byte(uint8_t ch)
{
    if (!got_escape_) {
        if (ch == g_escape_char) {
            got_escape_ = true;
            return false;
        }
        return true;
    }
    got_escape_ = false;
    if (ch == g_escape_char)
        return true;  // escape twice: the character itself
    switch (ch) {
    case '?':
    case 'h':
        print_help();
        break;
    case 'x':
        send_to_base("tessera: Terminated\n\r");
        if (g_hooks.quit)
            g_hooks.quit();
        break;
    case 's':
        if (g_hooks.sync_blocks)
            g_hooks.sync_blocks();
        break;
    case 'b':
        if (ChrFrontend *f = fe(focus_); f && handlers_of(*f).event)
            handlers_of(*f).event(ChrEvent::Break);
        break;
    case 'c': {
        // Next attached front end, skipping detached slots.
        for (size_t i = 1; i <= frontends_.size(); i++) {
            unsigned next = unsigned((focus_ + i) % frontends_.size());
            if (fe(next)) {
                set_focus(next);
                break;
            }
        }
        break;
    }
    case 't':
        timestamps_ = !timestamps_;
        timestamps_start_ = -1;
        line_start_ = false;
        break;
    default:
        break;  // unknown commands are swallowed, like the reference
    }
    return false;
}

void MuxChardev::print_help()
{
    std::string key = "Escape-Char";
    std::string text = "\n\r";
    if (g_escape_char > 0 && g_escape_char < 26)
        key = std::string("C-") + char('a' + g_escape_char - 1);
    else {
        char buf[64];
        std::snprintf(buf, sizeof buf, "\n\rEscape-Char set to Ascii: 0x%02x\n\r\n\r", g_escape_char);
        text = buf;
    }
    for (std::string_view line : kHelp)
        for (char c : line)
            text += c == '%' ? key : std::string(1, c);
    send_to_base(text);
}

void MuxChardev::send_to_base(std::string_view text) { base_fe_->write(text); }

}  // namespace tessera
