// Random input must produce results or UsageError, never anything else.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "options/json.hpp"
#include "options/keyval.hpp"
#include "options/readconfig.hpp"

using namespace tessera;

namespace {

std::string random_text(std::mt19937 &rng, std::string_view alphabet, size_t max_len) {
    std::uniform_int_distribution<size_t> len(0, max_len), pick(0, alphabet.size() - 1);
    std::string s(len(rng), ' ');
    for (char &c : s) c = alphabet[pick(rng)];
    return s;
}

template <typename F>
void only_usage_errors(F &&f) {
    try {
        f();
    } catch (const UsageError &) {
    }
}

TEST(Robustness, JsonParserSurvivesGarbage) {
    std::mt19937 rng(1234);
    for (int i = 0; i < 3000; ++i) {
        std::string s = random_text(rng, "{}[]\"':,\\u0123456789.eE+-truefalsn \n\xc3\xa9", 24);
        only_usage_errors([&] {
            Json j = parse_json(s);
            EXPECT_EQ(parse_json(to_json(j)), j) << s;  // what parses, round-trips
        });
    }
}

TEST(Robustness, KeyvalAndNumbersSurviveGarbage) {
    std::mt19937 rng(99);
    for (int i = 0; i < 3000; ++i) {
        std::string s = random_text(rng, "ab=,?{}\"no0x19.kMGE-+ ", 16);
        only_usage_errors([&] { parse_keyval(s, "type", true, true); });
        only_usage_errors([&] { parse_keyval(s, {}, false, false); });
        only_usage_errors([&] { parse_size(s, 'M'); });
        only_usage_errors([&] { parse_int(s); });
        only_usage_errors([&] { parse_uint(s); });
        only_usage_errors([&] { parse_config(s, "f"); });
    }
}

}  // namespace
