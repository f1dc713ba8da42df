// The mux: several front ends (serial ports, the monitor) share one backend
// (mux=on, or the mon: legacy prefix). Input goes to the focused front end;
// the escape character (C-a unless -echr) introduces commands: h help,
// x exit, s sync block devices, t timestamps, b break, c next front end,
// and the escape character twice sends it once.
#pragma once

#include "chardev/chardev.hpp"

#include <array>
#include <deque>
#include <functional>

namespace tessera {

struct MuxHooks {
    std::function<void()> quit;         // C-a x, after "tessera: Terminated"
    std::function<void()> sync_blocks;  // C-a s
};
void mux_set_hooks(MuxHooks hooks);
// -echr: a byte value (1 is C-a).
void mux_set_escape_char(int ch);
int mux_escape_char();

class MuxChardev : public Chardev {
public:
    static constexpr size_t kMaxFrontends = 4;
    // Attaches to base as its front end; base must outlive the mux.
    MuxChardev(std::string id, Chardev &base);
    ~MuxChardev() override;
    std::string_view kind() const override { return "mux"; }
    std::string filename() const override { return base_.filename(); }
    const Chardev &base() const { return base_; }

    // A new front end takes the focus.
    ChrFrontend &attach(ChrHandlers handlers) override;
    unsigned focus() const { return focus_; }
    void set_focus(unsigned tag);

protected:
    size_t backend_write(std::span<const uint8_t> data) override;
    size_t frontend_write(unsigned tag, std::span<const uint8_t> data) override;
    void frontend_accept_input(unsigned tag) override;
    void frontend_detach(unsigned tag) override;
    void frontend_event(ChrEvent ev) override;

private:
    static constexpr size_t kQueue = 32;  // per front end, as the reference
    ChrFrontend *fe(unsigned tag) { return tag < frontends_.size() ? frontends_[tag].get() : nullptr; }
    size_t can_receive();
    void receive(std::span<const uint8_t> data);
    void on_event(ChrEvent ev);
    // True when the byte is data for the focused front end.
    bool process_byte(uint8_t ch);
    void flush(unsigned tag);
    void print_help();
    void send_to_base(std::string_view text);

    Chardev &base_;
    ChrFrontend *base_fe_ = nullptr;
    unsigned focus_ = 0;
    std::array<std::deque<uint8_t>, kMaxFrontends> queues_;
    bool got_escape_ = false;
    bool timestamps_ = false;
    bool line_start_ = true;
    int64_t timestamps_start_ = -1;
};

}  // namespace tessera
