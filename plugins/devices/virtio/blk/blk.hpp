// virtio-blk-device (virtio 1.2, 5.2): one request queue; IN, OUT, FLUSH and
// GET_ID requests on the drive= block node.
#pragma once

#include "../virtio.hpp"

#include <array>
#include <string>

namespace virtio {

class Blk : public ts::Device, public virtio::Device {
public:
    static constexpr const char *type_name = "virtio-blk-device";
    static constexpr unsigned kQueueSize = 256;
    // Feature bits.
    static constexpr uint64_t kFSegMax = 1ull << 2, kFRo = 1ull << 5, kFBlkSize = 1ull << 6, kFFlush = 1ull << 9;
    // Request types and status.
    static constexpr uint32_t kIn = 0, kOut = 1, kFlush = 4, kGetId = 8;
    static constexpr uint8_t kOk = 0, kIoErr = 1, kUnsupp = 2;

    explicit Blk(ts_object *obj) : ts::Device(obj) {}
    void realize();

    uint32_t device_id() const override { return 2; }
    uint64_t device_features() const override;
    unsigned num_queues() const override { return 1; }
    unsigned queue_max(unsigned) const override { return kQueueSize; }
    std::span<uint8_t> config() override { return config_; }
    void config_written(uint64_t, unsigned) override { fill_config(); }  // read-only fields
    void handle_queue(unsigned index) override;

private:
    uint32_t process(const Chain &c);
    uint8_t do_read(const Chain &c, uint64_t sector, uint64_t len);
    uint8_t do_write(const Chain &c, uint64_t sector, uint64_t len);
    void fill_config();

    ts_block_be *be_ = nullptr;
    bool read_only_ = false;
    uint64_t sectors_ = 0;
    std::string serial_;
    std::array<uint8_t, 60> config_{};
};

}  // namespace virtio
