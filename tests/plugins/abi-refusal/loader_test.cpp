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
        std::string cmd = "env TESSERA_PLUGIN_PATH_ONLY=1 TESSERA_PLUGIN_PATH=" + (dir_ / "plugins").string() +
                          " TESSERA_PLUGIN_CACHE=" + (dir_ / "cache").string() +
                          " TESSERA_TEST_MARKER=" + (dir_ / "marker").string() + " " + TESSERA_EXE + " " + args +
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
};

TEST_F(LoaderTest, WrongMajorIsRefusedWithBothVersions) {
    add("wrong-major");
    Result r = run("-plugins");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("abi-wrong-major.so"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("refused: ABI 2.0 is not supported by this tessera (ABI 1.0"), std::string::npos) << r.out;
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
