// Property declarations, validation and the object tree.
#include "qom/object.hpp"
#include "options/keyval.hpp"
#include "plugins/manifest.hpp"

#include <gtest/gtest.h>

using namespace tessera;

namespace {

const char *const kModes[] = {"fast", "slow", nullptr};
const ts_prop_decl kProps[] = {
    {sizeof(ts_prop_decl), "on", TS_PROP_BOOL, "off", 0, 0, nullptr, nullptr, "a switch"},
    {sizeof(ts_prop_decl), "shift", TS_PROP_UINT, "0", 0, 2, nullptr, nullptr, "register shift"},
    {sizeof(ts_prop_decl), "size", TS_PROP_SIZE, nullptr, 0, 0, nullptr, nullptr, nullptr},
    {sizeof(ts_prop_decl), "mode", TS_PROP_ENUM, "fast", 0, 0, kModes, nullptr, nullptr},
    {sizeof(ts_prop_decl), "mac", TS_PROP_MACADDR, nullptr, 0, 0, nullptr, nullptr, nullptr},
};

int g_realized = 0;
struct Dev {
    ts_object *obj;
};
Dev g_dev;
void *create(ts_object *o, ts_error *) {
    g_dev.obj = o;
    return &g_dev;
}
ts_status realize(void *, ts_error *err) {
    auto *p = g_dev.obj->find_prop("shift");
    if (p->value == "2") {
        snprintf(err->message, sizeof err->message, "shift 2 is broken");
        return TS_ERROR;
    }
    g_realized++;
    return TS_OK;
}
const ts_device_class kDev = {sizeof(ts_device_class),
                              {sizeof(ts_object_class), kProps, 5, TS_STATE_NONE, create, realize, nullptr, nullptr,
                               nullptr},
                              nullptr, 1, nullptr, nullptr};

void register_test_type() {
    if (type_find_loaded("test-dev")) return;
    TypeImpl t;
    t.name = "test-dev";
    t.kind = TypeKind::Device;
    t.cls = &kDev;
    type_register_builtin(std::move(t));
}

TEST(Props, NormaliseChecksTypesAndRanges) {
    EXPECT_EQ(prop_normalise("t", kProps[0], "yes"), "on");
    EXPECT_EQ(prop_normalise("t", kProps[0], "false"), "off");
    EXPECT_THROW(prop_normalise("t", kProps[0], "maybe"), UsageError);
    EXPECT_EQ(prop_normalise("t", kProps[1], "0x2"), "2");
    try {
        prop_normalise("t", kProps[1], "3");
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_STREQ(e.what(), "Property 't.shift' doesn't take value '3' (minimum: 0, maximum: 2)");
    }
    EXPECT_EQ(prop_normalise("t", kProps[2], "4k"), "4096");
    EXPECT_EQ(prop_normalise("t", kProps[3], "slow"), "slow");
    EXPECT_THROW(prop_normalise("t", kProps[3], "medium"), UsageError);
    EXPECT_EQ(prop_normalise("t", kProps[4], "52:54:00:12:34:56"), "52:54:00:12:34:56");
    EXPECT_THROW(prop_normalise("t", kProps[4], "52:54:00"), UsageError);
}

TEST(Objects, TreePathsPropsAndRealize) {
    register_test_type();
    ts_object *o = object_new(nullptr, "test-dev", "mydev", "-device");
    EXPECT_EQ(o->path, "/machine/peripheral/mydev");
    EXPECT_EQ(object_find_by_id("mydev"), o);
    EXPECT_EQ(object_resolve("/machine/peripheral/mydev"), o);
    EXPECT_EQ(*o->find_prop("mode")->value, "fast");  // default
    object_set_prop(o, "shift", "1");
    EXPECT_THROW(object_set_prop(o, "nosuch", "1"), UsageError);
    int before = g_realized;
    object_realize(o);
    EXPECT_EQ(g_realized, before + 1);
    EXPECT_THROW(object_set_prop(o, "shift", "0"), UsageError);  // after realize
    EXPECT_THROW(object_new(nullptr, "test-dev", "mydev", "-device"), UsageError);  // duplicate id
}

TEST(Objects, RealizeErrorNamesTheDevice) {
    register_test_type();
    ts_object *o = object_new(nullptr, "test-dev", "bad", "-device");
    object_set_prop(o, "shift", "2");
    try {
        object_realize(o);
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_STREQ(e.what(), "Device 'bad' (test-dev): shift 2 is broken");
    }
}

TEST(Objects, AnonymousDevicesGoUnattached) {
    register_test_type();
    ts_object *o = object_new(nullptr, "test-dev", "", "-device");
    EXPECT_EQ(o->path.rfind("/machine/unattached/device[", 0), 0u) << o->path;
}

TEST(Objects, GlobalsApplyAtCreation) {
    register_test_type();
    global_prop_add("test-dev", "mode", "slow");
    ts_object *o = object_new(nullptr, "test-dev", "g1", "-device");
    EXPECT_EQ(*o->find_prop("mode")->value, "slow");
}

TEST(Objects, PropsHelpListsDeclarations) {
    register_test_type();
    std::string h = props_help(*type_find_loaded("test-dev"));
    EXPECT_NE(h.find("test-dev options:"), std::string::npos);
    EXPECT_NE(h.find("shift=<uint64>"), std::string::npos);
    EXPECT_NE(h.find("(default: fast)"), std::string::npos);
}

TEST(Manifest, ParsesTypesAndRejectsBadLines) {
    Manifest m = parse_manifest("abi 1.0\nplugin p\nversion 2\ntype device foo - misc A foo device\nfuture x\n");
    EXPECT_EQ(m.abi_major, 1);
    EXPECT_EQ(m.plugin, "p");
    ASSERT_EQ(m.types.size(), 1u);
    EXPECT_EQ(m.types[0].description, "A foo device");
    EXPECT_EQ(m.types[0].category, "misc");
    EXPECT_THROW(parse_manifest("plugin p\n"), std::runtime_error);
    EXPECT_THROW(parse_manifest("abi x\nplugin p\n"), std::runtime_error);
    EXPECT_THROW(parse_manifest("abi 1.0\nplugin p\ntype gizmo foo - - d\n"), std::runtime_error);
}

}  // namespace
