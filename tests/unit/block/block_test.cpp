// The block layer with the real block-file and block-raw plugins from the
// build tree: option parsing and errors, I/O through raw over file, bounds,
// read-only, -snapshot, image locking, cache modes.
#include "block/block.hpp"
#include "block/host_glue.hpp"
#include "host/host_table.hpp"
#include "options/keyval.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"
#include "secrets/secret.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

using namespace tessera;
namespace fs = std::filesystem;

namespace {

// The kernel's host table with the block entries and the child capability
// pointed at the block layer (the kernel's own wiring may not be there yet).
const ts_host *test_host() {
    static ts_host h = [] {
        ts_host t = *host_table_get();
        t.get_capability = block_host_capability;
        t.block_attach = block_host_attach;
        t.block_pread = block_host_pread;
        t.block_pwrite = block_host_pwrite;
        t.block_flush = block_host_flush;
        t.block_length = block_host_length;
        t.block_read_only = block_host_read_only;
        return t;
    }();
    return &h;
}

struct Device {
    ts_object obj;
    explicit Device(std::string path) { obj.path = std::move(path); }
};

class Block : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        set_host_table(test_host());
        static bool discovered = false;  // once: loaded plugins stay loaded
        if (std::exchange(discovered, true)) return;
        plugin_registry().discover({{BLOCK_PLUGIN_DIR, TEST_PLUGIN_DIR}, {"build tree", "test"}, ""});
    }
    void SetUp() override {
        dir_ = fs::path(TEST_TMPDIR) / ("block-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        img_ = (dir_ / "disk.img").string();
        write_image(img_, 1 << 20);
    }
    void TearDown() override {
        block_close_all();
        fs::remove_all(dir_);
    }

    // Bytes i -> i % 251, so every offset is recognisable.
    static void write_image(const std::string &path, size_t size) {
        std::vector<char> data(size);
        for (size_t i = 0; i < size; i++) data[i] = static_cast<char>(i % 251);
        std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(size));
    }
    static std::vector<uint8_t> file_bytes(const std::string &path, size_t off, size_t len) {
        std::ifstream f(path, std::ios::binary);
        f.seekg(static_cast<std::streamoff>(off));
        std::vector<uint8_t> out(len);
        f.read(reinterpret_cast<char *>(out.data()), static_cast<std::streamsize>(len));
        return out;
    }
    static KeyVals kv(const std::string &text) { return parse_keyval(text, "", true); }
    BlockBackend &drive(const std::string &text, bool snapshot_all = false) {
        return block_open_drive(kv(text), snapshot_all);
    }
    static std::string error_of(const std::function<void()> &f) {
        try {
            f();
        } catch (const std::exception &e) {
            return e.what();
        }
        return "(no error)";
    }
    std::string configure_error(std::vector<std::string> blockdevs, std::vector<std::string> drives) {
        std::vector<KeyVals> b, d;
        for (auto &s : blockdevs) b.push_back(kv(s));
        for (auto &s : drives) d.push_back(kv(s));
        return error_of([&] { block_configure(b, d, false); });
    }

    fs::path dir_;
    std::string img_;
};

TEST_F(Block, BlockdevJsonRawOverFileReadsWritesAndFlushes) {
    block_open_blockdev(kv(R"({"driver":"raw","node-name":"n","file":{"driver":"file","filename":")" + img_ +
                           R"("}})"));
    Device dev("/machine/peripheral/disk0");
    BlockBackend &be = block_attach("n", &dev.obj, "drive");
    EXPECT_EQ(be.length(), 1u << 20);
    EXPECT_FALSE(be.read_only());
    std::vector<uint8_t> buf(16);
    be.pread(1000, buf);
    for (size_t i = 0; i < buf.size(); i++) EXPECT_EQ(buf[i], (1000 + i) % 251);
    std::vector<uint8_t> w = {0xde, 0xad, 0xbe, 0xef};
    be.pwrite(4096, w);
    be.flush();
    EXPECT_EQ(file_bytes(img_, 4096, 4), w);
    // The file node got an automatic name and is the raw node's child.
    BlockNode *raw = node_find("n");
    ASSERT_NE(raw, nullptr);
    ASSERT_NE(raw->child("file"), nullptr);
    EXPECT_EQ(raw->child("file")->name().rfind("#block", 0), 0u);
    EXPECT_EQ(raw->child("file")->driver_name(), "file");
}

TEST_F(Block, BlockdevKeyvalWithNodeReferenceAndHostTable) {
    block_open_blockdev(kv("driver=file,node-name=f,filename=" + img_));
    block_open_blockdev(kv("driver=raw,node-name=r,file=f,offset=4096,size=8192"));
    // Through the host table, as a device plugin sees it.
    Device dev("/machine/peripheral/disk0");
    const ts_prop_decl decl{sizeof(ts_prop_decl), "drive", TS_PROP_DRIVE, nullptr, 0, 0, nullptr, nullptr, nullptr};
    dev.obj.props.push_back({&decl, std::string("r")});
    ts_error err{};
    ts_block_be *be = test_host()->block_attach(&dev.obj, "drive", &err);
    ASSERT_NE(be, nullptr) << err.message;
    EXPECT_EQ(test_host()->block_length(be), 8192u);
    EXPECT_EQ(test_host()->block_read_only(be), 0);
    uint8_t b[4];
    ASSERT_EQ(test_host()->block_pread(be, 0, b, 4, &err), TS_OK) << err.message;
    EXPECT_EQ(b[0], 4096 % 251);
    // The window ends at 8192: a request past it fails and touches nothing.
    EXPECT_EQ(test_host()->block_pread(be, 8190, b, 4, &err), TS_ERROR);
    EXPECT_NE(std::string(err.message).find("out of range"), std::string::npos) << err.message;
    EXPECT_EQ(test_host()->block_pwrite(be, 8192, b, 1, &err), TS_ERROR);
    EXPECT_EQ(file_bytes(img_, 4096 + 8192, 1)[0], (4096 + 8192) % 251);
    EXPECT_EQ(test_host()->block_flush(be, &err), TS_OK);
}

TEST_F(Block, DriveMapsToNodesAndBackend) {
    BlockBackend &be = drive("file=" + img_ + ",format=raw,if=none,id=d0,node-name=top");
    EXPECT_EQ(block_backend_find("d0"), &be);
    ASSERT_NE(be.root(), nullptr);
    EXPECT_EQ(be.root()->name(), "top");
    EXPECT_EQ(be.root()->driver_name(), "raw");
    EXPECT_EQ(be.root()->filename(), img_);
    EXPECT_EQ(be.length(), 1u << 20);
    // Default ids count per interface, as the reference names them.
    EXPECT_EQ(drive("file=" + img_ + ",format=raw,if=none,readonly=on").name(), "none0");
}

TEST_F(Block, BoundsAreCheckedBeforeTheDriver) {
    BlockBackend &be = drive("file=" + img_ + ",format=raw,if=none,id=d0");
    std::vector<uint8_t> buf(8);
    EXPECT_THROW(be.pread((1 << 20) - 4, buf), BlockError);
    EXPECT_THROW(be.pread(UINT64_MAX - 2, buf), BlockError);
    EXPECT_THROW(be.pwrite(1 << 20, buf), BlockError);
    EXPECT_NO_THROW(be.pread((1 << 20) - 8, buf));
    EXPECT_EQ(fs::file_size(img_), 1u << 20);
}

TEST_F(Block, ReadOnlyRefusesWrites) {
    BlockBackend &be = drive("file=" + img_ + ",format=raw,if=none,id=d0,readonly=on");
    EXPECT_TRUE(be.read_only());
    EXPECT_EQ(block_host_read_only(&be), 1);
    std::vector<uint8_t> w(4, 0xff);
    EXPECT_THROW(be.pwrite(0, w), BlockError);
    ts_error err{};
    EXPECT_EQ(block_host_pwrite(&be, 0, w.data(), w.size(), &err), TS_ERROR);
    EXPECT_STREQ(err.message, "Drive 'd0' is read-only");
    EXPECT_EQ(file_bytes(img_, 0, 4), (std::vector<uint8_t>{0, 1, 2, 3}));
    // -blockdev read-only=on reaches the node and an attached backend.
    block_open_blockdev(kv("driver=file,node-name=f,read-only=on,filename=" + img_));
    Device dev("/machine/peripheral/d1");
    EXPECT_TRUE(block_attach("f", &dev.obj, "drive").read_only());
}

TEST_F(Block, SnapshotWritesAreDiscarded) {
    BlockBackend &be = drive("file=" + img_ + ",format=raw,if=none,id=d0,snapshot=on");
    EXPECT_FALSE(be.read_only());
    std::vector<uint8_t> w(10000, 0x5a);
    be.pwrite(100, w);  // partial clusters at both ends
    std::vector<uint8_t> r(10200);
    be.pread(0, r);
    for (size_t i = 0; i < r.size(); i++)
        ASSERT_EQ(r[i], i >= 100 && i < 10100 ? 0x5a : i % 251) << "at " << i;
    be.flush();
    // The image never changed, and the base is open read-only.
    EXPECT_EQ(file_bytes(img_, 100, 1)[0], 100 % 251);
    EXPECT_TRUE(be.root()->child("backing")->read_only());
    block_close_all();
    EXPECT_EQ(file_bytes(img_, 5000, 1)[0], 5000 % 251);
    // -snapshot applies to every drive.
    BlockBackend &all = drive("file=" + img_ + ",format=raw,if=none,id=d1", true);
    all.pwrite(0, w);
    EXPECT_EQ(file_bytes(img_, 0, 2), (std::vector<uint8_t>{0, 1}));
}

TEST_F(Block, ProbingGuessesRawWithTheReferenceWarning) {
    ::testing::internal::CaptureStderr();
    BlockBackend &be = drive("file=" + img_ + ",if=none,id=d0");
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(be.root()->driver_name(), "raw");
    EXPECT_TRUE(be.root()->probed());
    EXPECT_NE(err.find("WARNING: Image format was not specified for '" + img_ + "' and probing guessed raw.\n"
                       "         Automatically detecting the format is dangerous for raw images, write operations "
                       "on block 0 will be restricted.\n"),
              std::string::npos)
        << err;
    // Writes to block 0 are re-probed; raw data stays raw, so they pass.
    std::vector<uint8_t> w = {9, 9, 9};
    be.pwrite(1, w);
    EXPECT_EQ(file_bytes(img_, 0, 4), (std::vector<uint8_t>{0, 9, 9, 9}));
    // Read-only images are not warned about.
    ::testing::internal::CaptureStderr();
    drive("file=" + img_ + ",if=none,id=d1,readonly=on");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(Block, ErrorsUseTheReferenceWords) {
    std::string nope = (dir_ / "nope.img").string();
    EXPECT_EQ(configure_error({}, {"file=" + nope + ",format=raw,if=none"}),
              "Could not open '" + nope + "': No such file or directory");
    EXPECT_EQ(configure_error({R"({"driver":"raw","node-name":"n","file":{"driver":"file","filename":")" + nope +
                               R"("}})"},
                              {}),
              "Could not open '" + nope + "': No such file or directory");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=qcow2,if=none"}), "Image is not in qcow2 format");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=vmdk,if=none"}),
              "Block format 'vmdk' is not available: no plugin provides it");
    EXPECT_EQ(configure_error({"driver=vmdk,node-name=q,file=x"}, {}),
              "Block format 'vmdk' is not available: no plugin provides it");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=qcow9,if=none"}), "Unknown driver 'qcow9'");
    EXPECT_EQ(configure_error({"driver=foo,node-name=a"}, {}), "Parameter 'driver' does not accept value 'foo'");
    EXPECT_EQ(configure_error({"node-name=a"}, {}), "Parameter 'driver' is missing");
    EXPECT_EQ(configure_error({"driver=raw,node-name=a"}, {}), "Parameter 'file' is missing");
    EXPECT_EQ(configure_error({"driver=raw,node-name=a,file.filename=" + img_}, {}),
              "Parameter 'file.driver' is missing");
    EXPECT_EQ(configure_error({"driver=raw,node-name=a,file=nosuch"}, {}),
              "Cannot find device='nosuch' nor node-name='nosuch'");
    EXPECT_EQ(configure_error({"driver=file,filename=" + img_}, {}),
              "'node-name' must be specified for the root node");
    EXPECT_EQ(configure_error({"driver=file,node-name=a,filename=" + img_ + ",bogus=1"}, {}),
              "Parameter 'bogus' is unexpected");
    EXPECT_EQ(configure_error({"driver=raw,node-name=a,file.driver=file,file.filename=" + img_ + ",file.foo=1"}, {}),
              "Parameter 'file.foo' is unexpected");
    EXPECT_EQ(configure_error({"driver=file,node-name=a,filename="}, {}),
              "The 'file' block driver requires a file name");
    EXPECT_EQ(configure_error({"driver=file,node-name=a,filename=" + img_ + ",locking=maybe"}, {}),
              "Parameter 'locking' does not accept value 'maybe' (one of: auto, on, off)");
    EXPECT_EQ(configure_error({"driver=raw,node-name=r,file.driver=file,file.filename=" + img_ + ",size=1000"}, {}),
              "Specified size is not multiple of 512");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,offset=2M"}),
              "Offset (2097152) cannot be greater than size of the containing file (1048576)");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,bogus=1"}),
              "Block format 'raw' does not support the option 'bogus'");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,file.bogus=1"}),
              "Block protocol 'file' doesn't support the option 'bogus'");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,cache=bogus"}), "invalid cache option");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",if=bogus"}), "unsupported bus type 'bogus'");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=ide"}),
              "machine type does not support if=ide,bus=0,unit=0");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,readonly=maybe"}),
              "Parameter 'read-only' expects 'on' or 'off'");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,force-share=on"}),
              "force-share=on can only be used with read-only images");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,aio=native"}),
              "aio=native was specified, but it requires cache.direct=on, which was not specified.");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,node-name=1abc"}),
              "Invalid node-name: '1abc'");
    EXPECT_EQ(configure_error({}, {"if=none,format=raw"}), "Must specify either driver or file");
    EXPECT_EQ(configure_error({}, {"x.img=on,if=none"}), "Must specify either driver or file");
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,driver=raw"}),
              "Cannot specify both 'driver' and 'format'");
    EXPECT_EQ(error_of([&] { block_open_blockdev(parse_keyval("driver=file,help", "driver", true)); }),
              "Help is not available for this option");
    // Nothing is left behind by a failed open.
    EXPECT_TRUE(nodes().empty());
}

TEST_F(Block, NamesMustBeUnique) {
    EXPECT_EQ(configure_error({"driver=file,node-name=a,filename=" + img_, "driver=file,node-name=a,filename=" + img_},
                              {}),
              "Duplicate nodes with node-name='a'");
    block_close_all();
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,id=d,readonly=on",
                                   "file=" + img_ + ",format=raw,if=none,id=d,readonly=on"}),
              "Duplicate ID 'd' for drive");
    block_close_all();
    EXPECT_EQ(configure_error({"driver=file,node-name=d,filename=" + img_}, {"file=" + img_ + ",format=raw,if=none,id=d"}),
              "Device name 'd' conflicts with an existing node name");
    block_close_all();
    EXPECT_EQ(configure_error({}, {"file=" + img_ + ",format=raw,if=none,node-name=n,readonly=on",
                                   "file=" + img_ + ",format=raw,if=none,node-name=n,readonly=on"}),
              "Duplicate nodes with node-name='n'");
}

TEST_F(Block, AttachRules) {
    std::vector<std::string> hooked;
    block_set_virtio_drive_hook([&](const std::string &id) { hooked.push_back(id); });
    drive("file=" + img_ + ",format=raw");
    drive("if=none,id=empty");
    block_set_virtio_drive_hook(nullptr);
    EXPECT_EQ(hooked, std::vector<std::string>{"virtio0"});
    Device auto_dev("/machine/peripheral-anon/device[9]");
    block_attach("virtio0", &auto_dev.obj, "drive");
    EXPECT_EQ(error_of([&] { block_attach("virtio0", &auto_dev.obj, "drive"); }),
              "Drive 'virtio0' is already in use because it has been automatically connected to another device "
              "(did you need 'if=none' in the drive options?)");
    std::string other = (dir_ / "other.img").string();  // disk.img has a writer now
    write_image(other, 4096);
    drive("file=" + other + ",format=raw,if=none,id=d0");
    Device a("/machine/peripheral-anon/device[0]"), b("/machine/peripheral-anon/device[1]");
    block_attach("d0", &a.obj, "drive");
    EXPECT_EQ(error_of([&] { block_attach("d0", &b.obj, "drive"); }), "Drive 'd0' is already in use by another device");
    EXPECT_EQ(error_of([&] { block_attach("empty", &b.obj, "drive"); }), "Device needs media, but drive is empty");
    EXPECT_EQ(error_of([&] { block_attach("zz", &b.obj, "drive"); }), "Property 'device.drive' can't find value 'zz'");
    ts_error err{};
    Device c("/machine/peripheral/c");
    EXPECT_EQ(block_host_attach(&c.obj, "drive", &err), nullptr);
    EXPECT_STREQ(err.message, "Property '?.drive' not found");
}

TEST_F(Block, TwoWritersOfOneNodeConflict) {
    block_open_blockdev(kv("driver=file,node-name=f,filename=" + img_));
    Device a("/machine/peripheral-anon/device[0]"), b("/machine/peripheral-anon/device[1]");
    block_attach("f", &a.obj, "drive");
    EXPECT_EQ(error_of([&] { block_attach("f", &b.obj, "drive"); }),
              "Permission conflict on node 'f': permissions 'write' are both required by block device "
              "'/machine/peripheral-anon/device[0]' (uses node 'f' as 'root' child) and unshared by block device "
              "'/machine/peripheral-anon/device[1]' (uses node 'f' as 'root' child).");
}

TEST_F(Block, ImageLockRefusesASecondWriter) {
    // Two opens of one file are two OFD lock owners, like two processes.
    Device a("/machine/peripheral/a"), b("/machine/peripheral/b"), c("/machine/peripheral/c");
    drive("file=" + img_ + ",format=raw,if=none,id=d0");
    drive("file=" + img_ + ",format=raw,if=none,id=d1");
    drive("file=" + img_ + ",format=raw,if=none,id=d2,readonly=on");
    drive("file=" + img_ + ",format=raw,if=none,id=d3,file.locking=off");
    // Without devices nobody writes: no conflict yet.
    block_attach("d0", &a.obj, "drive");
    EXPECT_EQ(error_of([&] { block_attach("d1", &b.obj, "drive"); }),
              "Failed to get \"write\" lock\nIs another process using the image [" + img_ + "]?");
    EXPECT_EQ(error_of([&] { block_attach("d2", &b.obj, "drive"); }),
              "Failed to get shared \"write\" lock\nIs another process using the image [" + img_ + "]?");
    EXPECT_NO_THROW(block_attach("d3", &c.obj, "drive"));  // locking=off
    // The refused backend can retry once the writer is gone.
    block_backend_find("d0")->detach();
    EXPECT_NO_THROW(block_attach("d1", &b.obj, "drive"));
}

TEST_F(Block, ImageLockRefusesAnotherProcess) {
    int ready[2], done[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(done), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        char c = 'n';
        try {
            Device d("/machine/peripheral/child");
            block_attach(drive("file=" + img_ + ",format=raw,if=none,id=c0").name(), &d.obj, "drive");
            c = 'y';
        } catch (...) {
        }
        (void)!write(ready[1], &c, 1);
        (void)!read(done[0], &c, 1);
        _exit(0);
    }
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    ASSERT_EQ(c, 'y');
    Device d("/machine/peripheral/parent");
    drive("file=" + img_ + ",format=raw,if=none,id=p0");
    EXPECT_EQ(error_of([&] { block_attach("p0", &d.obj, "drive"); }),
              "Failed to get \"write\" lock\nIs another process using the image [" + img_ + "]?");
    (void)!write(done[1], &c, 1);
    int status = 0;
    waitpid(pid, &status, 0);
    for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
    // The child is gone, and its locks with it.
    EXPECT_NO_THROW(block_attach("p0", &d.obj, "drive"));
}

TEST_F(Block, CacheModesAreAccepted) {
    for (const char *mode : {"writeback", "writethrough", "unsafe", "none", "directsync"}) {
        block_close_all();
        std::string id = std::string("c_") + mode;
        BlockBackend *be = nullptr;
        std::string err = error_of([&] { be = &drive("file=" + img_ + ",format=raw,if=none,id=" + id + ",cache=" + mode); });
        if (err.find("does not support O_DIRECT") != std::string::npos) continue;  // e.g. tmpfs
        ASSERT_EQ(err, "(no error)") << mode;
        CacheMode m = parse_cache_mode(mode);
        EXPECT_EQ(be->writeback(), m.writeback) << mode;
        EXPECT_EQ(be->root()->flags().cache_direct, m.direct) << mode;
        EXPECT_EQ(be->root()->child("file")->flags().cache_direct, m.direct) << mode;
        EXPECT_EQ(be->root()->flags().cache_no_flush, m.no_flush) << mode;
        // Unaligned I/O works with O_DIRECT too (bounce buffers).
        std::vector<uint8_t> w = {1, 2, 3};
        be->pwrite(4097, w);
        be->flush();
        std::vector<uint8_t> r(3);
        be->pread(4097, r);
        EXPECT_EQ(r, w) << mode;
        EXPECT_EQ(file_bytes(img_, 4097, 3), w) << mode;
    }
    EXPECT_NE(block_info_text().find("Cache mode:       writethrough, direct"), std::string::npos)
        << block_info_text();
}

TEST_F(Block, DirectWritesKeepAnOddFileLength) {
    std::string odd = (dir_ / "odd.img").string();
    write_image(odd, 5000);
    BlockBackend *be = nullptr;
    std::string err = error_of([&] { be = &drive("file=" + odd + ",format=raw,if=none,id=d0,cache=none"); });
    if (err.find("does not support O_DIRECT") != std::string::npos) GTEST_SKIP() << err;
    ASSERT_EQ(err, "(no error)");
    std::vector<uint8_t> w(10, 0xab);
    be->pwrite(4990, w);
    EXPECT_EQ(fs::file_size(odd), 5000u);
    EXPECT_EQ(file_bytes(odd, 4990, 10), w);
    EXPECT_EQ(file_bytes(odd, 4989, 1)[0], 4989 % 251);
}

TEST_F(Block, InfoBlockDescribesBackends) {
    Device dev("/machine/peripheral/disk0");
    drive("file=" + img_ + ",format=raw,if=none,id=d0,node-name=n0");
    block_attach("d0", &dev.obj, "drive");
    // A snapshot's base does not let others write: a second image.
    std::string other = (dir_ / "other.img").string();
    write_image(other, 4096);
    drive("file=" + other + ",format=raw,if=none,id=d1,readonly=on,snapshot=on,cache=unsafe");
    std::string t = block_info_text();
    EXPECT_NE(t.find("d0 (n0): " + img_ + " (raw)\n    Attached to:      /machine/peripheral/disk0\n"
                     "    Cache mode:       writeback\n"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("(raw, read-only)"), std::string::npos) << t;
    EXPECT_NE(t.find("ignore flushes"), std::string::npos) << t;
}

}  // namespace

namespace {

TEST_F(Block, DiscardPunchesHolesOnlyWithUnmap) {
    Device a("/machine/peripheral/a");
    block_open_blockdev(kv("driver=raw,node-name=r,discard=unmap,file.driver=file,file.filename=" + img_));
    BlockBackend &be = block_attach("r", &a.obj, "drive");
    EXPECT_EQ(node_find("r")->child("file")->flags().discard, "unmap");  // inherited
    be.discard(65536, 65536);
    std::vector<uint8_t> r(65536);
    be.pread(65536, r);
    EXPECT_EQ(std::count(r.begin(), r.end(), 0), 65536);
    EXPECT_EQ(fs::file_size(img_), 1u << 20);
    EXPECT_THROW(be.discard((1 << 20) - 512, 4096), BlockError);

    std::string other = (dir_ / "other.img").string();
    write_image(other, 1 << 17);
    Device b("/machine/peripheral/b");
    BlockBackend &kept = block_attach(drive("file=" + other + ",format=raw,if=none,discard=ignore").name(), &b.obj, "drive");
    kept.discard(65536, 65536);
    kept.pread(65536, r);
    EXPECT_EQ(r[1], (65536 + 1) % 251);
}

}  // namespace

namespace {

// Leaving nodes and backends open at exit must not crash (static teardown
// order between the graph, the backends and the object tree).
TEST_F(Block, ExitWithOpenNodesIsClean) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Device d("/machine/peripheral/x");
        block_open_blockdev(kv("driver=raw,node-name=r,file.driver=file,file.filename=" + img_));
        std::string other = (dir_ / "other.img").string();
        write_image(other, 4096);
        drive("file=" + other + ",format=raw,if=none,id=d0,snapshot=on");
        block_attach("r", &d.obj, "drive");
        std::exit(0);  // runs static destructors
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace

namespace {

TEST_F(Block, ProbingPicksTheBestFormatAndGuardsBlockZero) {
    // A probed raw image must not be turned into another format by a write.
    BlockBackend &raw = drive("file=" + img_ + ",if=none,id=d0,file.locking=off", false);
    ASSERT_EQ(raw.root()->driver_name(), "raw");
    const std::string magic = "TESTFMT!";
    std::vector<uint8_t> m(magic.begin(), magic.end());
    EXPECT_EQ(error_of([&] { raw.pwrite(0, m); }), "Operation not permitted");
    EXPECT_EQ(error_of([&] { raw.pwrite(0, std::span(m).first(4)); }), "(no error)");  // "TEST" alone is fine
    EXPECT_EQ(error_of([&] { raw.pwrite(4, std::span(m).subspan(4)); }), "Operation not permitted");
    // With format=raw given there is no restriction.
    BlockBackend &named = drive("file=" + img_ + ",format=raw,if=none,id=d1,file.locking=off");
    named.pwrite(0, m);
    EXPECT_EQ(file_bytes(img_, 0, 8), m);
    // And now the image probes as testfmt.
    BlockBackend &probed = drive("file=" + img_ + ",if=none,id=d2,readonly=on");
    EXPECT_EQ(probed.root()->driver_name(), "testfmt");
}

}  // namespace

// qcow2 through the graph: probing, a backing chain named in the headers
// (relative names), backing=null, and -snapshot over a qcow2 image.
class BlockQcow2 : public Block {
protected:
    static int qemu_img(const std::string &args) {
        int r = std::system(("qemu-img " + args + " >/dev/null 2>&1").c_str());
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
    }
    void SetUp() override {
        Block::SetUp();
        if (qemu_img("--version") != 0) GTEST_SKIP() << "qemu-img is not installed";
    }
};

TEST_F(BlockQcow2, ProbedChainReadsThroughAndWritesOnlyTheTop) {
    std::string mid = (dir_ / "mid.qcow2").string(), top = (dir_ / "top.qcow2").string();
    ASSERT_EQ(qemu_img("create -f qcow2 -b disk.img -F raw " + mid), 0);
    ASSERT_EQ(qemu_img("create -f qcow2 -b mid.qcow2 -F qcow2 " + top), 0);
    BlockBackend &be = drive("file=" + top + ",if=none,id=d0");
    EXPECT_EQ(be.root()->driver_name(), "qcow2");
    ASSERT_NE(be.root()->child("backing"), nullptr);
    EXPECT_EQ(be.root()->child("backing")->filename(), mid);
    ASSERT_NE(be.root()->child("backing")->child("backing"), nullptr);
    EXPECT_EQ(be.length(), 1u << 20);
    std::vector<uint8_t> r(5000);
    be.pread(70000, r);
    for (size_t i = 0; i < r.size(); i++) ASSERT_EQ(r[i], (70000 + i) % 251);
    std::vector<uint8_t> w(3000, 0x77);
    be.pwrite(70500, w);
    be.pwrite(0, w);  // a probed qcow2's guest data may look like anything
    be.flush();
    block_close_all();
    EXPECT_EQ(file_bytes(img_, 70500, 1)[0], 70500 % 251);
    EXPECT_EQ(qemu_img("check " + top), 0);
    EXPECT_EQ(qemu_img("check " + mid), 0);
    // The reference sees the write through the chain.
    std::string out = (dir_ / "out.raw").string();
    ASSERT_EQ(qemu_img("convert -O raw " + top + " " + out), 0);
    EXPECT_EQ(file_bytes(out, 70500, 3000), w);
    EXPECT_EQ(file_bytes(out, 70000, 1)[0], 70000 % 251);
}

TEST_F(BlockQcow2, BackingNullAndNodeReference) {
    std::string top = (dir_ / "top.qcow2").string();
    ASSERT_EQ(qemu_img("create -f qcow2 -b disk.img -F raw " + top), 0);
    block_open_blockdev(kv("driver=qcow2,node-name=q,backing=null,file.driver=file,file.filename=" + top));
    std::vector<uint8_t> r(16);
    Device dev("/machine/peripheral/disk0");
    BlockBackend &be = block_attach("q", &dev.obj, "drive");
    be.pread(1000, r);
    EXPECT_EQ(r, std::vector<uint8_t>(16, 0));
    EXPECT_EQ(node_find("q")->child("backing"), nullptr);
    block_close_all();
    block_open_blockdev(kv("driver=raw,node-name=base,file.driver=file,file.filename=" + img_));
    block_open_blockdev(kv("driver=qcow2,node-name=q2,backing=base,file.driver=file,file.filename=" + top));
    EXPECT_EQ(node_find("q2")->child("backing"), node_find("base"));
}

TEST_F(BlockQcow2, SnapshotOverQcow2LeavesImageAndTmpdirUntouched) {
    std::string q = (dir_ / "d.qcow2").string();
    ASSERT_EQ(qemu_img("convert -O qcow2 " + img_ + " " + q), 0);
    auto before = file_bytes(q, 0, fs::file_size(q));
    std::string tmp = (dir_ / "tmp").string();
    fs::create_directories(tmp);
    setenv("TMPDIR", tmp.c_str(), 1);
    BlockBackend &be = drive("file=" + q + ",if=none,id=d0,snapshot=on");
    unsetenv("TMPDIR");
    EXPECT_TRUE(be.root()->snapshot_overlay());
    EXPECT_TRUE(fs::is_empty(tmp));  // the overlay file is unlinked already
    std::vector<uint8_t> w(70000, 0x42);
    be.pwrite(1000, w);
    std::vector<uint8_t> r(72000);
    be.pread(0, r);
    for (size_t i = 0; i < r.size(); i++) ASSERT_EQ(r[i], i >= 1000 && i < 71000 ? 0x42 : i % 251) << i;
    be.flush();
    block_close_all();
    EXPECT_EQ(file_bytes(q, 0, before.size()), before);
}

// blockdev-del: the reference's refusals, then removal with the children
// opened along with the node (the image lock goes with them).
TEST_F(Block, DeleteNodeRefusesWhileUsedThenRemoves) {
    EXPECT_EQ(error_of([] { block_del_node("nope"); }), "Failed to find node with node-name='nope'");
    block_open_blockdev(kv("driver=file,node-name=f,filename=" + img_));
    block_open_blockdev(kv("driver=raw,node-name=r,file=f"));
    EXPECT_EQ(error_of([] { block_del_node("f"); }), "Block device f is in use");
    Device dev("/machine/peripheral/disk0");
    BlockBackend &be = block_attach("r", &dev.obj, "drive");
    (void)be;
    EXPECT_EQ(error_of([] { block_del_node("r"); }), "Node r is in use");
    drive("file=" + (dir_ / "disk.img").string() + ",format=raw,if=none,id=d0,file.locking=off");
    std::string file_child = block_backend_find("d0")->root()->child("file")->name();
    EXPECT_EQ(error_of([&] { block_del_node(file_child); }), "Node " + file_child + " is not owned by the monitor");

    block_open_blockdev(kv("driver=raw,node-name=r2,file.driver=file,file.node-name=f2,file.filename=" + img_));
    EXPECT_EQ(error_of([] { block_del_node("f2"); }), "Node f2 is not owned by the monitor");
    block_del_node("r2");
    EXPECT_EQ(node_find("r2"), nullptr);
    EXPECT_EQ(node_find("f2"), nullptr);  // opened with it, gone with it
    // The name is free again.
    block_open_blockdev(kv("driver=raw,node-name=r2,file.driver=file,file.filename=" + img_ + ",file.locking=off"));
    EXPECT_NE(node_find("r2"), nullptr);
}

// http/https (block-curl) against nginx on loopback: ranges, readahead, a
// qcow2 image with a relative backing file served next to it, the
// reference's refusals. Skips when nginx or the plugin is missing.
class BlockHttp : public BlockQcow2 {
protected:
    void SetUp() override {
        BlockQcow2::SetUp();
        if (IsSkipped()) return;
        if (access("/usr/sbin/nginx", X_OK) != 0) GTEST_SKIP() << "nginx is not installed";
        if (!plugin_registry().find("http")) GTEST_SKIP() << "block-curl was not built";
        port_ = 20000 + getpid() % 20000;
        std::string conf = (dir_ / "nginx.conf").string();
        std::ofstream(conf) << "daemon off; master_process off; pid " << (dir_ / "nginx.pid").string()
                            << "; error_log " << (dir_ / "error.log").string() << ";\n"
                            << "events {}\nhttp { access_log off; server { listen 127.0.0.1:" << port_
                            << "; root " << dir_.string() << "; location /cookie/ { if ($cookie_k != \"v\") "
                            << "{ return 403; } alias " << dir_.string() << "/; } } }\n";
        nginx_ = fork();
        if (nginx_ == 0) {
            int null = ::open("/dev/null", O_RDWR);
            dup2(null, 1), dup2(null, 2);
            execl("/usr/sbin/nginx", "nginx", "-p", dir_.c_str(), "-c", conf.c_str(), nullptr);
            _exit(127);
        }
        // Ready when it answers.
        for (int i = 0; i < 100; i++) {
            std::string cmd = "curl -s -o /dev/null http://127.0.0.1:" + std::to_string(port_) + "/disk.img";
            if (std::system(cmd.c_str()) == 0) return;
            usleep(50000);
        }
        GTEST_SKIP() << "nginx did not start";
    }
    void TearDown() override {
        block_close_all();
        if (nginx_ > 0) {
            kill(nginx_, SIGTERM);
            waitpid(nginx_, nullptr, 0);
        }
        Block::TearDown();
    }
    std::string url(const std::string &name) { return "http://127.0.0.1:" + std::to_string(port_) + "/" + name; }
    int port_ = 0;
    pid_t nginx_ = -1;
};

TEST_F(BlockHttp, RawAndQcow2ChainOverHttp) {
    BlockBackend &raw = drive("file=" + url("disk.img") + ",format=raw,if=none,id=d0,readonly=on,file.readahead=4096");
    EXPECT_EQ(raw.length(), 1u << 20);
    std::vector<uint8_t> r(10000);
    raw.pread(123457, r);
    for (size_t i = 0; i < r.size(); i++) ASSERT_EQ(r[i], (123457 + i) % 251) << i;
    EXPECT_EQ(error_of([&] { raw.pwrite(0, r); }), "Drive 'd0' is read-only");
    block_close_all();

    ASSERT_EQ(qemu_img("create -f qcow2 -b disk.img -F raw " + (dir_ / "top.qcow2").string()), 0);
    ASSERT_EQ(qemu_img("convert -O qcow2 -o cluster_size=4096 " + (dir_ / "top.qcow2").string() + " " +
                       (dir_ / "flat.qcow2").string()), 0);
    std::vector<uint8_t> w(5000, 0x33);
    {
        // Put some data in the top image through the reference's view.
        std::ofstream(dir_ / "w.bin", std::ios::binary).write(reinterpret_cast<char *>(w.data()), 5000);
        ASSERT_EQ(std::system(("qemu-io -f qcow2 -c 'write -P 0x33 8192 5000' " + (dir_ / "top.qcow2").string() +
                               " >/dev/null 2>&1").c_str()), 0);
    }
    // Probed, with the backing file found relative to the URL; -snapshot
    // makes it writable for the guest.
    BlockBackend &q = drive("file=" + url("top.qcow2") + ",if=none,id=d1,snapshot=on");
    EXPECT_EQ(q.root()->child("backing")->driver_name(), "qcow2");
    EXPECT_EQ(q.root()->child("backing")->child("backing")->filename(), url("disk.img"));
    q.pread(8000, r);
    for (size_t i = 0; i < r.size(); i++) {
        uint64_t at = 8000 + i;
        ASSERT_EQ(r[i], at >= 8192 && at < 13192 ? 0x33 : at % 251) << at;
    }
    q.pwrite(0, w);  // into the temporary overlay
    BlockBackend &f = drive("file=" + url("flat.qcow2") + ",format=qcow2,if=none,id=d2,readonly=on");
    f.pread(500000, r);
    for (size_t i = 0; i < r.size(); i++) ASSERT_EQ(r[i], (500000 + i) % 251) << i;
}

TEST_F(BlockHttp, ReferenceRefusals) {
    EXPECT_EQ(configure_error({}, {"file=" + url("disk.img") + ",format=raw,if=none"}),
              "curl block device does not support writes");
    EXPECT_EQ(configure_error({}, {"file=" + url("nope.img") + ",format=raw,if=none,readonly=on"}),
              "CURL: Error opening file: The requested URL returned error: 404");
    EXPECT_EQ(configure_error({}, {"file=" + url("disk.img") + ",format=raw,if=none,readonly=on,file.readahead=1000"}),
              "HTTP_READAHEAD_SIZE 1000 is not a multiple of 512");
    EXPECT_EQ(configure_error({"driver=http,node-name=h,read-only=on"}, {}), "curl block driver requires an 'url' option");
    // Cookies reach the server.
    EXPECT_EQ(configure_error({"driver=http,node-name=h,read-only=on,url=" + url("cookie/disk.img")}, {}),
              "CURL: Error opening file: The requested URL returned error: 403");
    block_open_blockdev(kv("driver=http,node-name=h,read-only=on,cookie=k=v,timeout=3,url=" + url("cookie/disk.img")));
    EXPECT_EQ(node_find("h")->length(), 1u << 20);
}

// iscsi (block-iscsi) against tgtd on loopback: a LUN backed by the test
// image, read and written through the URL form; a CHAP-protected target
// refused without credentials and opened with user= and password-secret=.
// tgtd needs root: skipped otherwise.
class BlockIscsi : public Block {
protected:
    static int sh(const std::string &cmd) {
        int r = std::system((cmd + " >/dev/null 2>&1").c_str());
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
    }
    void SetUp() override {
        Block::SetUp();
        if (getuid() != 0) GTEST_SKIP() << "tgtd needs root";
        if (access("/usr/sbin/tgtd", X_OK) != 0) GTEST_SKIP() << "tgt is not installed";
        if (!plugin_registry().find("iscsi")) GTEST_SKIP() << "block-iscsi was not built";
        port_ = 30000 + getpid() % 20000;
        ctl_ = std::to_string(100 + getpid() % 800);
        tgtd_ = fork();
        if (tgtd_ == 0) {
            int null = ::open("/dev/null", O_RDWR);
            dup2(null, 1), dup2(null, 2);
            std::string portal = "portal=127.0.0.1:" + std::to_string(port_);
            execl("/usr/sbin/tgtd", "tgtd", "-f", "--iscsi", portal.c_str(), "-C", ctl_.c_str(), nullptr);
            _exit(127);
        }
        std::string adm = "tgtadm -C " + ctl_ + " --lld iscsi ";
        bool up = false;
        for (int i = 0; i < 100 && !up; i++) {
            up = sh(adm + "--op show --mode target") == 0;
            if (!up) usleep(50000);
        }
        if (!up) GTEST_SKIP() << "tgtd did not start";
        ASSERT_EQ(sh(adm + "--op new --mode target --tid 1 -T " + iqn(1)), 0);
        ASSERT_EQ(sh(adm + "--op new --mode logicalunit --tid 1 --lun 1 -b " + img_), 0);
        ASSERT_EQ(sh(adm + "--op bind --mode target --tid 1 -I ALL"), 0);
        ASSERT_EQ(sh(adm + "--op new --mode target --tid 2 -T " + iqn(2)), 0);
        ASSERT_EQ(sh(adm + "--op new --mode logicalunit --tid 2 --lun 1 -b " + img_), 0);
        ASSERT_EQ(sh(adm + "--op bind --mode target --tid 2 -I ALL"), 0);
        ASSERT_EQ(sh(adm + "--op new --mode account --user tuser --password tsecret12345"), 0);
        ASSERT_EQ(sh(adm + "--op bind --mode account --tid 2 --user tuser"), 0);
    }
    void TearDown() override {
        block_close_all();
        if (tgtd_ > 0) {
            kill(tgtd_, SIGKILL);  // tgtd ignores SIGTERM while targets exist
            waitpid(tgtd_, nullptr, 0);
        }
        Block::TearDown();
    }
    std::string iqn(int n) { return "iqn.2026-11.org.tessera:t" + std::to_string(n) + "-" + ctl_; }
    std::string url(int n) { return "iscsi://127.0.0.1:" + std::to_string(port_) + "/" + iqn(n) + "/1"; }
    int port_ = 0;
    std::string ctl_;
    pid_t tgtd_ = -1;
};

TEST_F(BlockIscsi, ReadWriteAndChap) {
    BlockBackend &be = drive("file=" + url(1) + ",format=raw,if=none,id=d0");
    EXPECT_EQ(be.length(), 1u << 20);
    std::vector<uint8_t> r(3000);
    be.pread(1001, r);  // not block aligned
    for (size_t i = 0; i < r.size(); i++) ASSERT_EQ(r[i], (1001 + i) % 251) << i;
    std::vector<uint8_t> w(700, 0xe7);
    be.pwrite(5000, w);
    be.flush();
    EXPECT_EQ(file_bytes(img_, 5000, 700), w);
    EXPECT_EQ(file_bytes(img_, 4999, 1)[0], 4999 % 251);
    block_close_all();

    EXPECT_NE(configure_error({}, {"file=" + url(2) + ",format=raw,if=none"}).find("iSCSI: Failed to connect to LUN"),
              std::string::npos);
    EXPECT_EQ(configure_error({"driver=iscsi,node-name=i,transport=tcp,portal=127.0.0.1:" + std::to_string(port_) +
                               ",target=" + iqn(2) + ",lun=1,user=tuser,password-secret=nosuch"},
                              {}),
              "No secret with id 'nosuch'");
    secret_add(kv("id=chap" + ctl_ + ",data=tsecret12345"));
    block_open_blockdev(kv("driver=iscsi,node-name=i,transport=tcp,portal=127.0.0.1:" + std::to_string(port_) +
                           ",target=" + iqn(2) + ",lun=1,user=tuser,password-secret=chap" + ctl_ +
                           ",initiator-name=iqn.2026-11.org.tessera:test"));
    EXPECT_EQ(node_find("i")->length(), 1u << 20);
    node_find("i")->pread(1001, r);
    EXPECT_EQ(r[0], 1001 % 251);
}
