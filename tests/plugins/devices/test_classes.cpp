// Every type each device plugin's manifest names has a well-formed class and
// can be created, realized, reset and destroyed with its defaults (plus the
// backends it needs).
#include "device_test.hpp"

#include <sstream>

namespace {

std::vector<std::string> manifest_types(const char *manifest) {
    std::vector<std::string> out;
    std::istringstream in(manifest);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream l(line);
        std::string rec, kind, name;
        l >> rec >> kind >> name;
        if (rec == "type") {
            EXPECT_EQ(kind, "device") << line;
            out.push_back(name);
        }
    }
    return out;
}

class ClassTest : public DeviceTest, public ::testing::WithParamInterface<const char *> {};

TEST_P(ClassTest, EveryManifestTypeIsWellFormed) {
    load(GetParam());
    host->add_cpus(1);
    host->drive("d0").data.resize(4096);
    const ts_plugin_descriptor *d = plugin->descriptor();
    EXPECT_EQ(d->size, sizeof(ts_plugin_descriptor));
    EXPECT_EQ(d->abi_major, TESSERA_ABI_MAJOR);
    auto types = manifest_types(d->manifest);
    ASSERT_FALSE(types.empty());
    for (const std::string &t : types) {
        SCOPED_TRACE(t);
        const ts_device_class *c = plugin->device_class(t);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->size, sizeof(ts_device_class));
        EXPECT_EQ(c->base.size, sizeof(ts_object_class));
        ASSERT_NE(c->base.create, nullptr);
        ASSERT_NE(c->base.destroy, nullptr);
        for (uint32_t i = 0; i < c->base.prop_count; i++) {
            EXPECT_EQ(c->base.props[i].size, sizeof(ts_prop_decl));
            EXPECT_NE(c->base.props[i].name, nullptr);
            EXPECT_NE(c->base.props[i].description, nullptr);
        }
        if (const ts_state_decl *s = c->base.state) {
            EXPECT_EQ(s->size, sizeof(ts_state_decl));
            EXPECT_GT(s->field_count, 0u);
            for (uint32_t i = 0; i < s->field_count; i++) EXPECT_NE(s->fields[i].name, nullptr);
        }
        std::map<std::string, std::string> props;
        if (t == "virtio-blk-device") props["drive"] = "d0";
        ts_object *obj = nullptr;
        EXPECT_EQ(plugin->try_create(t, props, &obj), "");
        if (obj && c->base.state) {
            EXPECT_NE(c->base.state_base(obj->instance), nullptr);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Plugins, ClassTest,
                         ::testing::Values(PLUGIN_SERIAL, PLUGIN_RISCV_INTC, PLUGIN_MISC, PLUGIN_VIRTIO));

}  // namespace
