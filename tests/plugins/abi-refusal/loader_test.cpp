// Runs the tessera executable against folders holding exactly the test
// plugins each case needs, and checks the loader's refusals and laziness.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Result {
    int status;
    std::string out;  // stdout and stderr together
};

class LoaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/tessera-loader-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        fs::create_directory(dir_ / "plugins");
    }
    void TearDown() override { fs::remove_all(dir_); }

    void add(const char *variant) {
        fs::copy_file(std::string(TEST_PLUGIN_DIR) + "/abi-" + variant + ".so",
                      dir_ / "plugins" / (std::string("abi-") + variant + ".so"));
    }

    Result run(const std::string &args) {
        std::string cmd = "env " + extra_env_ + " TESSERA_PLUGIN_PATH_ONLY=1 TESSERA_PLUGIN_PATH=" + (dir_ / "plugins").string() +
                          " TESSERA_PLUGIN_CACHE=" + (dir_ / "cache").string() +
                          " TESSERA_TEST_MARKER=" + (dir_ / "marker").string() + " timeout 20 " + exe_ + " " + args +
                          " 2>&1";
        Result r{};
        FILE *p = popen(cmd.c_str(), "r");
        std::array<char, 4096> buf;
        size_t n;
        while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
        int st = pclose(p);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return r;
    }
    bool marker() const { return fs::exists(dir_ / "marker"); }

    fs::path dir_;
    std::string extra_env_ = "TESSERA_PLUGIN_INDEX=/nonexistent";
    std::string exe_ = TESSERA_EXE;
};

TEST_F(LoaderTest, WrongMajorIsRefusedWithBothVersions) {
    add("wrong-major");
    Result r = run("-plugins");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("abi-wrong-major.so"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("refused: ABI 2.0 is not supported by this tessera (ABI 1."), std::string::npos) << r.out;
    r = run("-M none -device abi-major");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("-device 'abi-major': its plugin " + (dir_ / "plugins").string() +
                         "/abi-wrong-major.so was refused: ABI 2.0 is not supported"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST_F(LoaderTest, NewerMinorIsRefused) {
    add("newer-minor");
    Result r = run("-plugins");
    EXPECT_NE(r.out.find("refused: ABI 1.99 is not supported"), std::string::npos) << r.out;
}

TEST_F(LoaderTest, NewerMinorIsRefusedWhenUsedNamingFileAndVersions) {
    add("newer-minor");
    Result r = run("-M none -device abi-minor");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("-device 'abi-minor': its plugin " + (dir_ / "plugins").string() +
                         "/abi-newer-minor.so was refused: ABI 1.99 is not supported by this tessera (ABI 1."),
              std::string::npos)
        << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

// A manifest that passes the check but a descriptor declaring a newer minor:
// refused when loaded, naming the file and both versions.
TEST_F(LoaderTest, DescriptorNewerThanKernelIsRefusedAtLoad) {
    add("desc-newer");
    Result r = run("-M none -device abi-desc");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("plugin " + (dir_ / "plugins").string() +
                         "/abi-desc-newer.so: descriptor declares ABI 1.99, this tessera supports 1.0 to 1."),
              std::string::npos)
        << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_FALSE(marker());
}

// The plugin index (generated from the in-tree manifests at build time) names
// the file of a type whose plugin is not installed.
TEST_F(LoaderTest, AbsentPluginIsNamedFromTheIndex) {
    std::ofstream(dir_ / "index") << "# comment\n"
                                     "abi-gone device device-gone.so\n"
                                     "broken line with too many words\n"
                                     "abi-bad nosuchkind x.so\n";
    extra_env_ = "TESSERA_PLUGIN_INDEX=" + (dir_ / "index").string();
    Result r = run("-M none -device abi-gone");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("-device 'abi-gone': provided by plugin device-gone.so, which is not installed (searched "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find((dir_ / "plugins").string()), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    // The default machine's plugin is named too (run from a copy of the
    // executable: from the build tree, the build's own plugins are found).
    std::ofstream(dir_ / "index", std::ios::app) << "spike board board-riscv-spike.so default:riscv64\n";
    fs::copy_file(TESSERA_EXE, dir_ / "tessera");
    exe_ = (dir_ / "tessera").string();
    r = run("-nographic");
    exe_ = TESSERA_EXE;
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("No machine specified, and there is no default (the default machine 'spike' is provided "
                         "by plugin board-riscv-spike.so, which is not installed)"),
              std::string::npos)
        << r.out;
    // -plugins lists what the build made but is not installed.
    r = run("-plugins");
    EXPECT_NE(r.out.find("device-gone.so (not installed)\n  abi-gone\n"), std::string::npos) << r.out;
    // Types the index does not know (or knows from a bad line) keep the generic message.
    r = run("-M none -device abi-bad");
    EXPECT_NE(r.out.find("-device 'abi-bad': no plugin provides this type"), std::string::npos) << r.out;
    // An installed provider wins over the index.
    add("good");
    std::ofstream(dir_ / "index", std::ios::app) << "abi-good device elsewhere.so\n";
    r = run("-device abi-good,help");
    EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(LoaderTest, MissingDescriptorIsNamedWhenUsed) {
    add("no-descriptor");
    Result r = run("-M none -device abi-nodesc");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("abi-no-descriptor.so: exports no 'tessera_plugin_descriptor' symbol"), std::string::npos)
        << r.out;
    // One line.
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST_F(LoaderTest, DuplicateTypeNamesBothFiles) {
    add("dup-a");
    add("dup-b");
    Result r = run("-M none -device abi-dup");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("provided by both"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("abi-dup-a.so"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("abi-dup-b.so"), std::string::npos) << r.out;
}

TEST_F(LoaderTest, HelpDoesNotRunPluginCodeButUseDoes) {
    add("good");
    Result r = run("-device help");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("name \"abi-good\""), std::string::npos) << r.out;
    EXPECT_FALSE(marker()) << "listing types ran plugin code";
    // Second run goes through the descriptor cache.
    r = run("-device help");
    EXPECT_NE(r.out.find("name \"abi-good\""), std::string::npos) << r.out;
    EXPECT_FALSE(marker());
    r = run("-device abi-good,help");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(marker()) << "using the type did not load the plugin";
}

TEST_F(LoaderTest, UnknownTypeMessageNamesSearchPath) {
    Result r = run("-M none -device nosuchdev");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("-device 'nosuchdev': no plugin provides this type (searched "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find((dir_ / "plugins").string()), std::string::npos) << r.out;
}

TEST_F(LoaderTest, NotAnElfIsListedAsRefused) {
    std::ofstream(dir_ / "plugins" / "junk.so") << "not a plugin";
    Result r = run("-plugins");
    EXPECT_NE(r.out.find("junk.so"), std::string::npos);
    EXPECT_NE(r.out.find("refused: no tessera manifest section"), std::string::npos) << r.out;
}

}  // namespace
