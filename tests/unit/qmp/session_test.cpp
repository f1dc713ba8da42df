// The QMP protocol layer without sockets: a session fed bytes, its output
// split back into messages.
#include "qmp/session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace tessera;

namespace {

struct Harness {
    std::vector<Json> out;
    bool closed = false;
    QmpSession s{{[this](std::string_view text) {
                      EXPECT_TRUE(text.ends_with("\r\n")) << text;
                      out.push_back(parse_json(text));
                  },
                  [this] { closed = true; }},
                 false};
    // Sends one line and returns the single reply.
    Json ask(std::string_view line) {
        out.clear();
        s.input(line);
        EXPECT_EQ(out.size(), 1u) << line;
        return out.empty() ? Json() : out.back();
    }
    void negotiate() { ask(R"({"execute": "qmp_capabilities"})"); }
};

std::string error_class(const Json &r) {
    const Json *e = r.find("error");
    return e ? e->find("class")->as_string() : "";
}
std::string error_desc(const Json &r) {
    const Json *e = r.find("error");
    return e ? e->find("desc")->as_string() : "";
}

}  // namespace

TEST(QmpSession, GreetingAdvertisesVersionAndOob) {
    Harness h;
    h.s.greet();
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_EQ(to_json(h.out[0]),
              R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "tessera )" TESSERA_VERSION
              R"("}, "capabilities": ["oob"]}})");
}

TEST(QmpSession, CommandsNeedNegotiationFirst) {
    Harness h;
    Json r = h.ask(R"({"execute": "query-status", "id": 7})");
    EXPECT_EQ(error_class(r), "CommandNotFound");
    EXPECT_EQ(error_desc(r), "Expecting capabilities negotiation with 'qmp_capabilities'");
    EXPECT_EQ(*r.find("id"), Json(7));
    r = h.ask(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": "neg"})");
    EXPECT_EQ(to_json(r), R"({"return": {}, "id": "neg"})");
    EXPECT_TRUE(h.s.negotiated());
    r = h.ask(R"({"execute": "qmp_capabilities"})");
    EXPECT_EQ(error_desc(r), "Capabilities negotiation is already complete, command ignored");
}

TEST(QmpSession, QueryStatusAndVersion) {
    Harness h;
    h.negotiate();
    Json r = h.ask(R"({"execute": "query-status"})");
    EXPECT_EQ(to_json(r), R"({"return": {"running": false, "singlestep": false, "status": "prelaunch"}})");
    r = h.ask(R"({"execute": "query-version"})");
    EXPECT_EQ(r.find("return")->find("qemu")->find("major")->as_int(), 7);
    r = h.ask(R"({"execute": "query-kvm"})");
    EXPECT_EQ(to_json(r), R"({"return": {"enabled": false, "present": false}})");
    EXPECT_EQ(to_json(h.ask(R"({"execute": "query-block"})")), R"({"return": []})");
}

TEST(QmpSession, EnvelopeAndArgumentErrorsUseTheReferenceWords) {
    Harness h;
    h.negotiate();
    EXPECT_EQ(error_desc(h.ask("[1, 2]\n")), "QMP input must be a JSON object");
    EXPECT_EQ(error_desc(h.ask(R"({"id": 1})")), "QMP input lacks member 'execute'");
    EXPECT_EQ(error_desc(h.ask(R"({"execute": "stop", "frob": 1})")), "QMP input member 'frob' is unexpected");
    EXPECT_EQ(error_desc(h.ask(R"({"execute": "stop", "arguments": 3})")),
              "QMP input member 'arguments' must be an object");
    Json r = h.ask(R"({"execute": "no-such", "id": {"a": [1]}})");
    EXPECT_EQ(error_class(r), "CommandNotFound");
    EXPECT_EQ(error_desc(r), "The command no-such has not been found");
    EXPECT_EQ(to_json(*r.find("id")), R"({"a": [1]})");
    EXPECT_EQ(error_desc(h.ask(R"({"execute": "stop", "arguments": {"x": 1}})")), "Parameter 'x' is unexpected");
    EXPECT_EQ(error_desc(h.ask(R"({"execute": "qom-get", "arguments": {"path": "/"}})")),
              "Parameter 'property' is missing");
    EXPECT_EQ(error_desc(h.ask(R"({"execute": "qom-list", "arguments": {"path": 5}})")),
              "Invalid parameter type for 'path', expected: string");
    EXPECT_EQ(error_desc(h.ask(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["x"]}})")),
              "Capabilities negotiation is already complete, command ignored");
    EXPECT_EQ(error_desc(h.ask(R"({"exec-oob": "stop"})")), "The command stop does not support OOB");
}

TEST(QmpSession, GarbageGetsAnErrorAndTheSessionGoesOn) {
    Harness h;
    h.negotiate();
    Json r = h.ask("garbage\n");
    EXPECT_EQ(error_class(r), "GenericError");
    EXPECT_TRUE(error_desc(r).starts_with("JSON parse error, ")) << error_desc(r);
    EXPECT_EQ(error_class(h.ask("{\"execute\": }\n")), "GenericError");
    EXPECT_TRUE(h.ask(R"({"execute": "query-status"})").find("return"));
    EXPECT_FALSE(h.closed);
}

TEST(QmpSession, SplitRequestsAndSeveralInOneChunk) {
    Harness h;
    h.negotiate();
    h.out.clear();
    h.s.input(R"({"execute": "query-na)");
    EXPECT_TRUE(h.out.empty());
    h.s.input(R"(me", "id": 1}{"execute": "query-uuid", "id": 2})");
    ASSERT_EQ(h.out.size(), 2u);
    EXPECT_EQ(to_json(h.out[0]), R"({"return": {}, "id": 1})");
    EXPECT_EQ(*h.out[1].find("id"), Json(2));
    EXPECT_EQ(h.out[1].find("return")->find("UUID")->as_string(), "00000000-0000-0000-0000-000000000000");
}

TEST(QmpSession, HugeRequestIsRefusedAndTheClientDropped) {
    Harness h;
    h.negotiate();
    h.out.clear();
    std::string big = R"({"execute": "qom-get", "arguments": {"path": ")" + std::string(kQmpMaxRequest + 10, 'a');
    h.s.input(big);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_NE(error_desc(h.out[0]).find("limit"), std::string::npos);
    EXPECT_TRUE(h.closed);
}

TEST(QmpSession, EventsOnlyAfterNegotiation) {
    Harness h;
    Json ev = Json::Object{{"event", "STOP"}};
    h.s.event(ev);
    EXPECT_TRUE(h.out.empty());
    h.negotiate();
    h.out.clear();
    h.s.event(ev);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_EQ(h.out[0], ev);
    h.s.greet();  // a reconnect starts over
    h.out.clear();
    h.s.event(ev);
    EXPECT_TRUE(h.out.empty());
}

TEST(QmpSession, PrettyOutputHasCrlfLines) {
    std::string text;
    QmpSession s({[&](std::string_view t) { text += t; }, {}}, true);
    s.input(R"({"execute": "qmp_capabilities"})");
    text.clear();
    s.input(R"({"execute": "query-kvm"})");
    EXPECT_EQ(text, "{\r\n    \"return\": {\r\n        \"enabled\": false,\r\n        \"present\": false\r\n    }\r\n}\r\n");
}

TEST(QmpSchema, CommandsAndTheirTypesAreDescribed) {
    Json schema = qmp_schema();
    auto find = [&](std::string_view name) -> const Json * {
        for (const auto &e : schema.as_array())
            if (e.find("name")->as_string() == name) return &e;
        return nullptr;
    };
    const Json *qs = find("query-status");
    ASSERT_TRUE(qs);
    EXPECT_EQ(qs->find("meta-type")->as_string(), "command");
    const Json *ret = find(qs->find("ret-type")->as_string());
    ASSERT_TRUE(ret);
    EXPECT_EQ(ret->find("meta-type")->as_string(), "object");
    // Every type referred to is itself in the schema.
    for (const auto &e : schema.as_array()) {
        for (const char *k : {"arg-type", "ret-type", "element-type"}) {
            if (const Json *t = e.find(k)) {
                EXPECT_TRUE(find(t->as_string())) << t->as_string();
            }
        }
        if (const Json *ms = e.find("members"); ms && e.find("meta-type")->as_string() == "object") {
            for (const auto &m : ms->as_array()) {
                EXPECT_TRUE(find(m.find("type")->as_string())) << to_json(m);
            }
        }
    }
    const Json *rs = find("RunState");
    ASSERT_TRUE(rs);
    EXPECT_EQ(rs->find("meta-type")->as_string(), "enum");
    ASSERT_TRUE(find("SHUTDOWN"));
    EXPECT_EQ(find("SHUTDOWN")->find("meta-type")->as_string(), "event");
    // query-commands lists exactly the schema's commands.
    Harness h;
    h.negotiate();
    Json cmds = h.ask(R"({"execute": "query-commands"})");
    size_t n = 0;
    for (const auto &e : schema.as_array()) n += e.find("meta-type")->as_string() == "command";
    EXPECT_EQ(cmds.find("return")->as_array().size(), n);
}

TEST(QmpSession, QomOnTheObjectTree) {
    Harness h;
    h.negotiate();
    Json r = h.ask(R"({"execute": "qom-list", "arguments": {"path": "/"}})");
    ASSERT_TRUE(r.find("return")) << to_json(r);
    EXPECT_EQ(h.ask(R"({"execute": "qom-get", "arguments": {"path": "/", "property": "type"}})"),
              Json(Json::Object{{"return", "container"}}));
    r = h.ask(R"({"execute": "qom-list", "arguments": {"path": "/nowhere"}})");
    EXPECT_EQ(error_class(r), "DeviceNotFound");
    r = h.ask(R"({"execute": "human-monitor-command", "arguments": {"command-line": "frob"}})");
    EXPECT_EQ(to_json(r), R"({"return": "unknown command: 'frob'\n"})");
}
