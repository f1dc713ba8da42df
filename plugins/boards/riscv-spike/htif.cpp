#include "htif.hpp"

#include <cstdio>
#include <vector>

namespace spike {

using ts::host;

namespace {
constexpr uint64_t kSysWrite = 64;
const ts_mmio_ops kOps = {sizeof(ts_mmio_ops), nullptr, nullptr, 4, 8, 0};
}  // namespace

Htif::Htif(ts_object *owner) : owner_(owner) {
    static const ts_chardev_ops ops = {sizeof(ts_chardev_ops), can_receive, receive, nullptr};
    console_ = host().serial_attach(0, &ops, this);
}

ts_region *Htif::region(uint64_t size, uint64_t tohost_off, uint64_t fromhost_off) {
    tohost_off_ = tohost_off;
    fromhost_off_ = fromhost_off;
    static ts_mmio_ops ops = kOps;
    ops.read = read;
    ops.write = write;
    return host().region_mmio(owner_, "riscv.htif.uart", size, &ops, this);
}

ts_memtx Htif::read(void *opaque, uint64_t off, unsigned size, uint64_t *val) {
    auto *h = static_cast<Htif *>(opaque);
    uint64_t v = 0;
    if (off >= h->tohost_off_ && off < h->tohost_off_ + 8) v = h->tohost_ >> ((off - h->tohost_off_) * 8);
    else if (off >= h->fromhost_off_ && off < h->fromhost_off_ + 8) v = h->fromhost_ >> ((off - h->fromhost_off_) * 8);
    *val = size == 8 ? v : v & ((1ull << (size * 8)) - 1);
    return TS_MEMTX_OK;
}

ts_memtx Htif::write(void *opaque, uint64_t off, unsigned size, uint64_t val) {
    auto *h = static_cast<Htif *>(opaque);
    auto merge = [&](uint64_t &reg, uint64_t o) {
        if (size == 8) reg = val;
        else {
            uint64_t mask = ((1ull << (size * 8)) - 1) << (o * 8);
            reg = (reg & ~mask) | ((val << (o * 8)) & mask);
        }
    };
    if (off >= h->tohost_off_ && off < h->tohost_off_ + 8) {
        const uint64_t o = off - h->tohost_off_;
        merge(h->tohost_, o);
        // A command is complete when its upper half is written (RV32 writes
        // the low word first) or in one 8-byte store.
        if (o + size == 8 && h->tohost_ != 0) h->command(h->tohost_);
    } else if (off >= h->fromhost_off_ && off < h->fromhost_off_ + 8) {
        merge(h->fromhost_, off - h->fromhost_off_);
    }
    return TS_MEMTX_OK;
}

void Htif::out(const uint8_t *buf, size_t len) {
    if (console_) host().chardev_write(console_, buf, len);
    else {
        fwrite(buf, 1, len, stdout);
        fflush(stdout);
    }
}

void Htif::command(uint64_t value) {
    const uint8_t dev = uint8_t(value >> 56), cmd = uint8_t(value >> 48);
    const uint64_t payload = value & 0xffffffffffffull;
    uint64_t reply = 0;
    if (dev == 0 && cmd == 0) {
        if (payload & 1) {
            host().request_shutdown(TS_SHUTDOWN_GUEST_POWEROFF, int(payload >> 1));
            tohost_ = 0;
            return;
        }
        syscall(payload);
        reply = 1;
    } else if (dev == 1 && cmd == 1) {
        uint8_t c = uint8_t(payload);
        out(&c, 1);
    } else if (dev == 1 && cmd == 0) {
        if (input_.empty()) {
            getc_pending_ = true;  // answered when input arrives
            tohost_ = 0;
            return;
        }
        reply = input_.front();
        input_.pop_front();
    } else {
        host().log(TS_LOG_GUEST_ERROR, "htif: unsupported device %u command %u\n", dev, cmd);
    }
    tohost_ = 0;
    fromhost_ = (uint64_t(dev) << 56) | (uint64_t(cmd) << 48) | reply;
}

// The proxied syscall: magic memory holds {number, a0, a1, a2, ...}; only
// write(1 or 2, buf, len) is served, the rest return -ENOSYS.
void Htif::syscall(uint64_t magic_addr) {
    uint64_t m[8] = {};
    if (host().as_rw(host().system_as(), magic_addr, m, sizeof m, 0) != TS_MEMTX_OK) {
        host().log(TS_LOG_GUEST_ERROR, "htif: syscall block at 0x%llx is not memory\n",
                   static_cast<unsigned long long>(magic_addr));
        return;
    }
    int64_t ret = -38;
    if (m[0] == kSysWrite && (m[1] == 1 || m[1] == 2) && m[3] <= (1u << 20)) {
        std::vector<uint8_t> buf(m[3]);
        if (host().as_rw(host().system_as(), m[2], buf.data(), buf.size(), 0) == TS_MEMTX_OK) {
            out(buf.data(), buf.size());
            ret = int64_t(m[3]);
        } else {
            ret = -14;
        }
    }
    m[0] = uint64_t(ret);
    host().as_rw(host().system_as(), magic_addr, m, 8, 1);
}

size_t Htif::can_receive(void *opaque) { return static_cast<Htif *>(opaque)->input_.size() < 64 ? 64 : 0; }

void Htif::receive(void *opaque, const uint8_t *buf, size_t len) {
    auto *h = static_cast<Htif *>(opaque);
    h->input_.insert(h->input_.end(), buf, buf + len);
    if (h->getc_pending_ && !h->input_.empty()) {
        h->getc_pending_ = false;
        h->fromhost_ = (uint64_t(1) << 56) | h->input_.front();
        h->input_.pop_front();
    }
}

}  // namespace spike
