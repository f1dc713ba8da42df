#include "rng.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace virtio {

namespace {
constexpr uint64_t kMaxPerRequest = 64 * 1024;  // bound host work per buffer
}

void Rng::realize() {
    max_bytes_ = prop_uint("max-bytes");
    period_ns_ = static_cast<int64_t>(prop_uint("period")) * 1'000'000;
    if (period_ns_ == 0) throw ts::Error("period must not be 0");
    period_timer_ = ts::Timer::make<&Rng::new_period>(TS_CLOCK_VIRTUAL, this);
    quota_ = max_bytes_;
}

void Rng::device_reset() {
    period_timer_.del();
    period_running_ = false;
    quota_ = max_bytes_;
}

void Rng::new_period() {
    period_running_ = false;
    quota_ = max_bytes_;
    serve();
}

void Rng::handle_queue(unsigned index) {
    if (index == 0) serve();
}

// Fill buffers while the period's quota lasts; the rest wait for the next
// period.
void Rng::serve() {
    if (!transport_ || !transport_->driver_ok()) return;
    Virtqueue &vq = transport_->queue(0);
    if (!vq.ready()) return;
    if (!period_running_) {
        period_running_ = true;
        period_timer_.mod(period_timer_.now() + period_ns_);
    }
    bool pushed = false;
    try {
        while (quota_ > 0) {
            auto chain = vq.pop();
            if (!chain) break;
            uint32_t n = fill(*chain, quota_);
            quota_ -= n;
            vq.push(*chain, n);
            pushed = true;
        }
    } catch (const GuestError &e) {
        transport_->needs_reset(e.what());
    }
    if (pushed) transport_->notify_used(0);
}

uint32_t Rng::fill(const Chain &c, uint64_t max) {
    uint64_t want = std::min({c.in_len, kMaxPerRequest, max});
    std::array<uint8_t, 4096> buf{};
    uint64_t done = 0;
    while (done < want) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(want - done, buf.size()));
        const ts_host &h = ts::host();
        if (h.size > offsetof(ts_host, guest_random) && h.guest_random) {  // repeatable under -seed
            h.guest_random(buf.data(), n);
            c.write(done, std::span<const uint8_t>(buf.data(), n));
            done += n;
            continue;
        }
        ssize_t got = getrandom(buf.data(), n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            ts::host().error_report("%s: getrandom failed", path());
            break;
        }
        c.write(done, std::span<const uint8_t>(buf.data(), static_cast<size_t>(got)));
        done += static_cast<uint64_t>(got);
    }
    return static_cast<uint32_t>(done);
}

}  // namespace virtio
