#include "snapshot/savevm.hpp"

#include "block/block.hpp"
#include "host/host_table.hpp"
#include "loop/clock.hpp"
#include "qom/object.hpp"
#include "snapshot/vmstate.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/block.h>

#include <cmath>
#include <ctime>
#include <vector>

namespace tessera {
namespace {

// A writable disk and what it can do about snapshots.
struct Disk {
    std::string name;                   // the drive's name, else its node's
    BlockNode *node;
    const ts_block_snapshot_ops *ops;   // null: no internal snapshots
    void *self() const { return node->object()->instance; }
};

std::vector<Disk> writable_disks() {
    std::vector<Disk> out;
    for (BlockBackend *b : block_backends()) {
        BlockNode *n = b->root();
        if (!n || b->read_only() || n->read_only()) continue;
        bool dup = false;
        for (const Disk &d : out) dup |= d.node == n;
        if (dup) continue;
        out.push_back({b->name().empty() ? n->name() : b->name(), n, node_snapshot_ops(*n)});
    }
    return out;
}

[[noreturn]] void fail(const std::string &what, const ts_error &err) {
    throw SnapshotError(what + (err.message[0] ? std::string(": ") + err.message : std::string()));
}

std::vector<ts_block_snapshot_info> list(const Disk &d) {
    std::vector<ts_block_snapshot_info> out(16);
    for (;;) {
        ts_error err{};
        int64_t n = d.ops->list(d.self(), out.data(), out.size(), &err);
        if (n < 0) fail("Error while listing snapshots on '" + d.name + "'", err);
        if (size_t(n) <= out.size()) {
            out.resize(size_t(n));
            return out;
        }
        out.resize(size_t(n));
    }
}

// The reference matches a snapshot by id first, then by name.
const ts_block_snapshot_info *find(const std::vector<ts_block_snapshot_info> &snaps, std::string_view key) {
    for (const auto &s : snaps)
        if (key == s.id) return &s;
    for (const auto &s : snaps)
        if (key == s.name) return &s;
    return nullptr;
}

// Every writable disk must take snapshots; the first holds the VM state.
std::vector<Disk> snapshot_disks() {
    std::vector<Disk> disks = writable_disks();
    for (const Disk &d : disks)
        if (!d.ops) throw SnapshotError("Device '" + d.name + "' is writable but does not support snapshots");
    if (disks.empty()) throw SnapshotError("no block device can store vmstate for snapshot");
    return disks;
}

// Pauses the guest for the duration; runs it again only if it ran before.
class Paused {
public:
    Paused() : was_running_(runstate() == RunState::Running) {
        if (was_running_) vm_stop(RunState::Paused);
    }
    ~Paused() {
        if (was_running_ && runstate() == RunState::Paused) vm_start();
    }
    Paused(const Paused &) = delete;
    Paused &operator=(const Paused &) = delete;

private:
    bool was_running_;
};

class DiskSink final : public VmStateSink {
public:
    explicit DiskSink(const Disk &d) : d_(d) { buf_.reserve(kChunk); }
    void write(std::span<const uint8_t> bytes) override {
        while (!bytes.empty()) {
            size_t n = std::min(bytes.size(), kChunk - buf_.size());
            buf_.insert(buf_.end(), bytes.begin(), bytes.begin() + ptrdiff_t(n));
            bytes = bytes.subspan(n);
            if (buf_.size() == kChunk) flush();
        }
    }
    void flush() {
        if (buf_.empty()) return;
        ts_error err{};
        if (d_.ops->vmstate_write(d_.self(), pos_, buf_.data(), buf_.size(), &err) != TS_OK)
            fail("Error while writing VM state to '" + d_.name + "'", err);
        pos_ += buf_.size();
        buf_.clear();
    }

private:
    static constexpr size_t kChunk = 1 << 20;
    const Disk &d_;
    uint64_t pos_ = 0;
    std::vector<uint8_t> buf_;
};

class DiskSource final : public VmStateSource {
public:
    DiskSource(const Disk &d, std::string snap, uint64_t size) : d_(d), snap_(std::move(snap)), size_(size) {}
    void read(uint64_t pos, std::span<uint8_t> buf) override {
        if (pos > size_ || buf.size() > size_ - pos) throw VmStateError("vmstate: the saved state ends early");
        ts_error err{};
        if (d_.ops->vmstate_read(d_.self(), snap_.c_str(), pos, buf.data(), buf.size(), &err) != TS_OK)
            fail("Error while reading VM state from '" + d_.name + "'", err);
    }

private:
    const Disk &d_;
    std::string snap_;
    uint64_t size_;
};

std::string default_name() {
    time_t now = time(nullptr);
    tm t{};
    localtime_r(&now, &t);
    char buf[64];
    strftime(buf, sizeof buf, "vm-%Y%m%d%H%M%S", &t);
    return buf;
}

// The reference's size_to_str: three significant digits, binary units.
std::string size_text(uint64_t v) {
    static const char *const kUnits[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int e = 0;
    std::frexp(double(v) / (1000.0 / 1024.0), &e);
    int i = (e - 1) / 10;
    if (i < 0) i = 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0.3g %sB", double(v) / double(uint64_t{1} << (i * 10)), kUnits[i]);
    return buf;
}

std::string header_line() {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    return buf;
}

std::string snapshot_line(const ts_block_snapshot_info &s, const char *id) {
    char date[32], clock[32], icount[32] = "";
    time_t secs = time_t(s.date_sec);
    tm t{};
    localtime_r(&secs, &t);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &t);
    uint64_t ms = s.vm_clock_nsec / 1000000, sec = ms / 1000;
    std::snprintf(clock, sizeof clock, "%02u:%02u:%02u.%03u", unsigned(sec / 3600), unsigned(sec / 60 % 60),
                  unsigned(sec % 60), unsigned(ms % 1000));
    if (s.icount >= 0) std::snprintf(icount, sizeof icount, "%lld", static_cast<long long>(s.icount));
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-9s %-17s %8s%20s%13s%11s\n", id, s.name, size_text(s.vm_state_size).c_str(), date,
                  clock, icount);
    return buf;
}

}  // namespace

void savevm(std::string_view name_in) {
    std::vector<Disk> disks = snapshot_disks();
    std::string name = name_in.empty() ? default_name() : std::string(name_in);
    Paused paused;
    block_flush_all();
    // The reference's savevm replaces a snapshot of that name.
    for (const Disk &d : disks) {
        auto snaps = list(d);
        if (const ts_block_snapshot_info *old = find(snaps, name)) {
            ts_error err{};
            std::string key = old->id;
            if (d.ops->remove(d.self(), key.c_str(), &err) != TS_OK)
                fail("Error while deleting snapshot on device '" + d.name + "'", err);
        }
    }
    int64_t clock = clock_ns(Clock::Virtual);
    DiskSink sink(disks.front());
    uint64_t size;
    try {
        size = vmstate_save(sink, object_root(), host_system_memory(), clock);
        sink.flush();
    } catch (const VmStateError &e) {
        throw SnapshotError(std::string("Error while writing VM state: ") + e.what());
    }
    for (const Disk &d : disks) {
        ts_error err{};
        if (d.ops->create(d.self(), name.c_str(), &d == &disks.front() ? size : 0, uint64_t(clock), &err) != TS_OK)
            fail("Error while creating snapshot on '" + d.name + "'", err);
    }
}

void loadvm(std::string_view name_in) {
    std::string name(name_in);
    std::vector<Disk> disks = snapshot_disks();
    std::vector<std::string> keys;
    uint64_t vm_state_size = 0;
    for (const Disk &d : disks) {
        auto snaps = list(d);
        const ts_block_snapshot_info *s = find(snaps, name);
        if (!s) throw SnapshotError("Snapshot '" + name + "' does not exist in one or more devices");
        if (&d == &disks.front()) {
            if (!s->vm_state_size) throw SnapshotError("This is a disk-only snapshot. Revert to it  offline using qemu-img");
            vm_state_size = s->vm_state_size;
        }
        keys.emplace_back(s->id);
    }
    Paused paused;
    block_flush_all();
    DiskSource src(disks.front(), keys.front(), vm_state_size);
    try {
        vmstate_load(src, object_root(), host_system_memory(), [&] {
            for (size_t i = 0; i < disks.size(); i++) {
                ts_error err{};
                if (disks[i].ops->apply(disks[i].self(), keys[i].c_str(), &err) != TS_OK)
                    fail("Could not revert to snapshot '" + name + "' on device '" + disks[i].name + "'", err);
            }
        });
    } catch (const VmStateError &e) {
        throw SnapshotError(std::string("Error while loading VM state: ") + e.what());
    }
}

void delvm(std::string_view name_in) {
    std::string name(name_in);
    for (const Disk &d : writable_disks()) {
        if (!d.ops) continue;
        auto snaps = list(d);
        // Every snapshot of that name or id goes, as the reference's delvm.
        while (const ts_block_snapshot_info *s = find(snaps, name)) {
            ts_error err{};
            std::string key = s->id;
            if (d.ops->remove(d.self(), key.c_str(), &err) != TS_OK)
                fail("Error while deleting snapshot on device '" + d.name + "'", err);
            snaps = list(d);
        }
    }
}

std::string snapshots_info_text() {
    std::vector<Disk> disks;
    for (Disk &d : writable_disks())
        if (d.ops) disks.push_back(std::move(d));
    if (disks.empty()) return "no block device can store vmstate for snapshot\n";
    std::vector<std::vector<ts_block_snapshot_info>> lists;
    bool any = false;
    for (const Disk &d : disks) {
        lists.push_back(list(d));
        any |= !lists.back().empty();
    }
    if (!any) return "There is no snapshot available.\n";
    // Loadable: present (by name; ids differ between disks) on every disk.
    auto on_all = [&](const ts_block_snapshot_info &s) {
        for (const auto &l : lists) {
            bool found = false;
            for (const auto &o : l) found |= std::string_view(o.name) == s.name;
            if (!found) return false;
        }
        return true;
    };
    std::string out = "List of snapshots present on all disks:\n";
    std::string rows;
    for (const auto &s : lists.front())
        if (on_all(s)) rows += snapshot_line(s, "--");
    out += rows.empty() ? "None\n" : header_line() + rows;
    for (size_t i = 0; i < disks.size(); i++) {
        std::string partial;
        for (const auto &s : lists[i])
            if (!on_all(s)) partial += snapshot_line(s, s.id);
        if (!partial.empty())
            out += "\nList of partial (non-loadable) snapshots on '" + disks[i].name + "':\n" + header_line() + partial;
    }
    return out;
}

}  // namespace tessera
