// virtio-blk request handling. A malformed request (no header, no status
// byte) is a protocol error; a bad sector range is an I/O error the guest sees.
#include "blk.hpp"

#include <algorithm>
#include <vector>

namespace virtio {

namespace {
constexpr uint64_t kSector = 512;
constexpr size_t kChunk = 64 * 1024;  // bounce buffer size
constexpr size_t kIdBytes = 20;
}  // namespace

uint64_t Blk::device_features() const { return kFSegMax | kFBlkSize | kFFlush | (read_only_ ? kFRo : 0); }

void Blk::fill_config() {
    config_.fill(0);
    std::span<uint8_t> c(config_);
    put_le(c, 0, sectors_, 8);          // capacity
    put_le(c, 12, kQueueSize - 2, 4);   // seg_max: leave room for header and status
    put_le(c, 20, kSector, 4);          // blk_size
    put_le(c, 34, 1, 2);                // num_queues
}

void Blk::handle_queue(unsigned index) {
    if (index == 0) drain(0, [this](const Chain &c) { return process(c); });
}

// Request: 16-byte header {type, reserved, sector} readable, data, then one
// writable status byte at the very end.
uint32_t Blk::process(const Chain &c) {
    if (c.out_len < 16) throw GuestError("virtio-blk request without a 16-byte header");
    if (c.in_len < 1) throw GuestError("virtio-blk request without a status byte");
    std::array<uint8_t, 16> hdr{};
    c.read(0, hdr);
    auto type = static_cast<uint32_t>(get_le(hdr, 0, 4));
    uint64_t sector = get_le(hdr, 8, 8);
    uint64_t data_in = c.in_len - 1;
    uint64_t data_out = c.out_len - 16;
    uint8_t status = kOk;
    uint32_t written = 0;
    switch (type) {
    case kIn:
        status = do_read(c, sector, data_in);
        if (status == kOk) written = static_cast<uint32_t>(data_in);
        break;
    case kOut: status = do_write(c, sector, data_out); break;
    case kFlush: {
        ts_error err{};
        if (ts::host().block_flush(be_, &err) != TS_OK) status = kIoErr;
        break;
    }
    case kGetId: {
        std::array<uint8_t, kIdBytes> id{};
        std::copy_n(serial_.begin(), std::min(serial_.size(), kIdBytes), id.begin());
        size_t n = std::min<uint64_t>(data_in, kIdBytes);
        c.write(0, std::span<const uint8_t>(id).first(n));
        written = static_cast<uint32_t>(n);
        break;
    }
    default:
        // Discard, write-zeroes... are not offered as features; a guest
        // sending them anyway gets UNSUPP and -d unimp says so.
        ts::log_unimp("virtio-blk: request type %u not supported\n", type);
        status = kUnsupp;
        break;
    }
    c.write(c.in_len - 1, std::span<const uint8_t>(&status, 1));
    return written + 1;
}

uint8_t Blk::do_read(const Chain &c, uint64_t sector, uint64_t len) {
    if (len % kSector || sector > sectors_ || len / kSector > sectors_ - sector) {
        ts::guest_error("%s: read of %llu bytes at sector %llu is out of range", path(),
                        static_cast<unsigned long long>(len), static_cast<unsigned long long>(sector));
        return kIoErr;
    }
    std::vector<uint8_t> buf(std::min<uint64_t>(len, kChunk));
    for (uint64_t done = 0; done < len;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, buf.size()));
        ts_error err{};
        if (ts::host().block_pread(be_, sector * kSector + done, buf.data(), n, &err) != TS_OK) return kIoErr;
        c.write(done, std::span<const uint8_t>(buf.data(), n));
        done += n;
    }
    return kOk;
}

uint8_t Blk::do_write(const Chain &c, uint64_t sector, uint64_t len) {
    if (read_only_) return kIoErr;
    if (len % kSector || sector > sectors_ || len / kSector > sectors_ - sector) {
        ts::guest_error("%s: write of %llu bytes at sector %llu is out of range", path(),
                        static_cast<unsigned long long>(len), static_cast<unsigned long long>(sector));
        return kIoErr;
    }
    std::vector<uint8_t> buf(std::min<uint64_t>(len, kChunk));
    for (uint64_t done = 0; done < len;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, buf.size()));
        c.read(16 + done, std::span<uint8_t>(buf.data(), n));
        ts_error err{};
        if (ts::host().block_pwrite(be_, sector * kSector + done, buf.data(), n, &err) != TS_OK) return kIoErr;
        done += n;
    }
    return kOk;
}

void Blk::realize() {
    if (prop_str("drive").empty()) throw ts::Error("drive property is required");
    ts_error err{};
    be_ = ts::host().block_attach(object(), "drive", &err);
    if (!be_) throw ts::Error(err.message);
    read_only_ = ts::host().block_read_only(be_) != 0;
    sectors_ = ts::host().block_length(be_) / kSector;
    serial_ = std::string(prop_str("serial"));
    fill_config();
}

}  // namespace virtio
