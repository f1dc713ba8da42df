#include "options/json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

using namespace tessera;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

namespace {

TEST(Json, ParsesScalars) {
    EXPECT_TRUE(parse_json("null").is_null());
    EXPECT_TRUE(parse_json(" true ").as_bool());
    EXPECT_FALSE(parse_json("false").as_bool());
    EXPECT_EQ(parse_json("-42").as_int(), -42);
    EXPECT_EQ(parse_json("0").as_int(), 0);
    EXPECT_DOUBLE_EQ(parse_json("1.5e2").as_double(), 150.0);
    EXPECT_EQ(parse_json("1.5").type(), Json::Type::Double);
    EXPECT_EQ(parse_json("\"hi\"").as_string(), "hi");
}

TEST(Json, KeepsSixtyFourBitIntegers) {
    Json big = parse_json("18446744073709551615");
    EXPECT_EQ(big.type(), Json::Type::UInt);
    EXPECT_EQ(big.as_uint(), std::numeric_limits<uint64_t>::max());
    EXPECT_THROW(big.as_int(), UsageError);
    Json min = parse_json("-9223372036854775808");
    EXPECT_EQ(min.as_int(), std::numeric_limits<int64_t>::min());
    EXPECT_THROW(min.as_uint(), UsageError);
    // Beyond 64 bits an integer becomes a double, as in the reference.
    EXPECT_EQ(parse_json("18446744073709551616").type(), Json::Type::Double);
    EXPECT_EQ(Json(uint64_t{5}).type(), Json::Type::Int);
}

TEST(Json, ParsesContainersInOrder) {
    Json j = parse_json(R"({"execute": "qmp_capabilities", "arguments": {"b": [1, 2, {"c": null}], "a": 1}})");
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.find("execute")->as_string(), "qmp_capabilities");
    const Json *args = j.find("arguments");
    ASSERT_NE(args, nullptr);
    EXPECT_EQ(args->as_object()[0].first, "b");
    EXPECT_EQ(args->as_object()[1].first, "a");
    EXPECT_EQ(args->find("b")->as_array().size(), 3u);
    EXPECT_TRUE(args->find("b")->as_array()[2].find("c")->is_null());
    EXPECT_EQ(j.find("missing"), nullptr);
    EXPECT_TRUE(parse_json("[]").as_array().empty());
    EXPECT_TRUE(parse_json("{ }").as_object().empty());
}

TEST(Json, StringEscapes) {
    EXPECT_EQ(parse_json(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
    EXPECT_EQ(parse_json(R"("\u00e9")").as_string(), "\xc3\xa9");
    EXPECT_EQ(parse_json(R"("\u20AC")").as_string(), "\xe2\x82\xac");
    EXPECT_EQ(parse_json(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");
    // The reference also takes single-quoted strings.
    EXPECT_EQ(parse_json(R"({'a': 'it\'s'})").find("a")->as_string(), "it's");
}

TEST(Json, ErrorsNameThePosition) {
    EXPECT_THAT([] { parse_json("{\"a\": 1,\n \"b\" 2}"); },
                ThrowsMessage<UsageError>(HasSubstr("line 2, column 6: expected ':'")));
    EXPECT_THAT([] { parse_json("[1, 2"); },
                ThrowsMessage<UsageError>(HasSubstr("expected ',' or ']' but the text ended")));
    EXPECT_THAT([] { parse_json(""); }, ThrowsMessage<UsageError>(HasSubstr("expected a value")));
    EXPECT_THAT([] { parse_json("{\"a\":1,\"a\":2}"); },
                ThrowsMessage<UsageError>(HasSubstr("duplicate key 'a'")));
    EXPECT_THAT([] { parse_json("1 2"); },
                ThrowsMessage<UsageError>(HasSubstr("unexpected text after the value")));
    EXPECT_THAT([] { parse_json("\"abc"); }, ThrowsMessage<UsageError>(HasSubstr("unterminated string")));
    EXPECT_THAT([] { parse_json("\"a\\x\""); }, ThrowsMessage<UsageError>(HasSubstr("invalid escape")));
    EXPECT_THAT([] { parse_json("\"\\ud800\""); }, ThrowsMessage<UsageError>(HasSubstr("surrogate")));
    EXPECT_THAT([] { parse_json("\"\\u12\""); }, ThrowsMessage<UsageError>(HasSubstr("\\u escape")));
    EXPECT_THAT([] { parse_json("\"a\tb\""); }, ThrowsMessage<UsageError>(HasSubstr("control character")));
    EXPECT_THAT([] { parse_json("01"); }, ThrowsMessage<UsageError>(HasSubstr("unexpected text")));
    EXPECT_THAT([] { parse_json("1."); }, ThrowsMessage<UsageError>(HasSubstr("digits after '.'")));
    EXPECT_THAT([] { parse_json("1e"); }, ThrowsMessage<UsageError>(HasSubstr("exponent")));
    EXPECT_THAT([] { parse_json("1e999"); }, ThrowsMessage<UsageError>(HasSubstr("out of range")));
    EXPECT_THAT([] { parse_json("tru"); }, ThrowsMessage<UsageError>(HasSubstr("unexpected character 't'")));
    EXPECT_THAT([] { parse_json("{1: 2}"); }, ThrowsMessage<UsageError>(HasSubstr("string as object key")));
    EXPECT_THAT([] { parse_json(std::string(5000, '[')); },
                ThrowsMessage<UsageError>(HasSubstr("nesting too deep")));
}

TEST(Json, TypedAccessErrors) {
    EXPECT_THAT([] { parse_json("\"x\"").as_int(); },
                ThrowsMessage<UsageError>(HasSubstr("is string, expected integer")));
    EXPECT_THROW(parse_json("1").as_string(), UsageError);
    EXPECT_THROW(parse_json("[]").as_object(), UsageError);
    EXPECT_EQ(parse_json("3").as_double(), 3.0);
}

TEST(Json, CompactOutputMatchesReference) {
    EXPECT_EQ(to_json(parse_json(R"({"return":{}})")), R"({"return": {}})");
    EXPECT_EQ(to_json(parse_json(R"({"a":[1,2,true,null],"b":"x"})")),
              R"({"a": [1, 2, true, null], "b": "x"})");
    EXPECT_EQ(to_json(Json(-7)), "-7");
    EXPECT_EQ(to_json(Json(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
    EXPECT_EQ(to_json(Json(0.5)), "0.5");
    EXPECT_EQ(to_json(parse_json("1e1")), "10.0");  // stays a double when read back
    EXPECT_EQ(to_json(Json(1e300)), "1e+300");
    EXPECT_EQ(to_json(Json(std::numeric_limits<double>::infinity())), "null");
}

TEST(Json, StringOutputEscapes) {
    EXPECT_EQ(to_json(Json("a\"b\\c\n\t\x01")), R"("a\"b\\c\n\t\u0001")");
    EXPECT_EQ(to_json(Json("\xc3\xa9")), R"("\u00E9")");
    EXPECT_EQ(to_json(Json("\xf0\x9f\x98\x80")), R"("\uD83D\uDE00")");
    EXPECT_EQ(to_json(Json("\x7f")), R"("\u007F")");
    EXPECT_EQ(to_json(Json("\xff")), R"("\uFFFD")");  // invalid UTF-8
}

TEST(Json, PrettyOutputMatchesReference) {
    EXPECT_EQ(to_json_pretty(parse_json(R"({"return":{}})")), "{\n    \"return\": {\n    }\n}");
    EXPECT_EQ(to_json_pretty(parse_json(R"({"a":[1,2],"b":"x"})")),
              "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": \"x\"\n}");
}

TEST(Json, RoundTrips) {
    const char *text = R"({"a": {"b": [1, -2, 3.25, "\u00E9"]}, "c": false, "d": null})";
    EXPECT_EQ(to_json(parse_json(text)), text);
    EXPECT_EQ(parse_json(to_json_pretty(parse_json(text))), parse_json(text));
}

TEST(Json, BuildsValues) {
    Json o = Json::object();
    o.set("b", 1);
    o.set("a", "x");
    o.set("b", 2);  // replaces in place
    Json arr = Json::array();
    arr.push_back(true);
    o.set("c", arr);
    EXPECT_EQ(to_json(o), R"({"b": 2, "a": "x", "c": [true]})");
    EXPECT_THROW(o.find("b")->as_object(), UsageError);  // wrong type
}

TEST(JsonSplitter, SplitsAStream) {
    JsonSplitter s;
    auto out = s.feed(R"({"execute": "a"}{"execute")");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R"({"execute": "a"})");
    EXPECT_TRUE(s.pending());
    out = s.feed(": \"b}\", 'x': [1, {}]}\n  [1]");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(parse_json(out[0]).find("execute")->as_string(), "b}");
    EXPECT_EQ(out[1], "[1]");
    EXPECT_FALSE(s.pending());
    // Junk outside containers is handed on so the parser can reject it.
    out = s.feed("bad {}");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], "bad");
    EXPECT_THROW(parse_json(out[0]), UsageError);
    EXPECT_EQ(s.feed("\"a\\\"}\"").size(), 0u);  // escaped quote inside a string
}

}  // namespace
