// The qcow2 engine against the reference's tools: images qemu-img makes
// (plain, converted, compressed with zlib and zstd, with backing files,
// every refcount width) read back what was put in; images we write pass
// `qemu-img check` and `qemu-img compare` with a raw file holding the same
// writes; corrupt headers give one line naming the problem.
#include "image.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using namespace qcow2;

namespace {

class FileStorage final : public Storage {
public:
    explicit FileStorage(const std::string &path, bool create = false)
        : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644)) {
        if (fd_ < 0) throw Error("open " + path);
    }
    ~FileStorage() override { ::close(fd_); }
    void pread(uint64_t off, std::span<uint8_t> buf) override {
        if (off + buf.size() > length()) throw Error("read past the end of the file");
        if (::pread(fd_, buf.data(), buf.size(), off_t(off)) != ssize_t(buf.size())) throw Error("short read");
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) override {
        if (off + buf.size() > length()) throw Error("write past the end of the file");
        if (::pwrite(fd_, buf.data(), buf.size(), off_t(off)) != ssize_t(buf.size())) throw Error("short write");
    }
    void flush() override { ::fdatasync(fd_); }
    uint64_t length() override { return uint64_t(::lseek(fd_, 0, SEEK_END)); }
    void truncate(uint64_t len) override {
        if (::ftruncate(fd_, off_t(len))) throw Error("truncate");
    }

private:
    int fd_;
};

// What a shell command prints (stdout and stderr), and its exit status.
std::string output_of(const std::string &cmd, int *status = nullptr) {
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    char line[512];
    while (p && fgets(line, sizeof line, p)) out += line;
    int r = p ? pclose(p) : -1;
    if (status) *status = WIFEXITED(r) ? WEXITSTATUS(r) : -1;
    return out;
}

// `qemu-img check` output when it finds anything (for the failure message).
std::string check_report(const std::string &img) {
    int status = 0;
    std::string out = output_of("qemu-img check " + img, &status);
    return status == 0 ? "" : out;
}

int run(const std::string &cmd) {
    int r = std::system((cmd + " >/dev/null 2>&1").c_str());
    return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

class Qcow2 : public ::testing::Test {
protected:
    void SetUp() override {
        if (run("qemu-img --version") != 0) GTEST_SKIP() << "qemu-img is not installed";
        dir_ = fs::path(TEST_TMPDIR) / ("qcow2-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string &n) { return (dir_ / n).string(); }

    // A raw file of `size` patterned bytes (zero runs included).
    std::string pattern_raw(const std::string &name, uint64_t size, uint32_t seed) {
        std::vector<uint8_t> d(size);
        std::mt19937 rng(seed);
        for (uint64_t i = 0; i < size; i += 4096) {
            bool zero = rng() % 4 == 0;
            for (uint64_t j = i; j < std::min(size, i + 4096); j++) d[j] = zero ? 0 : uint8_t(rng() % 7 + j / 4096);
        }
        std::ofstream(path(name), std::ios::binary).write(reinterpret_cast<char *>(d.data()), std::streamsize(size));
        return path(name);
    }
    static std::vector<uint8_t> file_bytes(const std::string &p) {
        std::ifstream f(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(f), {}};
    }
    static std::vector<uint8_t> read_all(Image &img) {
        std::vector<uint8_t> out(img.size());
        for (uint64_t off = 0; off < out.size(); off += 1 << 20)
            img.read(off, std::span(out).subspan(off, std::min<size_t>(1 << 20, out.size() - off)));
        return out;
    }
    // Random writes of random sizes to both the image and a raw twin.
    void random_writes(Image &img, const std::string &raw, int n, uint32_t seed) {
        FileStorage twin(raw);
        std::mt19937_64 rng(seed);
        for (int i = 0; i < n; i++) {
            uint64_t len = rng() % 3 == 0 ? 1 + rng() % 200000 : 512 * (1 + rng() % 16);
            uint64_t off = rng() % (img.size() - len);
            std::vector<uint8_t> d(len);
            for (auto &b : d) b = uint8_t(rng());
            img.write(off, d);
            twin.pwrite(off, d);
            if (rng() % 10 == 0) img.flush();
            if (rng() % 15 == 0) {
                uint64_t doff = rng() % img.size(), dlen = std::min<uint64_t>(rng() % 300000, img.size() - doff);
                img.discard(doff, dlen);
                // What the guest now reads there is what the twin must hold.
                std::vector<uint8_t> now(dlen);
                img.read(doff, now);
                twin.pwrite(doff, now);
            }
        }
    }
    fs::path dir_;
};

TEST_F(Qcow2, CreatedImagesPassCheckAndCompareAcrossClusterSizes) {
    for (uint32_t bits : {9u, 12u, 16u, 21u})
        for (uint32_t version : {2u, 3u}) {
            SCOPED_TRACE("cluster_bits " + std::to_string(bits) + " v" + std::to_string(version));
            std::string q = path("w.qcow2"), raw = path("w.raw");
            uint64_t size = 8u << 20;
            {
                std::ofstream(raw, std::ios::binary | std::ios::trunc);
                fs::resize_file(raw, size);
                FileStorage f(q, true);
                CreateOptions o;
                o.size = size;
                o.cluster_bits = bits;
                o.version = version;
                Image::create(f, o);
                Image img(f, {});
                random_writes(img, raw, 60, bits * 10 + version);
                img.close();
            }
            EXPECT_EQ(run("qemu-img check -f qcow2 " + q), 0);
            EXPECT_EQ(run("qemu-img compare -f qcow2 -F raw " + q + " " + raw), 0);
        }
}

TEST_F(Qcow2, ReadsWhatQemuImgConvertWrote) {
    std::string raw = pattern_raw("src.raw", 5u << 20, 7);
    auto want = file_bytes(raw);
    struct Case { const char *name, *opts; };
    for (Case c : {Case{"plain", "-o cluster_size=65536"}, Case{"small", "-o cluster_size=512"},
                   Case{"v2", "-o compat=0.10,cluster_size=4096"}, Case{"zlib", "-c"},
                   Case{"zstd", "-c -o compression_type=zstd"}, Case{"big", "-o cluster_size=2M"},
                   Case{"rc1", "-o refcount_bits=1"}, Case{"rc64", "-o refcount_bits=64"}}) {
        SCOPED_TRACE(c.name);
        std::string q = path(std::string(c.name) + ".qcow2");
        ASSERT_EQ(run("qemu-img convert -f raw -O qcow2 " + std::string(c.opts) + " " + raw + " " + q), 0);
        FileStorage f(q);
        Image img(f, {});
        EXPECT_EQ(read_all(img), want);
        // Overwrite part of it (compressed clusters become normal ones).
        std::vector<uint8_t> d(100000, 0xab);
        img.write(12345, d);
        std::copy(d.begin(), d.end(), want.begin() + 12345);
        img.close();
        EXPECT_EQ(read_all(img), want);
        EXPECT_EQ(run("qemu-img check -f qcow2 " + q), 0);
        std::ofstream(path("want.raw"), std::ios::binary).write(reinterpret_cast<char *>(want.data()), std::streamsize(want.size()));
        EXPECT_EQ(run("qemu-img compare -f qcow2 -F raw " + q + " " + path("want.raw")), 0);
        want = file_bytes(raw);
    }
}

TEST_F(Qcow2, BackingFileShowsThroughUntilWritten) {
    std::string base = pattern_raw("base.raw", 3u << 20, 3);
    std::string top = path("top.qcow2");
    ASSERT_EQ(run("qemu-img create -f qcow2 -b base.raw -F raw " + top), 0);
    auto want = file_bytes(base);
    {
        FileStorage f(top), b(base);
        Image img(f, {});
        EXPECT_EQ(img.header().backing_file, "base.raw");
        EXPECT_EQ(img.header().backing_format, "raw");
        img.set_backing(&b);
        EXPECT_EQ(read_all(img), want);
        std::vector<uint8_t> d(777, 0x5a);
        img.write(65536 * 3 + 100, d);
        std::copy(d.begin(), d.end(), want.begin() + 65536 * 3 + 100);
        img.discard(0, 65536);  // v3: reads zeroes now, not the backing file
        std::fill_n(want.begin(), 65536, 0);
        img.close();
        EXPECT_EQ(read_all(img), want);
    }
    EXPECT_EQ(run("qemu-img check " + top), 0);
    std::ofstream(path("want.raw"), std::ios::binary).write(reinterpret_cast<char *>(want.data()), std::streamsize(want.size()));
    EXPECT_EQ(run("qemu-img compare -F raw " + top + " " + path("want.raw")), 0);
    EXPECT_EQ(file_bytes(base), file_bytes(base));
}

TEST_F(Qcow2, TinyL2CacheStillConsistent) {
    std::string q = path("c.qcow2"), raw = path("c.raw");
    uint64_t size = 64u << 20;
    std::ofstream(raw, std::ios::binary | std::ios::trunc);
    fs::resize_file(raw, size);
    FileStorage f(q, true);
    CreateOptions o;
    o.size = size;
    o.cluster_bits = 12;  // 512 guest clusters per L2 table: many tables
    Image::create(f, o);
    {
        OpenOptions oo;
        oo.l2_cache_size = 2 * 4096;
        Image img(f, oo);
        random_writes(img, raw, 80, 99);
        img.close();
    }
    EXPECT_EQ(run("qemu-img check -f qcow2 " + q), 0);
    EXPECT_EQ(run("qemu-img compare -f qcow2 -F raw " + q + " " + raw), 0);
}

// Internal snapshots both ways: ours listed and applied by qemu-img, the
// reference's listed, applied and deleted by us; check passes throughout.
TEST_F(Qcow2, InternalSnapshotsInteroperate) {
    std::string q = path("s.qcow2");
    ASSERT_EQ(run("qemu-img create -f qcow2 -o cluster_size=4096 " + q + " 4M"), 0);
    std::vector<uint8_t> a(300000, 0xaa), b(200000, 0xbb);
    {
        FileStorage f(q);
        Image img(f, {});
        img.write(10000, a);
        img.snapshot_create("first");
        img.write(50000, b);  // copy-on-write of shared clusters
        img.close();
        ASSERT_EQ(img.snapshots().size(), 1u);
        EXPECT_EQ(img.snapshots()[0].id, "1");
    }
    EXPECT_EQ(check_report(q), "");
    std::string listing = output_of("qemu-img snapshot -l " + q);
    EXPECT_NE(listing.find("first"), std::string::npos) << listing;
    // The reference applies ours: the disk as it was at "first".
    ASSERT_EQ(run("cp " + q + " " + path("copy.qcow2")), 0);
    ASSERT_EQ(run("qemu-img snapshot -a first " + path("copy.qcow2")), 0);
    ASSERT_EQ(run("qemu-img convert -O raw " + path("copy.qcow2") + " " + path("first.raw")), 0);
    auto first = file_bytes(path("first.raw"));
    for (size_t i = 0; i < first.size(); i++)
        ASSERT_EQ(first[i], i >= 10000 && i < 310000 ? 0xaa : 0) << i;

    // The reference's snapshot, applied and deleted by us.
    ASSERT_EQ(run("qemu-io -c 'write -P 0xcc 0 8192' " + q), 0);
    ASSERT_EQ(run("qemu-img snapshot -c theirs " + q), 0);
    ASSERT_EQ(run("qemu-io -c 'write -P 0xdd 0 65536' " + q), 0);
    {
        FileStorage f(q);
        Image img(f, {});
        ASSERT_EQ(img.snapshots().size(), 2u);
        EXPECT_EQ(img.snapshots()[1].name, "theirs");
        EXPECT_EQ(img.snapshots()[1].id, "2");
        std::vector<uint8_t> r(70000);
        img.read(0, r);
        EXPECT_EQ(r[65535], 0xdd);
        img.snapshot_apply("theirs");
        img.read(0, r);
        for (size_t i = 0; i < r.size(); i++)
            ASSERT_EQ(r[i], i < 8192 ? 0xcc : i < 10000 ? 0 : i < 50000 ? 0xaa : 0xbb) << i;
        EXPECT_THROW(img.snapshot_create("theirs"), Error);
        img.snapshot_delete("first");
        EXPECT_THROW(img.snapshot_delete("first"), Error);
        img.write(1000, b);
        img.snapshot_delete("2");
        EXPECT_TRUE(img.snapshots().empty());
        img.close();
    }
    EXPECT_EQ(run("qemu-img check " + q), 0);
    ASSERT_EQ(run("qemu-img convert -O raw " + q + " " + path("now.raw")), 0);
    auto now = file_bytes(path("now.raw"));
    for (size_t i = 0; i < 300000; i++)
        ASSERT_EQ(now[i], i >= 1000 && i < 201000 ? 0xbb
                          : i < 8192                ? 0xcc
                          : i < 10000               ? 0
                          : i < 50000               ? 0xaa
                          : i < 250000              ? 0xbb
                                                    : 0xaa)
            << i;
}

// A dirty image (lazy refcounts, not closed cleanly) with a refcount gone
// stale: a read-write open recounts, and the reference then finds nothing.
TEST_F(Qcow2, DirtyImageIsRepairedOnOpen) {
    std::string q = path("d.qcow2");
    ASSERT_EQ(run("qemu-img create -f qcow2 -o lazy_refcounts=on,cluster_size=4096 " + q + " 1M"), 0);
    ASSERT_EQ(run("qemu-io -c 'write -P 0x42 0 100k' " + q), 0);
    uint64_t data = 0, block = 0;
    {
        FileStorage f(q);
        Image img(f, {.read_only = true, .l2_cache_size = {}});
        data = img.allocated_entries().at(3).second & kOffsetMask;
        uint8_t e[8];
        f.pread(img.header().refcount_table_offset, e);
        block = be64(e);
        // Stale: the cluster's refcount dropped to zero; the dirty bit set.
        uint8_t zero[2] = {0, 0};
        f.pwrite(block + 2 * (data >> 12), zero);
        uint8_t hdr[8];
        f.pread(72, hdr);
        hdr[7] |= 1;
        f.pwrite(72, hdr);
    }
    EXPECT_NE(run("qemu-img check " + q), 0);
    {
        FileStorage f(q);
        Image img(f, {});
        EXPECT_EQ(img.header().incompatible & kIncompatDirty, 0u);
        std::vector<uint8_t> r(102400);
        img.read(0, r);
        EXPECT_EQ(r, std::vector<uint8_t>(102400, 0x42));
    }
    EXPECT_EQ(check_report(q), "");
}

// 512-byte clusters and 16-bit refcounts: one refcount table cluster covers
// only 8 MiB of file, so filling 20 MiB grows the table (twice).
TEST_F(Qcow2, RefcountTableGrows) {
    std::string q = path("g.qcow2"), raw = path("g.raw");
    uint64_t size = 24u << 20;
    std::ofstream(raw, std::ios::binary | std::ios::trunc);
    fs::resize_file(raw, size);
    {
        FileStorage f(q, true), twin(raw);
        CreateOptions o;
        o.size = size;
        o.cluster_bits = 9;
        Image::create(f, o);
        Image img(f, {});
        std::vector<uint8_t> d(1 << 20);
        for (uint64_t off = 0; off < (20u << 20); off += d.size()) {
            for (size_t i = 0; i < d.size(); i++) d[i] = uint8_t(off / 4096 + i / 512);
            img.write(off, d);
            twin.pwrite(off, d);
        }
        img.close();
        EXPECT_GT(img.header().refcount_table_clusters, 1u);
    }
    EXPECT_EQ(check_report(q), "");
    EXPECT_EQ(run("qemu-img compare -f qcow2 -F raw " + q + " " + raw), 0);
}

// Crafted headers: each names its problem in one line.
TEST_F(Qcow2, CorruptHeadersNameTheProblem) {
    MemStorage good;
    CreateOptions o;
    o.size = 1 << 20;
    Image::create(good, o);
    auto error_of = [&](auto mutate) -> std::string {
        MemStorage m(good.data);
        mutate(m.data);
        try {
            Image img(m, {});
            std::vector<uint8_t> buf(4096);
            img.read(0, buf);
            img.write(0, buf);
            img.flush();
        } catch (const Error &e) {
            return e.what();
        }
        return "";
    };
    EXPECT_EQ(error_of([](auto &d) { d[0] = 'X'; }), "Image is not in qcow2 format");
    EXPECT_EQ(error_of([](auto &d) { put32(&d[4], 9); }), "Unsupported qcow2 version 9");
    EXPECT_EQ(error_of([](auto &d) { put32(&d[20], 30); }), "Cluster size must be a power of two between 512 and 2048k");
    EXPECT_EQ(error_of([](auto &d) { put64(&d[40], 1ull << 40); }),
              "qcow2: L1 table at 0x10000000000 (8 bytes) is beyond the end of the image file");
    EXPECT_EQ(error_of([](auto &d) { put64(&d[48], 12345); }), "qcow2: refcount table offset 0x3039 is not cluster aligned");
    EXPECT_EQ(error_of([](auto &d) { put32(&d[36], 0x10000000); }), "Active L1 table too large");
    EXPECT_EQ(error_of([](auto &d) { put64(&d[72], 2); }), "qcow2: Image is corrupt; cannot be opened read/write");
    EXPECT_EQ(error_of([](auto &d) { put64(&d[72], 1ull << 40); }), "Unsupported qcow2 feature(s): 0x10000000000");
    EXPECT_EQ(error_of([](auto &d) { put32(&d[96], 7); }),
              "Reference count entry width too large; may not exceed 64 bits");
    // An L1 entry pointing past the end of the file.
    EXPECT_EQ(error_of([&](auto &d) { put64(&d[be64(&d[40])], 0x7000000000ull); }),
              "qcow2: L2 table offset 0x7000000000 (L1 index 0) is unaligned or beyond the end of the image file");
    EXPECT_EQ(error_of([](auto &d) { d.resize(40); }), "qcow2: image file too short for a header");
    EXPECT_EQ(error_of([](auto &) {}), "");
}

}  // namespace

namespace {

// The VM state of internal snapshots (savevm): written past the disk (the L1
// table grows to reach it), taken by the snapshot with its size, gone from
// the active tables, read back from the snapshot; qemu-img lists the size
// and finds the image consistent; a second state replaces nothing else.
TEST_F(Qcow2, VmStateLivesInSnapshots) {
    std::string q = path("vm.qcow2");
    // 4 KiB clusters: one L1 entry covers 2 MiB, so a 3 MiB state needs two more.
    ASSERT_EQ(run("qemu-img create -f qcow2 -o cluster_size=4096 " + q + " 1M"), 0);
    std::vector<uint8_t> state(3 << 20);
    std::mt19937 rng(7);
    for (auto &b : state) b = uint8_t(rng());
    std::vector<uint8_t> disk(8192, 0x5a);
    {
        FileStorage f(q);
        Image img(f, {});
        img.write(0, disk);
        uint64_t l1_before = img.header().l1_size;
        // In pieces, as the kernel streams it.
        for (size_t at = 0; at < state.size(); at += 700000)
            img.vmstate_write(at, std::span(state).subspan(at, std::min<size_t>(700000, state.size() - at)));
        EXPECT_GT(img.header().l1_size, l1_before);
        img.snapshot_create("s1", 123456789, state.size());
        img.write(0, std::vector<uint8_t>(4096, 0x11));  // the disk moves on
        std::vector<uint8_t> back(state.size());
        img.vmstate_read("s1", 0, back);
        EXPECT_TRUE(back == state);
        std::vector<uint8_t> part(100);
        img.vmstate_read("1", 2 << 20, part);  // by id, a slice
        EXPECT_TRUE(std::equal(part.begin(), part.end(), state.begin() + (2 << 20)));
        EXPECT_THROW(img.vmstate_read("s1", state.size() - 10, part), Error);  // past its size
        EXPECT_THROW(img.vmstate_read("nope", 0, part), Error);
        ASSERT_EQ(img.snapshots().size(), 1u);
        EXPECT_EQ(img.snapshots()[0].vm_state_size, state.size());
        EXPECT_EQ(img.snapshots()[0].vm_clock_nsec, 123456789u);
        img.close();
    }
    EXPECT_EQ(check_report(q), "");
    std::string listing = output_of("qemu-img snapshot -l " + q);
    EXPECT_NE(listing.find("s1                  3 MiB"), std::string::npos) << listing;
    {
        // Reopened: the state is still there; apply brings back disk and state.
        FileStorage f(q);
        Image img(f, {});
        img.snapshot_apply("s1");
        std::vector<uint8_t> r(8192);
        img.read(0, r);
        EXPECT_TRUE(r == disk);
        std::vector<uint8_t> back(state.size());
        img.vmstate_read("s1", 0, back);
        EXPECT_TRUE(back == state);
        // A second snapshot with a smaller state; the first keeps its own.
        std::vector<uint8_t> small(5000, 0x77);
        img.vmstate_write(0, small);
        img.snapshot_create("s2", 1, small.size());
        std::vector<uint8_t> sb(5000);
        img.vmstate_read("s2", 0, sb);
        EXPECT_TRUE(sb == small);
        img.vmstate_read("s1", 0, back);
        EXPECT_TRUE(back == state);
        img.snapshot_delete("s1");
        img.close();
    }
    EXPECT_EQ(check_report(q), "");
    // The reference finds no leaked clusters either: every state cluster of
    // s1 went with it.
    std::string out = output_of("qemu-img check " + q);
    EXPECT_EQ(out.find("leaked"), std::string::npos) << out;
}

}  // namespace
