// virtio-serial-device (virtio 1.2, 5.3) with one console port: the
// virtconsole plugged into its virtio-serial-bus. No MULTIPORT yet, so only
// port 0 (hvc0 in Linux) exists.
#pragma once

#include "../virtio.hpp"

#include <array>
#include <optional>

namespace virtio {

class VirtSerial;

// The port: owns the chardev; bytes go through its VirtSerial.
class VirtConsole : public ts::Device {
public:
    static constexpr const char *type_name = "virtconsole";
    explicit VirtConsole(ts_object *obj) : ts::Device(obj) {}
    void realize();

    size_t can_receive();
    void receive(std::span<const uint8_t> data);

    ts::CharFrontend chr;
    VirtSerial *serial = nullptr;
};

class VirtSerial : public ts::Device, public virtio::Device {
public:
    static constexpr const char *type_name = "virtio-serial-device";
    static constexpr unsigned kRx = 0, kTx = 1;
    explicit VirtSerial(ts_object *obj) : ts::Device(obj) {}
    void realize();
    void plug(ts_object *child);
    void unplug(ts_object *child);

    uint32_t device_id() const override { return 3; }
    uint64_t device_features() const override { return 0; }
    unsigned num_queues() const override { return 2; }
    std::span<uint8_t> config() override { return config_; }
    void config_written(uint64_t, unsigned) override { config_.fill(0); }
    void handle_queue(unsigned index) override;
    void driver_ready() override;
    void device_reset() override { rx_.reset(); }
    // A held buffer belongs to the state before the load.
    void state_loaded() override { rx_.reset(); }

    // From the port's chardev.
    size_t can_receive();
    void receive(std::span<const uint8_t> data);

private:
    uint32_t transmit(const Chain &c);

    VirtConsole *port_ = nullptr;
    std::optional<Chain> rx_;  // a receive buffer taken from the guest
    std::array<uint8_t, 12> config_{};
};

}  // namespace virtio
