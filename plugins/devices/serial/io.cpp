// 16550A register I/O and behaviour: FIFOs, interrupt identification,
// loopback, character timeout.
#include "ns16550a.hpp"

#include <tessera/sdk/regs.hpp>

#include <algorithm>

namespace serial {

using namespace bits;

namespace {

// Register index -> accessors. Index 0 and 1 are the divisor latch when
// LCR.DLAB is set; the accessors handle that.
constexpr ts::Reg<Ns16550a> kRegs[] = {
    ts::reg<&Ns16550a::rd_rbr, &Ns16550a::wr_thr>(0, "RBR/THR", 1),
    ts::reg<&Ns16550a::rd_ier, &Ns16550a::wr_ier>(1, "IER", 1),
    ts::reg<&Ns16550a::rd_iir, &Ns16550a::wr_fcr>(2, "IIR/FCR", 1),
    ts::reg<&Ns16550a::rd_lcr, &Ns16550a::wr_lcr>(3, "LCR", 1),
    ts::reg<&Ns16550a::rd_mcr, &Ns16550a::wr_mcr>(4, "MCR", 1),
    ts::reg<&Ns16550a::rd_lsr, nullptr>(5, "LSR", 1),
    ts::reg<&Ns16550a::rd_msr, nullptr>(6, "MSR", 1),
    ts::reg<&Ns16550a::rd_scr, &Ns16550a::wr_scr>(7, "SCR", 1),
};

constexpr unsigned kTriggerLevels[4] = {1, 4, 8, 14};

}  // namespace

uint64_t Ns16550a::read(uint64_t offset, unsigned) {
    return ts::reg_read(kRegs, *this, (offset >> regshift_) & 7, 1);
}

void Ns16550a::write(uint64_t offset, unsigned, uint64_t value) {
    ts::reg_write(kRegs, *this, (offset >> regshift_) & 7, 1, value & 0xff);
}

void Ns16550a::reset() {
    s = Ns16550aState{};
    s.divider = 12;  // 9600 baud from 1.8432 MHz, as firmware expects at reset
    s.lsr = LSR_THRE | LSR_TEMT;
    s.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    s.mcr = MCR_OUT2;
    timeout_timer_.del();
    tx_timer_.del();
    update_irq();
}

unsigned Ns16550a::rx_trigger() const { return kTriggerLevels[s.fcr >> 6]; }

// Start, data, parity and stop bits at the programmed baud rate.
int64_t Ns16550a::char_time_ns() const {
    unsigned bits_per_char = 1 + 5 + (s.lcr & 3) + ((s.lcr & 0x08) ? 1 : 0) + ((s.lcr & 0x04) ? 2 : 1);
    uint64_t div = s.divider ? s.divider : 1;
    return static_cast<int64_t>(bits_per_char * 1'000'000'000ull * div / 115200);
}

uint8_t Ns16550a::compute_iir() const {
    uint8_t id = IIR_NO_INT;
    if ((s.ier & IER_RLSI) && (s.lsr & LSR_ERRORS)) id = IIR_RLSI;
    else if ((s.ier & IER_RDI) && s.timeout_ipending) id = IIR_CTI;
    else if ((s.ier & IER_RDI) && (s.lsr & LSR_DR) && (!fifo_enabled() || s.rx_count >= rx_trigger()))
        id = IIR_RDI;
    else if ((s.ier & IER_THRI) && s.thr_ipending) id = IIR_THRI;
    else if ((s.ier & IER_MSI) && (s.msr & MSR_DELTAS)) id = IIR_MSI;
    return static_cast<uint8_t>(id | (fifo_enabled() ? IIR_FIFO : 0));
}

void Ns16550a::update_irq() { irq_.set((compute_iir() & IIR_NO_INT) == 0); }

// ---- Receive ------------------------------------------------------------------

size_t Ns16550a::can_receive() const {
    if (s.mcr & MCR_LOOP) return 0;  // the line is disconnected in loopback
    if (fifo_enabled()) return kFifoSize - s.rx_count;
    return s.rx_count == 0 ? 1 : 0;
}

void Ns16550a::push_rx(uint8_t byte) {
    unsigned capacity = fifo_enabled() ? kFifoSize : 1;
    if (s.rx_count >= capacity) {
        s.lsr |= LSR_OE;  // the byte is lost
    } else {
        s.rx[(s.rx_head + s.rx_count) % kFifoSize] = byte;
        s.rx_count++;
    }
    s.lsr |= LSR_DR;
    if (fifo_enabled()) {
        // Timeout fires if the FIFO sits below the trigger level for 4 chars.
        s.timeout_ipending = 0;
        timeout_timer_.mod(timeout_timer_.now() + 4 * char_time_ns());
    }
}

void Ns16550a::receive(std::span<const uint8_t> data) {
    for (uint8_t b : data) push_rx(b);
    update_irq();
}

void Ns16550a::chr_event(int event) {
    if (event == TS_CHR_EVENT_BREAK) {
        s.lsr |= LSR_BI | LSR_DR;
        update_irq();
    }
}

uint64_t Ns16550a::rd_rbr() {
    if (s.lcr & LCR_DLAB) return s.divider & 0xff;
    uint8_t v = 0;
    if (s.rx_count) {
        v = s.rx[s.rx_head];
        s.rx_head = static_cast<uint8_t>((s.rx_head + 1) % kFifoSize);
        s.rx_count--;
    }
    if (s.rx_count == 0) {
        s.lsr &= static_cast<uint8_t>(~LSR_DR);
        timeout_timer_.del();
    } else if (fifo_enabled()) {
        timeout_timer_.mod(timeout_timer_.now() + 4 * char_time_ns());
    }
    s.timeout_ipending = 0;
    update_irq();
    chr_.accept_input();
    return v;
}

// ---- Transmit -----------------------------------------------------------------

void Ns16550a::wr_thr(uint64_t v) {
    if (s.lcr & LCR_DLAB) {
        s.divider = static_cast<uint16_t>((s.divider & 0xff00) | v);
        return;
    }
    uint8_t byte = static_cast<uint8_t>(v);
    s.thr_ipending = 0;
    if (s.mcr & MCR_LOOP) {
        push_rx(byte);  // straight back into the receiver
    } else {
        unsigned capacity = fifo_enabled() ? kFifoSize : 1;
        if (s.tx_count >= capacity) {
            ts::guest_error("%s: THR written while the transmitter is full, byte dropped", path());
        } else {
            s.tx[(s.tx_head + s.tx_count) % kFifoSize] = byte;
            s.tx_count++;
        }
        s.lsr &= static_cast<uint8_t>(~(LSR_THRE | LSR_TEMT));
        drain_tx();
    }
    if (s.tx_count == 0) s.thr_ipending = 1;
    update_irq();
}

void Ns16550a::drain_tx() {
    while (s.tx_count) {
        // The ring's contiguous part from head.
        unsigned n = std::min<unsigned>(s.tx_count, kFifoSize - s.tx_head);
        size_t took = chr_.write(std::span<const uint8_t>(s.tx + s.tx_head, n));
        if (took == 0) break;
        s.tx_head = static_cast<uint8_t>((s.tx_head + took) % kFifoSize);
        s.tx_count = static_cast<uint8_t>(s.tx_count - took);
    }
    if (s.tx_count == 0) {
        s.lsr |= LSR_THRE | LSR_TEMT;
    } else {
        tx_timer_.mod(tx_timer_.now() + char_time_ns());
    }
}

void Ns16550a::post_load() {
    timeout_timer_.del();
    tx_timer_.del();
    if (s.rx_count && fifo_enabled() && !s.timeout_ipending)
        timeout_timer_.mod(timeout_timer_.now() + 4 * char_time_ns());
    if (s.tx_count) tx_timer_.mod(tx_timer_.now() + char_time_ns());
    update_irq();
}

void Ns16550a::on_tx_retry() {
    drain_tx();
    if (s.tx_count == 0) s.thr_ipending = 1;
    update_irq();
}

// No FIFO activity for 4 character times with data waiting.
void Ns16550a::on_rx_timeout() {
    if (fifo_enabled() && s.rx_count) s.timeout_ipending = 1;
    update_irq();
}

// ---- Control ------------------------------------------------------------------

uint64_t Ns16550a::rd_ier() { return (s.lcr & LCR_DLAB) ? (s.divider >> 8) : s.ier; }

void Ns16550a::wr_ier(uint64_t v) {
    if (s.lcr & LCR_DLAB) {
        s.divider = static_cast<uint16_t>((s.divider & 0x00ff) | (v << 8));
        return;
    }
    uint8_t changed = static_cast<uint8_t>((s.ier ^ v) & 0x0f);
    s.ier = static_cast<uint8_t>(v & 0x0f);
    // Enabling THRI with the holding register empty raises it at once (even
    // if an IIR read had acknowledged it; drivers toggle IER to re-arm).
    if (changed & IER_THRI) s.thr_ipending = (s.ier & IER_THRI) && (s.lsr & LSR_THRE);
    update_irq();
}

uint64_t Ns16550a::rd_iir() {
    uint8_t iir = compute_iir();
    // Reading IIR acknowledges a THRE interrupt it reports.
    if ((iir & 0x0f) == IIR_THRI) {
        s.thr_ipending = 0;
        update_irq();
    }
    return iir;
}

void Ns16550a::wr_fcr(uint64_t v) {
    uint8_t val = static_cast<uint8_t>(v);
    bool was_enabled = fifo_enabled();
    if (((val & FCR_ENABLE) != 0) != was_enabled) val |= FCR_CLEAR_RX | FCR_CLEAR_TX;
    if (val & FCR_CLEAR_RX) {
        s.rx_head = s.rx_count = 0;
        s.lsr &= static_cast<uint8_t>(~(LSR_DR | LSR_OE));
        s.timeout_ipending = 0;
        timeout_timer_.del();
    }
    if (val & FCR_CLEAR_TX) {
        s.tx_head = s.tx_count = 0;
        s.lsr |= LSR_THRE | LSR_TEMT;
        s.thr_ipending = 1;
    }
    s.fcr = static_cast<uint8_t>(val & 0xc9);  // enable, DMA mode, trigger level
    update_irq();
    chr_.accept_input();
}

void Ns16550a::wr_mcr(uint64_t v) {
    uint8_t old = s.mcr;
    s.mcr = static_cast<uint8_t>(v & 0x1f);
    if ((old ^ s.mcr) & MCR_LOOP) {
        // Leaving loopback restores the (always asserted) modem inputs.
        if (!(s.mcr & MCR_LOOP)) s.msr = MSR_DCD | MSR_DSR | MSR_CTS;
        chr_.accept_input();
    }
    if (s.mcr & MCR_LOOP) update_msr_loopback(old);
    update_irq();
}

// In loopback the modem outputs feed the inputs: RTS->CTS, DTR->DSR,
// OUT1->RI, OUT2->DCD, with the delta bits a real chip would latch.
void Ns16550a::update_msr_loopback(uint8_t old_mcr) {
    auto map = [](uint8_t mcr) {
        return static_cast<uint8_t>(((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
                                    ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
    };
    uint8_t before = (old_mcr & MCR_LOOP) ? map(old_mcr) : static_cast<uint8_t>(s.msr & 0xf0);
    uint8_t now = map(s.mcr);
    uint8_t diff = before ^ now;
    uint8_t deltas = s.msr & MSR_DELTAS;
    if (diff & MSR_CTS) deltas |= MSR_DCTS;
    if (diff & MSR_DSR) deltas |= MSR_DDSR;
    if (diff & MSR_DCD) deltas |= MSR_DDCD;
    if ((before & MSR_RI) && !(now & MSR_RI)) deltas |= MSR_TERI;  // trailing edge only
    s.msr = static_cast<uint8_t>(now | deltas);
}

uint64_t Ns16550a::rd_lsr() {
    uint8_t v = s.lsr;
    s.lsr &= static_cast<uint8_t>(~LSR_ERRORS);  // error bits clear on read
    update_irq();
    return v;
}

uint64_t Ns16550a::rd_msr() {
    uint8_t v = s.msr;
    s.msr &= static_cast<uint8_t>(~MSR_DELTAS);
    update_irq();
    return v;
}

// ---- Lifecycle ------------------------------------------------------------------

void Ns16550a::realize() {
    uint64_t shift = prop_uint("regshift");
    regshift_ = static_cast<unsigned>(shift);
    irq_ = ts::gpio_out(object(), "irq", 1).at(0);
    timeout_timer_ = ts::Timer::make<&Ns16550a::on_rx_timeout>(TS_CLOCK_VIRTUAL, this);
    tx_timer_ = ts::Timer::make<&Ns16550a::on_tx_retry>(TS_CLOCK_VIRTUAL, this);
    static const ts_mmio_ops ops = ts::mmio_ops<Ns16550a>(1, 8);
    add_mmio("ns16550a", 8ull << regshift_, ops, this);
    chr_.attach(this, "chardev", static_cast<int>(prop_uint("index")));
    reset();
}

}  // namespace serial
