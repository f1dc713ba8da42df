// crc-accel: an example out-of-tree Tessera device plugin. A memory-mapped CRC
// accelerator: the guest points it at a buffer in guest memory, picks CRC-32 or
// CRC-32C and starts it; the device reads the buffer by DMA, and when done sets
// STATUS.DONE, latches RESULT and raises its interrupt (if enabled).
//
// Registers (32-bit, little endian):
//   0x00 ID        RO  0x41435243 ("CRCA")
//   0x04 VERSION   RO  0x00010000
//   0x08 SRC_LO    RW  source guest physical address, low half
//   0x0c SRC_HI    RW  ... high half
//   0x10 LEN       RW  bytes (at most 16 MiB)
//   0x14 POLY      RW  0: CRC-32 (IEEE 802.3), 1: CRC-32C (Castagnoli)
//   0x18 CTRL      WO  bit 0: START (ignored while busy)
//   0x1c STATUS    RO  bit 0: BUSY, bit 1: DONE, bit 2: ERROR (DMA failed)
//   0x20 RESULT    RO  the CRC of the last run
//   0x24 IRQ_EN    RW  bit 0: interrupt on completion
//   0x28 IRQ_STAT  RO  bit 0: completion pending
//   0x2c IRQ_ACK   WO  write 1 to clear IRQ_STAT bit 0
//
// The computation takes virtual time (1 ns per byte, 1 us minimum), so a guest
// sees BUSY and must poll or wait for the interrupt, as with real hardware.
#include <tessera/sdk/device.hpp>
#include <tessera/sdk/regs.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace crc_accel {

namespace {

constexpr uint32_t kId = 0x41435243, kVersion = 0x00010000;
constexpr uint32_t kMaxLen = 16u << 20;
constexpr uint32_t kStatusBusy = 1, kStatusDone = 2, kStatusError = 4;
constexpr uint64_t kRegsSize = 0x1000;

// printf's %llx wants exactly unsigned long long.
constexpr unsigned long long ull(uint64_t v) { return v; }

// Reflected polynomials, indexed by POLY.
constexpr std::array<uint32_t, 2> kPolys = {0xEDB88320u, 0x82F63B78u};

using Table = std::array<uint32_t, 256>;
constexpr Table make_table(uint32_t poly) {
    Table t{};
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr std::array<Table, 2> kTables = {make_table(kPolys[0]), make_table(kPolys[1])};

uint32_t crc_update(const Table &t, uint32_t crc, std::span<const uint8_t> data) {
    for (uint8_t b : data) crc = t[(crc ^ b) & 0xff] ^ (crc >> 8);
    return crc;
}

}  // namespace

// Guest-visible state, saved and restored as declared in kState below.
struct CrcState {
    uint64_t src;
    uint32_t len, poly, status, result, irq_en, irq_stat;
    ts_timer *done_timer;
};

struct CrcAccel : ts::Device {
    static constexpr const char *type_name = "crc-accel";
    CrcState s{};
    ts::IrqOut irq;
    ts::Timer done;

    explicit CrcAccel(ts_object *o) : Device(o) {}

    void realize() {
        static constexpr ts_mmio_ops ops = ts::mmio_ops<CrcAccel>(4, 4);
        add_mmio("crc-accel", kRegsSize, ops, this);
        irq = ts::gpio_out(object(), "irq", 1).at(0);
        done = ts::Timer::make<&CrcAccel::finish>(TS_CLOCK_VIRTUAL, this);
        s.done_timer = done.handle();
    }
    void reset() {
        done.del();
        s = CrcState{};
        s.done_timer = done.handle();
        update_irq();
    }
    void post_load() { update_irq(); }

    uint64_t read(uint64_t off, unsigned size);
    void write(uint64_t off, unsigned size, uint64_t value);

    // Register accessors (the table below maps offsets to them).
    uint64_t id() { return kId; }
    uint64_t version() { return kVersion; }
    uint64_t src_lo() { return uint32_t(s.src); }
    void set_src_lo(uint64_t v) { s.src = (s.src & ~0xffffffffull) | uint32_t(v); }
    uint64_t src_hi() { return s.src >> 32; }
    void set_src_hi(uint64_t v) { s.src = (s.src & 0xffffffffull) | (v << 32); }
    uint64_t len() { return s.len; }
    void set_len(uint64_t v) { s.len = uint32_t(v); }
    uint64_t poly() { return s.poly; }
    void set_poly(uint64_t v) {
        if (v >= kPolys.size()) ts::guest_error("crc-accel: POLY %llu is not 0 or 1", ull(v));
        else s.poly = uint32_t(v);
    }
    void ctrl(uint64_t v) {
        if (v & 1) start();
    }
    uint64_t status() { return s.status; }
    uint64_t result() { return s.result; }
    uint64_t irq_en() { return s.irq_en; }
    void set_irq_en(uint64_t v) {
        s.irq_en = uint32_t(v & 1);
        update_irq();
    }
    uint64_t irq_stat() { return s.irq_stat; }
    void irq_ack(uint64_t v) {
        s.irq_stat &= ~uint32_t(v & 1);
        update_irq();
    }

private:
    void update_irq() { irq.set((s.irq_en & s.irq_stat & 1) != 0); }

    void start() {
        if (s.status & kStatusBusy) {
            ts::guest_error("crc-accel: START while busy ignored");
            return;
        }
        s.status = kStatusBusy;
        done.mod(done.now() + std::max<int64_t>(1000, s.len));
    }

    // The DMA and the computation happen when the operation completes.
    void finish() {
        s.status = kStatusDone;
        if (s.len > kMaxLen) {
            ts::guest_error("crc-accel: LEN %u exceeds 16 MiB", s.len);
            s.status |= kStatusError;
        } else {
            const Table &t = kTables[s.poly];
            uint32_t crc = 0xffffffffu;
            std::vector<uint8_t> chunk(4096);
            for (uint64_t done_bytes = 0; done_bytes < s.len;) {
                const uint64_t n = std::min<uint64_t>(chunk.size(), s.len - done_bytes);
                if (ts::host().as_rw(ts::host().system_as(), s.src + done_bytes, chunk.data(), n, 0) != TS_MEMTX_OK) {
                    ts::guest_error("crc-accel: DMA read at 0x%llx failed", ull(s.src + done_bytes));
                    s.status |= kStatusError;
                    break;
                }
                crc = crc_update(t, crc, std::span<const uint8_t>(chunk.data(), n));
                done_bytes += n;
            }
            s.result = crc ^ 0xffffffffu;
        }
        s.irq_stat |= 1;
        update_irq();
    }
};

constexpr ts::Reg<CrcAccel> kRegs[] = {
    ts::reg<&CrcAccel::id, nullptr>(0x00, "ID"),
    ts::reg<&CrcAccel::version, nullptr>(0x04, "VERSION"),
    ts::reg<&CrcAccel::src_lo, &CrcAccel::set_src_lo>(0x08, "SRC_LO"),
    ts::reg<&CrcAccel::src_hi, &CrcAccel::set_src_hi>(0x0c, "SRC_HI"),
    ts::reg<&CrcAccel::len, &CrcAccel::set_len>(0x10, "LEN"),
    ts::reg<&CrcAccel::poly, &CrcAccel::set_poly>(0x14, "POLY"),
    ts::reg<nullptr, &CrcAccel::ctrl>(0x18, "CTRL"),
    ts::reg<&CrcAccel::status, nullptr>(0x1c, "STATUS"),
    ts::reg<&CrcAccel::result, nullptr>(0x20, "RESULT"),
    ts::reg<&CrcAccel::irq_en, &CrcAccel::set_irq_en>(0x24, "IRQ_EN"),
    ts::reg<&CrcAccel::irq_stat, nullptr>(0x28, "IRQ_STAT"),
    ts::reg<nullptr, &CrcAccel::irq_ack>(0x2c, "IRQ_ACK"),
};

uint64_t CrcAccel::read(uint64_t off, unsigned size) { return ts::reg_read(kRegs, *this, off, size); }
void CrcAccel::write(uint64_t off, unsigned size, uint64_t value) { ts::reg_write(kRegs, *this, off, size, value); }

namespace {

using S = CrcState;
constexpr std::array kFields = {
    TS_FIELD(S, src, TS_STATE_U64),     TS_FIELD(S, len, TS_STATE_U32),    TS_FIELD(S, poly, TS_STATE_U32),
    TS_FIELD(S, status, TS_STATE_U32),  TS_FIELD(S, result, TS_STATE_U32), TS_FIELD(S, irq_en, TS_STATE_U32),
    TS_FIELD(S, irq_stat, TS_STATE_U32), TS_FIELD(S, done_timer, TS_STATE_TIMER),
};
constexpr ts_state_decl kState = ts::state_decl("crc-accel", 1, kFields, ts::post_load_hook<CrcAccel>);
constexpr ts_prop_decl kProps[] = {
    ts::prop_uint("addr", nullptr, 0, 0, "guest physical address of the registers (default: next free)"),
};
const ts_device_class kClass = ts::device_class<CrcAccel>(kProps, &kState, "platform-bus");

const void *get_class(const char *name) { return std::string_view(name) == "crc-accel" ? &kClass : nullptr; }

}  // namespace
}  // namespace crc_accel

TESSERA_PLUGIN("crc-accel", "1.0.0", "type device crc-accel - misc CRC-32/CRC-32C accelerator with DMA (example)\n",
               crc_accel::get_class);
