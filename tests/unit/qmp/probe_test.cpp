// The commands of libvirt's capability probe and domain start, run
// in-process through QmpSession::handle against built-in test types.
#include "qmp/qmp.hpp"
#include "qmp/session.hpp"

#include "qom/object.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace tessera;

namespace {

Json run(QmpSession &s, std::string_view request) { return s.handle(parse_json(request)); }

QmpSession negotiated() {
    QmpSession s{{[](std::string_view) {}, {}}, false};
    run(s, R"({"execute": "qmp_capabilities"})");
    return s;
}

std::string error_class(const Json &r) {
    const Json *e = r.find("error");
    return e ? e->find("class")->as_string() : "";
}
std::string error_desc(const Json &r) {
    const Json *e = r.find("error");
    return e ? e->find("desc")->as_string() : "";
}

bool has_name(const Json &list, std::string_view name, std::string_view key = "name") {
    for (const auto &e : list.as_array())
        if (const Json *n = e.find(key); n && n->as_string() == name) return true;
    return false;
}

// Test types: a board with one property and a memory backend.
const ts_prop_decl kBoardProps[] = {
    {sizeof(ts_prop_decl), "aclint", TS_PROP_BOOL, "off", 0, 0, nullptr, nullptr, "timer block"},
};
const ts_board_class kBoard = {
    sizeof(ts_board_class),
    {sizeof(ts_object_class), kBoardProps, 1, TS_STATE_NONE, nullptr, nullptr, nullptr, nullptr, nullptr},
    "test board", "rv64", 0, 4, 0, nullptr, nullptr,
};
const ts_prop_decl kBackendProps[] = {
    {sizeof(ts_prop_decl), "size", TS_PROP_SIZE, nullptr, 0, 0, nullptr, nullptr, "bytes"},
    {sizeof(ts_prop_decl), "mem-path", TS_PROP_STRING, nullptr, 0, 0, nullptr, nullptr, nullptr},
};
const ts_object_class kBackend = {sizeof(ts_object_class), kBackendProps, 2, TS_STATE_NONE,
                                  nullptr, nullptr, nullptr, nullptr, nullptr};

class QmpProbe : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        TypeImpl b;
        b.name = "probe-board";
        b.kind = TypeKind::Board;
        b.cls = &kBoard;
        type_register_builtin(std::move(b));
        TypeImpl m;
        m.name = "memory-backend-file";
        m.kind = TypeKind::Object;
        m.cls = &kBackend;
        type_register_builtin(std::move(m));
    }
    QmpSession s = negotiated();
};

}  // namespace

TEST_F(QmpProbe, VersionIsRecentEnoughForLibvirt) {
    Json v = *run(s, R"({"execute": "query-version"})").find("return")->find("qemu");
    EXPECT_GE(v.find("major")->as_int() * 100 + v.find("minor")->as_int(), 402);
}

TEST_F(QmpProbe, QomListTypesHasTcgAccel) {
    Json r = *run(s, R"({"execute": "qom-list-types"})").find("return");
    EXPECT_TRUE(has_name(r, "tcg-accel"));
    EXPECT_TRUE(has_name(r, "probe-board"));
    EXPECT_FALSE(has_name(r, "accel"));  // abstract
    r = *run(s, R"({"execute": "qom-list-types", "arguments": {"implements": "accel", "abstract": true}})")
             .find("return");
    EXPECT_EQ(to_json(r),
              R"([{"name": "accel", "abstract": true, "parent": "object"}, {"name": "tcg-accel", "parent": "accel"}])");
}

TEST_F(QmpProbe, DeviceListPropertiesUnknownIsDeviceNotFound) {
    Json r = run(s, R"({"execute": "device-list-properties", "arguments": {"typename": "virtio-frob"}})");
    EXPECT_EQ(error_class(r), "DeviceNotFound");
    EXPECT_EQ(error_desc(r), "Device 'virtio-frob' not found");
    r = run(s, R"({"execute": "device-list-properties", "arguments": {"typename": "memory-backend-file"}})");
    EXPECT_EQ(error_desc(r), "Parameter 'typename' expects device");
}

TEST_F(QmpProbe, QomListProperties) {
    // Unknown types: an empty list, never an error (libvirt 9.0 crashes on one).
    EXPECT_EQ(to_json(run(s, R"({"execute": "qom-list-properties", "arguments": {"typename": "memory-backend-memfd"}})")),
              R"({"return": []})");
    EXPECT_EQ(to_json(run(s, R"({"execute": "qom-list-properties", "arguments": {"typename": "nope-machine"}})")),
              R"({"return": []})");
    Json r = *run(s, R"({"execute": "qom-list-properties", "arguments": {"typename": "memory-backend-file"}})")
                  .find("return");
    EXPECT_EQ(to_json(r), R"([{"name": "size", "type": "size", "description": "bytes"}, {"name": "mem-path", "type": "str"}])");
    r = *run(s, R"({"execute": "qom-list-properties", "arguments": {"typename": "probe-board-machine"}})")
             .find("return");
    EXPECT_TRUE(has_name(r, "memory-backend"));
    EXPECT_TRUE(has_name(r, "dump-guest-core"));
    EXPECT_TRUE(has_name(r, "aclint"));
    // The board itself is not an object type of that name.
    EXPECT_EQ(to_json(run(s, R"({"execute": "qom-list-properties", "arguments": {"typename": "probe-board"}})")),
              R"({"return": []})");
}

TEST_F(QmpProbe, NoTpmIothreadsJobsOrBlockNodes) {
    for (auto cmd : {"query-tpm-models", "query-tpm-types", "query-iothreads",
                     "query-jobs", "query-named-block-nodes"})
        EXPECT_EQ(to_json(run(s, R"({"execute": ")" + std::string(cmd) + R"("})")), R"({"return": []})") << cmd;
    EXPECT_EQ(to_json(run(s, R"({"execute": "query-named-block-nodes", "arguments": {"flat": true}})")),
              R"({"return": []})");
}

TEST_F(QmpProbe, MigrationCapabilitiesOnlyEvents) {
    auto query = [&] { return to_json(run(s, R"({"execute": "query-migrate-capabilities"})")); };
    EXPECT_EQ(query(), R"({"return": [{"capability": "events", "state": false}]})");
    EXPECT_EQ(to_json(run(s, R"({"execute": "migrate-set-capabilities", "arguments": {"capabilities": []}})")),
              R"({"return": {}})");
    // What libvirt 9.0 sends at every domain start.
    EXPECT_EQ(to_json(run(s, R"({"execute": "migrate-set-capabilities",
                                 "arguments": {"capabilities": [{"capability": "events", "state": true}]}})")),
              R"({"return": {}})");
    EXPECT_EQ(query(), R"({"return": [{"capability": "events", "state": true}]})");
    // Unlisted ones may only be turned off; a failure changes nothing.
    EXPECT_EQ(to_json(run(s, R"({"execute": "migrate-set-capabilities",
                                 "arguments": {"capabilities": [{"capability": "xbzrle", "state": false}]}})")),
              R"({"return": {}})");
    Json r = run(s, R"({"execute": "migrate-set-capabilities",
                        "arguments": {"capabilities": [{"capability": "events", "state": false},
                                                       {"capability": "postcopy-ram", "state": true}]}})");
    EXPECT_EQ(error_desc(r), "Migration capability 'postcopy-ram' is not supported");
    EXPECT_EQ(query(), R"({"return": [{"capability": "events", "state": true}]})");
    r = run(s, R"({"execute": "migrate-set-capabilities",
                   "arguments": {"capabilities": [{"capability": "events", "state": false}, {"capability": "frob", "state": false}]}})");
    EXPECT_EQ(error_desc(r), "Parameter 'capabilities[1].capability' does not accept value 'frob'");
    r = run(s, R"({"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events"}]}})");
    EXPECT_EQ(error_desc(r), "Parameter 'capabilities[0].state' is missing");
    r = run(s, R"({"execute": "migrate-set-capabilities", "arguments": {}})");
    EXPECT_EQ(error_desc(r), "Parameter 'capabilities' is missing");
    run(s, R"({"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events", "state": false}]}})");
    EXPECT_EQ(query(), R"({"return": [{"capability": "events", "state": false}]})");
}

TEST_F(QmpProbe, CommandLineOptions) {
    Json r = *run(s, R"({"execute": "query-command-line-options"})").find("return");
    EXPECT_TRUE(has_name(r, "machine", "option"));
    EXPECT_TRUE(has_name(r, "smp-opts", "option"));
    EXPECT_FALSE(has_name(r, "sandbox", "option"));  // tessera has no -sandbox
    r = *run(s, R"({"execute": "query-command-line-options", "arguments": {"option": "overcommit"}})").find("return");
    EXPECT_EQ(to_json(r), R"([{"parameters": [{"name": "mem-lock", "type": "boolean"}, )"
                          R"({"name": "cpu-pm", "type": "boolean"}], "option": "overcommit"}])");
    EXPECT_EQ(error_desc(run(s, R"({"execute": "query-command-line-options", "arguments": {"option": "sandbox"}})")),
              "invalid option name: sandbox");
}

TEST_F(QmpProbe, SetActionGoesToTheHook) {
    qmp_set_action_hook({});
    EXPECT_EQ(error_class(run(s, R"({"execute": "set-action", "arguments": {"shutdown": "pause"}})")), "GenericError");
    KeyVals got;
    qmp_set_action_hook([&](const KeyVals &kv) { got = kv; });
    EXPECT_EQ(to_json(run(s, R"({"execute": "set-action", "arguments": {"shutdown": "pause", "reboot": "shutdown"}})")),
              R"({"return": {}})");
    EXPECT_EQ(got.get("shutdown"), "pause");
    EXPECT_EQ(got.get("reboot"), "shutdown");
    EXPECT_EQ(error_desc(run(s, R"({"execute": "set-action", "arguments": {"panic": "explode"}})")),
              "Parameter 'panic' does not accept value 'explode'");
    qmp_set_action_hook({});
}

TEST_F(QmpProbe, SchemaAndCommandListCoverTheNewCommands) {
    Json schema = qmp_schema();
    Json cmds = *run(s, R"({"execute": "query-commands"})").find("return");
    for (auto name : {"qom-list-properties", "query-tpm-models", "query-tpm-types", "query-command-line-options",
                      "query-migrate-capabilities", "migrate-set-capabilities", "query-iothreads",
                      "query-named-block-nodes", "set-action", "query-jobs", "system_powerdown"}) {
        EXPECT_TRUE(has_name(cmds, name)) << name;
        bool found = false;
        for (const auto &e : schema.as_array())
            found |= e.find("name")->as_string() == name && e.find("meta-type")->as_string() == "command";
        EXPECT_TRUE(found) << name;
    }
    // set-action's argument type lists the -action keys as optional enums.
    for (const auto &e : schema.as_array())
        if (e.find("name")->as_string() == "q_obj_set-action-arg")
            EXPECT_EQ(e.find("members")->as_array().size(), 4u);
}

TEST_F(QmpProbe, MachineContainersAlwaysExist) {
    // Without a machine there is nothing to list.
    if (!object_resolve("/machine"))
        EXPECT_EQ(error_class(run(s, R"({"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}})")),
                  "DeviceNotFound");
    object_machine();
    // libvirt lists /machine/peripheral at every start, devices with ids or not.
    EXPECT_EQ(to_json(run(s, R"({"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}})")),
              R"({"return": [{"name": "type", "type": "string"}]})");
    EXPECT_EQ(error_class(run(s, R"({"execute": "qom-list", "arguments": {"path": "/machine/frob"}})")),
              "DeviceNotFound");
}

// blockdev-add checks the union's base itself; the rest is the block layer's
// (no block plugins are loaded here: every driver is unknown).
TEST_F(QmpProbe, BlockdevAddArgumentErrors) {
    auto add = [&](std::string_view args) {
        return run(s, R"({"execute": "blockdev-add", "arguments": )" + std::string(args) + "}");
    };
    Json r = add(R"({"node-name": "n0"})");
    EXPECT_EQ(error_class(r), "GenericError");
    EXPECT_EQ(error_desc(r), "Parameter 'driver' is missing");
    EXPECT_EQ(error_desc(add(R"({"driver": "raw", "node-name": "n0", "read-only": "yes"})")),
              "Invalid parameter type for 'read-only', expected: boolean");
    EXPECT_EQ(error_desc(add(R"({"driver": "raw", "node-name": "n0", "discard": "trim"})")),
              "Parameter 'discard' does not accept value 'trim'");
    // Variant members pass the base check and reach the block layer.
    r = add(R"({"driver": "frob", "node-name": "n0", "file": {"driver": "file", "filename": "/x"}})");
    EXPECT_EQ(error_class(r), "GenericError");
    EXPECT_EQ(error_desc(r), "Parameter 'driver' does not accept value 'frob'");
}

TEST_F(QmpProbe, BlockdevAddInSchema) {
    EXPECT_TRUE(has_name(*run(s, R"({"execute": "query-commands"})").find("return"), "blockdev-add"));
    bool cmd = false, tagged = false;
    const Json schema = qmp_schema();  // kept: the loop walks into it
    for (const auto &e : schema.as_array()) {
        const std::string &n = e.find("name")->as_string();
        if (n == "blockdev-add") cmd = e.find("arg-type")->as_string() == "BlockdevOptions";
        if (n == "BlockdevOptions") tagged = e.find("tag") && e.find("tag")->as_string() == "driver";
    }
    EXPECT_TRUE(cmd);
    EXPECT_TRUE(tagged);
}
