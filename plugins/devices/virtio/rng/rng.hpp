// virtio-rng-device (virtio 1.2, 5.4): fills the guest's buffers from the
// host's getrandom().
#pragma once

#include "../virtio.hpp"

namespace virtio {

class Rng : public ts::Device, public virtio::Device {
public:
    static constexpr const char *type_name = "virtio-rng-device";
    explicit Rng(ts_object *obj) : ts::Device(obj) {}
    void realize();
    void device_reset() override;

    uint32_t device_id() const override { return 4; }
    uint64_t device_features() const override { return 0; }
    unsigned num_queues() const override { return 1; }
    void handle_queue(unsigned index) override;

private:
    uint32_t fill(const Chain &c, uint64_t max);
    void serve();
    void new_period();

    // Rate limit as the reference: max-bytes per period milliseconds.
    uint64_t max_bytes_ = 0, quota_ = 0;
    int64_t period_ns_ = 0;
    ts::Timer period_timer_;
    bool period_running_ = false;
};

}  // namespace virtio
