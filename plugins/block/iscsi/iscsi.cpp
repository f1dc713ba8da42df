// The `iscsi` protocol driver (libiscsi, synchronous): iscsi://[user[%pass]@]
// host[:port]/IQN/LUN as -drive file= gives it, or the reference's
// -blockdev members (portal, target, lun, user, password-secret,
// initiator-name, header-digest, timeout). Guest requests are widened to
// whole logical blocks (read-modify-write for partial ones).
#include "../driver.hpp"

extern "C" {
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
}

#include <algorithm>
#include <memory>
#include <vector>

namespace {

using blk::child_ops;

struct TaskFree {
    void operator()(scsi_task *t) const { scsi_free_scsi_task(t); }
};
using Task = std::unique_ptr<scsi_task, TaskFree>;

class IscsiNode : public blk::Node {
public:
    static constexpr const char *format_name = "iscsi";
    explicit IscsiNode(ts_object *o) : Node(o) {}
    ~IscsiNode() {
        if (!ctx_) return;
        if (connected_) iscsi_logout_sync(ctx_);
        iscsi_destroy_context(ctx_);
    }

    void realize() {
        std::string initiator(has("initiator-name") ? str("initiator-name") : "iqn.2008-11.org.linux-kvm");
        ctx_ = iscsi_create_context(initiator.c_str());
        if (!ctx_) throw ts::Error("iSCSI: Could not create iSCSI context.");
        std::string portal, target, user, password;
        if (has("filename")) {
            std::string url(str("filename"));
            iscsi_url *u = iscsi_parse_full_url(ctx_, url.c_str());
            if (!u) throw ts::Error("Failed to parse URL : " + url);
            portal = u->portal, target = u->target, lun_ = u->lun, user = u->user, password = u->passwd;
            iscsi_destroy_url(u);
        } else {
            if (!has("portal") || !has("target")) throw ts::Error("iSCSI: portal and target are required");
            portal = str("portal"), target = str("target"), lun_ = int(size("lun"));
        }
        if (has("user")) user = str("user");
        if (has("password-secret")) {
            const auto &ops = child_ops();
            if (ops.size < offsetof(ts_block_child_ops, secret) + sizeof(void *) || !ops.secret)
                throw ts::Error("the kernel cannot look up secrets");
            char buf[1024];
            ts_error e{};
            std::string id(str("password-secret"));
            if (ops.secret(id.c_str(), buf, sizeof buf, &e) < 0) throw ts::Error(e.message);
            password = buf;
        }
        if (!user.empty()) {
            if (password.empty()) throw ts::Error("CHAP username specified but no password was given");
            if (iscsi_set_initiator_username_pwd(ctx_, user.c_str(), password.c_str()))
                throw ts::Error("Failed to set initiator username and password");
        }
        std::string digest(has("header-digest") ? str("header-digest") : "none-crc32c");
        static const std::pair<std::string_view, iscsi_header_digest> kDigests[] = {
            {"crc32c", ISCSI_HEADER_DIGEST_CRC32C}, {"none", ISCSI_HEADER_DIGEST_NONE},
            {"crc32c-none", ISCSI_HEADER_DIGEST_CRC32C_NONE}, {"none-crc32c", ISCSI_HEADER_DIGEST_NONE_CRC32C}};
        auto d = std::find_if(std::begin(kDigests), std::end(kDigests), [&](auto &p) { return p.first == digest; });
        if (d == std::end(kDigests)) throw ts::Error("Invalid header-digest setting : " + digest);
        iscsi_set_header_digest(ctx_, d->second);
        if (has("timeout")) iscsi_set_timeout(ctx_, int(size("timeout")));
        iscsi_set_targetname(ctx_, target.c_str());
        iscsi_set_session_type(ctx_, ISCSI_SESSION_NORMAL);
        if (iscsi_full_connect_sync(ctx_, portal.c_str(), lun_) != 0)
            throw ts::Error(std::string("iSCSI: Failed to connect to LUN : ") + iscsi_get_error(ctx_));
        connected_ = true;
        Task t(iscsi_readcapacity16_sync(ctx_, lun_));
        auto *rc = t && t->status == SCSI_STATUS_GOOD
                       ? static_cast<scsi_readcapacity16 *>(scsi_datain_unmarshall(t.get()))
                       : nullptr;
        if (!rc || rc->block_length == 0 || rc->block_length % 512)
            throw ts::Error("iSCSI: failed to read the capacity of LUN " + std::to_string(lun_) +
                            (t ? "" : std::string(": ") + iscsi_get_error(ctx_)));
        block_ = rc->block_length;
        length_ = (rc->returned_lba + 1) * block_;
    }

    void pread(uint64_t off, std::span<uint8_t> buf) {
        uint64_t first = off / block_, last = (off + buf.size() + block_ - 1) / block_;
        std::vector<uint8_t> data = read_blocks(first, last - first);
        std::copy_n(data.begin() + ptrdiff_t(off - first * block_), buf.size(), buf.begin());
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) {
        if (flag("read-only")) throw ts::Error("iSCSI: the LUN is open read-only");
        uint64_t first = off / block_, last = (off + buf.size() + block_ - 1) / block_;
        std::vector<uint8_t> data;
        if (off % block_ || buf.size() % block_) data = read_blocks(first, last - first);
        else data.resize(buf.size());
        std::copy(buf.begin(), buf.end(), data.begin() + ptrdiff_t(off - first * block_));
        for (uint64_t done = 0; done < data.size();) {
            uint32_t n = uint32_t(std::min<uint64_t>(data.size() - done, kMaxTransfer));
            Task t(iscsi_write16_sync(ctx_, lun_, first + done / block_, data.data() + done, n, int(block_), 0, 0, 0,
                                      0, 0));
            check(t, "write");
            done += n;
        }
    }
    void flush() {
        Task t(iscsi_synchronizecache10_sync(ctx_, lun_, 0, 0, 0, 0));
        check(t, "flush");
    }
    uint64_t length() { return length_; }

private:
    static constexpr uint64_t kMaxTransfer = 1u << 20;

    void check(const Task &t, const char *what) {
        if (!t) throw ts::Error(std::string("iSCSI ") + what + " failed: " + iscsi_get_error(ctx_));
        if (t->status != SCSI_STATUS_GOOD)
            throw ts::Error(std::string("iSCSI ") + what + " failed: " + scsi_sense_key_str(t->sense.key));
    }
    std::vector<uint8_t> read_blocks(uint64_t lba, uint64_t count) {
        std::vector<uint8_t> out(count * block_);
        for (uint64_t done = 0; done < out.size();) {
            uint32_t n = uint32_t(std::min<uint64_t>(out.size() - done, kMaxTransfer));
            Task t(iscsi_read16_sync(ctx_, lun_, lba + done / block_, n, int(block_), 0, 0, 0, 0, 0));
            check(t, "read");
            if (t->datain.size < 0 || uint32_t(t->datain.size) < n) throw ts::Error("iSCSI read returned short data");
            std::copy_n(t->datain.data, n, out.begin() + ptrdiff_t(done));
            done += n;
        }
        return out;
    }

    iscsi_context *ctx_ = nullptr;
    bool connected_ = false;
    int lun_ = 0;
    uint64_t block_ = 512, length_ = 0;
};

constexpr ts_prop_decl kProps[] = {
    blk::prop("filename", TS_PROP_STRING, nullptr, "iscsi://[user[%password]@]host[:port]/target/lun"),
    blk::prop("transport", TS_PROP_STRING, "tcp", "tcp (iser is not supported)"),
    blk::prop("portal", TS_PROP_STRING, nullptr, "host[:port] of the target"),
    blk::prop("target", TS_PROP_STRING, nullptr, "the target's IQN"),
    blk::prop("lun", TS_PROP_UINT, "0", "logical unit number"),
    blk::prop("user", TS_PROP_STRING, nullptr, "CHAP user name"),
    blk::prop("password-secret", TS_PROP_STRING, nullptr, "id of the -object secret holding the CHAP password"),
    blk::prop("initiator-name", TS_PROP_STRING, nullptr, "our IQN (default iqn.2008-11.org.linux-kvm)"),
    blk::prop("header-digest", TS_PROP_STRING, nullptr, "crc32c, none, crc32c-none or none-crc32c"),
    blk::prop("timeout", TS_PROP_UINT, nullptr, "seconds before a request fails (default: none)"),
    blk::prop("read-only", TS_PROP_BOOL, "off", "open the LUN read-only"),
};
const ts_block_driver_class kIscsi = blk::driver_class<IscsiNode>(kProps);

const void *get_class(const char *name) { return name && std::string_view(name) == "iscsi" ? &kIscsi : nullptr; }

}  // namespace

TESSERA_PLUGIN("block-iscsi", "1.0.0", "type block iscsi - - iSCSI LUN (libiscsi)\n", get_class);
