#include "log/trace.hpp"
#include "options/keyval.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace tessera;

TEST(Trace, PatternsEnableDocumentedEvents) {
    EXPECT_EQ(trace_enable("nothing_like_this"), 0);
    EXPECT_FALSE(trace_enabled(TraceEvent::BlockdevOpen));
    EXPECT_EQ(trace_enable("plugin_*"), 2);
    EXPECT_TRUE(trace_enabled(TraceEvent::PluginLoad));
    EXPECT_TRUE(trace_enabled(TraceEvent::PluginRefused));
    EXPECT_NE(trace_help().find("vm_state_change"), std::string::npos);
}

TEST(Trace, ConfigureWritesToFileAndRejectsUnknown) {
    char path[] = "/tmp/tessera-trace-XXXXXX";
    close(mkstemp(path));
    trace_configure(std::string("enable=chardev_new,file=") + path);
    trace(TraceEvent::ChardevNew, "id=%s backend=%s", "c0", "null");
    trace(TraceEvent::SystemReset, "%s", "");  // not enabled: nothing
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    std::remove(path);
    EXPECT_NE(ss.str().find(":chardev_new id=c0 backend=null\n"), std::string::npos) << ss.str();
    EXPECT_EQ(ss.str().find("system_reset"), std::string::npos);
    EXPECT_THROW(trace_configure("bogus"), UsageError);
    EXPECT_THROW(trace_configure("enable=vm_*,colour=blue"), UsageError);
}
