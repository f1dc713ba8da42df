// Virtio core shared by the transport and the devices of device-virtio.so:
// split virtqueues with bounds-checked descriptor walking, and the C++
// interfaces between the virtio-mmio transport and the devices plugged into
// its virtio-bus (both live in this plugin).
#pragma once

#include <tessera/sdk/device.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

namespace virtio {

// Device status bits (virtio 1.2, 2.1).
inline constexpr uint32_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4,
                          kStatusFeaturesOk = 8, kStatusNeedsReset = 0x40, kStatusFailed = 0x80;
// Feature bits the transport knows.
inline constexpr uint64_t kFIndirectDesc = 1ull << 28, kFVersion1 = 1ull << 32;
// Interrupt status bits.
inline constexpr uint32_t kIntUsedBuffer = 1, kIntConfigChange = 2;

inline constexpr unsigned kMaxQueues = 8;

// A guest misprogrammed a queue or a request: the device needs a reset.
struct GuestError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Per-queue state, part of the transport's guest-visible state.
struct VirtqueueState {
    uint64_t desc, avail, used;  // guest physical addresses of the three parts
    uint32_t num;                // size chosen by the driver
    uint32_t ready;
    uint32_t last_avail;         // next avail ring entry to take (mod 2^16)
    uint32_t used_idx;           // next used ring index (mod 2^16)
    uint32_t pfn, align;         // legacy layout
};

// One guest buffer segment.
struct Segment {
    uint64_t addr;
    uint32_t len;
};

// A descriptor chain taken from the avail ring: device-readable segments
// (out) then device-writable ones (in).
class Chain {
public:
    uint16_t head = 0;
    std::vector<Segment> out, in;
    uint64_t out_len = 0, in_len = 0;

    // Copy from the readable part at offset; returns the bytes copied.
    size_t read(uint64_t offset, std::span<uint8_t> dst) const;
    // Copy into the writable part at offset; returns the bytes copied.
    size_t write(uint64_t offset, std::span<const uint8_t> src) const;
};

class Virtqueue {
public:
    Virtqueue(VirtqueueState &s, unsigned max_size) : s_(s), max_(max_size) {}
    bool ready() const { return s_.ready && s_.num; }
    unsigned max_size() const { return max_; }
    // Ring size the driver chose (0 before it set one).
    unsigned size() const { return s_.num; }
    // The next available chain, or nothing; throws GuestError on a bad ring
    // or chain (loop, index out of range, unreadable memory, ...).
    std::optional<Chain> pop();
    // Hand a chain back with `written` bytes written into its in part.
    void push(const Chain &c, uint32_t written);
    // Several chains as one unit (a mergeable receive): entries first, the
    // used index once, so the driver never sees part of the frame.
    void push_batch(std::span<const Chain> chains, std::span<const uint32_t> written);
    // Give back the last n chains taken by pop() (not pushed).
    void unpop(unsigned n) { s_.last_avail = static_cast<uint16_t>(s_.last_avail - n); }
    // Are chains waiting in the avail ring (no descriptor walk)?
    bool has_avail();
    // Driver suppressed interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT)?
    bool interrupts_suppressed() const;
    // VIRTIO_F_INDIRECT_DESC negotiated.
    void set_indirect(bool on) { indirect_ = on; }

private:
    void walk_table(Chain &c, uint64_t table, uint32_t size, uint32_t first, bool nested);

    VirtqueueState &s_;
    unsigned max_;
    bool indirect_ = false;
};

// Guest memory through the system address space; throws GuestError.
void guest_read(uint64_t addr, std::span<uint8_t> dst);
void guest_write(uint64_t addr, std::span<const uint8_t> src);

// What a device may ask of its transport.
class Transport {
public:
    virtual ~Transport() = default;
    virtual Virtqueue &queue(unsigned index) = 0;
    // Raise the used-buffer interrupt for queue index (unless suppressed).
    virtual void notify_used(unsigned index) = 0;
    virtual void config_changed() = 0;
    // The guest broke the protocol: log it and set DEVICE_NEEDS_RESET.
    virtual void needs_reset(const char *why) = 0;
    virtual bool driver_ok() const = 0;
    virtual uint64_t negotiated_features() const = 0;
};

// A device on a virtio-bus.
class Device {
public:
    virtual ~Device() = default;
    virtual uint32_t device_id() const = 0;
    virtual uint64_t device_features() const = 0;
    virtual unsigned num_queues() const = 0;
    virtual unsigned queue_max(unsigned) const { return 256; }
    // Device-specific configuration space (little endian).
    virtual std::span<uint8_t> config() { return {}; }
    virtual void config_written(uint64_t, unsigned) {}
    // Queue `index` has new buffers.
    virtual void handle_queue(unsigned index) = 0;
    // The driver set DRIVER_OK.
    virtual void driver_ready() {}
    // Device reset (status 0 or machine reset).
    virtual void device_reset() {}
    // The transport's state was loaded (loadvm): forget buffers taken from
    // the rings before; the loaded queue indices say what is the device's.
    virtual void state_loaded() {}

    void set_transport(Transport *t) { transport_ = t; }
    Transport *transport() const { return transport_; }

protected:
    // Process every available chain of queue q with fn(chain) -> bytes
    // written; a GuestError stops the queue and flags the device.
    template <class F>
    void drain(unsigned q, F &&fn) {
        if (!transport_) return;
        Virtqueue &vq = transport_->queue(q);
        if (!vq.ready()) return;
        bool pushed = false;
        try {
            while (auto chain = vq.pop()) {
                vq.push(*chain, fn(*chain));
                pushed = true;
            }
        } catch (const GuestError &e) {
            transport_->needs_reset(e.what());
        }
        if (pushed) transport_->notify_used(q);
    }

    Transport *transport_ = nullptr;
};

// Little-endian field helpers for config spaces and headers.
inline void put_le(std::span<uint8_t> buf, size_t off, uint64_t v, unsigned size) {
    for (unsigned i = 0; i < size && off + i < buf.size(); i++) buf[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t get_le(std::span<const uint8_t> buf, size_t off, unsigned size) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < buf.size(); i++) v |= static_cast<uint64_t>(buf[off + i]) << (8 * i);
    return v;
}

}  // namespace virtio
