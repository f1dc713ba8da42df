// 16550A UART (the reference's ns16550a / serial-mm): register state and the
// device class. Registers are 1 byte, 8 of them, spaced 1 << regshift apart.
#pragma once

#include <tessera/sdk/device.hpp>

#include <cstdint>
#include <span>

namespace serial {

inline constexpr unsigned kFifoSize = 16;

// Guest-visible state; every field is in the state declaration.
struct Ns16550aState {
    uint8_t rx[kFifoSize];  // receive FIFO (ring)
    uint8_t tx[kFifoSize];  // transmit FIFO (ring), drained into the chardev
    uint8_t rx_head, rx_count;
    uint8_t tx_head, tx_count;
    uint16_t divider;
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
    uint8_t thr_ipending;      // THRE interrupt armed (cleared by an IIR read)
    uint8_t timeout_ipending;  // character timeout (FIFO mode)
};

// Register bits (16550 datasheet names).
namespace bits {
inline constexpr uint8_t IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
inline constexpr uint8_t IIR_NO_INT = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04,
                         IIR_RLSI = 0x06, IIR_CTI = 0x0c, IIR_FIFO = 0xc0;
inline constexpr uint8_t FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02, FCR_CLEAR_TX = 0x04;
inline constexpr uint8_t LCR_DLAB = 0x80;
inline constexpr uint8_t MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08,
                         MCR_LOOP = 0x10;
inline constexpr uint8_t LSR_DR = 0x01, LSR_OE = 0x02, LSR_PE = 0x04, LSR_FE = 0x08, LSR_BI = 0x10,
                         LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_ERRORS = 0x1e;
inline constexpr uint8_t MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08,
                         MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80,
                         MSR_DELTAS = 0x0f;
}  // namespace bits

class Ns16550a : public ts::Device {
public:
    static constexpr const char *type_name = "ns16550a";
    Ns16550aState s{};

    explicit Ns16550a(ts_object *obj) : Device(obj) {}
    void realize();
    void reset();

    // MMIO
    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);

    // Chardev front end
    size_t can_receive() const;
    void receive(std::span<const uint8_t> data);
    void chr_event(int event);
    // After loadvm: timers follow the loaded FIFOs.
    void post_load();

    // Register accessors (by register index 0..7).
    uint64_t rd_rbr();
    void wr_thr(uint64_t v);
    uint64_t rd_ier();
    void wr_ier(uint64_t v);
    uint64_t rd_iir();
    void wr_fcr(uint64_t v);
    uint64_t rd_lcr() { return s.lcr; }
    void wr_lcr(uint64_t v) { s.lcr = static_cast<uint8_t>(v); }
    uint64_t rd_mcr() { return s.mcr; }
    void wr_mcr(uint64_t v);
    uint64_t rd_lsr();
    uint64_t rd_msr();
    uint64_t rd_scr() { return s.scr; }
    void wr_scr(uint64_t v) { s.scr = static_cast<uint8_t>(v); }

    uint8_t compute_iir() const;

private:
    bool fifo_enabled() const { return s.fcr & bits::FCR_ENABLE; }
    unsigned rx_trigger() const;
    int64_t char_time_ns() const;
    void push_rx(uint8_t byte);
    void drain_tx();
    void update_msr_loopback(uint8_t old_mcr);
    void update_irq();
    void on_rx_timeout();
    void on_tx_retry();

    unsigned regshift_ = 0;
    ts::IrqOut irq_;
    ts::CharFrontend chr_;
    ts::Timer timeout_timer_;  // character timeout
    ts::Timer tx_timer_;       // retry a backend that refused bytes
};

}  // namespace serial
