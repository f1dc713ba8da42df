// key=value lists, sizes, booleans and integers with the reference's rules.
#include "options/keyval.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "options/json.hpp"

namespace tessera {

// ---------------------------------------------------------------- KeyVals

const std::string *KeyVals::find(std::string_view key) const {
    for (auto it = items.rbegin(); it != items.rend(); ++it)
        if (it->first == key) return &it->second;
    return nullptr;
}

std::string KeyVals::get(std::string_view key, std::string_view fallback) const {
    const std::string *v = find(key);
    return v ? *v : std::string(fallback);
}

void KeyVals::set(std::string key, std::string value) {
    auto first = std::ranges::find(items, key, &std::pair<std::string, std::string>::first);
    if (first == items.end()) {
        items.emplace_back(std::move(key), std::move(value));
        return;
    }
    first->second = std::move(value);
    // Later duplicates would shadow the new value in get(): drop them.
    auto tail = std::ranges::remove_if(std::next(first), items.end(),
                                       [&](auto &kv) { return kv.first == key; });
    items.erase(tail.begin(), tail.end());
}

bool KeyVals::erase(std::string_view key) {
    return std::erase_if(items, [&](auto &kv) { return kv.first == key; }) > 0;
}

namespace {

bool is_help_word(std::string_view s) { return s == "help" || s == "?"; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a value up to an unescaped ',' (",," stands for one comma);
// returns the position after the terminating comma or the end.
size_t read_value(std::string_view text, size_t pos, std::string &out) {
    while (pos < text.size()) {
        if (text[pos] == ',') {
            if (pos + 1 < text.size() && text[pos + 1] == ',') {
                out += ',';
                pos += 2;
                continue;
            }
            return pos + 1;
        }
        out += text[pos++];
    }
    return pos;
}

// The strict syntax (bare flags refused) also checks keys: dot-separated
// fragments, each a name [A-Za-z][A-Za-z0-9_-]* (optionally behind a vendor
// prefix "__com.example_") or an array index [0-9]+.
void check_key(std::string_view key) {
    auto bad = [&] { throw UsageError("invalid parameter '" + std::string(key) + "'"); };
    size_t i = 0;
    for (;;) {
        bool vendor = key.substr(i).starts_with("__");
        if (vendor) {
            size_t end = key.find('_', i + 2);
            if (end == std::string_view::npos || end == i + 2) bad();
            for (size_t k = i + 2; k < end; ++k)
                if (!(std::islower(static_cast<unsigned char>(key[k])) || is_digit(key[k]) ||
                      key[k] == '.' || key[k] == '-'))
                    bad();
            i = end + 1;
        }
        size_t dot = std::min(key.find('.', i), key.size());
        std::string_view frag = key.substr(i, dot - i);
        if (frag.empty()) bad();
        bool index = !vendor && std::ranges::all_of(frag, is_digit);
        bool name = std::isalpha(static_cast<unsigned char>(frag.front())) &&
                    std::ranges::all_of(frag, [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                    });
        if (!index && !name) bad();
        if (dot == key.size()) return;
        i = dot + 1;
    }
}

void flatten(const Json &v, const std::string &prefix, KeyVals &out) {
    switch (v.type()) {
    case Json::Type::Object:
        for (auto &[k, e] : v.as_object()) {
            if (k.empty()) throw UsageError("JSON option: empty member name");
            flatten(e, prefix.empty() ? k : prefix + "." + k, out);
        }
        break;
    case Json::Type::Array: {
        size_t i = 0;
        for (auto &e : v.as_array()) flatten(e, prefix + "." + std::to_string(i++), out);
        break;
    }
    case Json::Type::Null:
        // Only a block node's backing may be null (the reference's
        // BlockdevRefOrNull: no backing file); keyval spells that "backing=".
        if (prefix == "backing" || prefix.ends_with(".backing")) {
            out.items.emplace_back(prefix, "");
            break;
        }
        throw UsageError("JSON option: null is not a valid value for '" + prefix + "'");
    case Json::Type::Bool: out.items.emplace_back(prefix, v.as_bool() ? "on" : "off"); break;
    case Json::Type::String: out.items.emplace_back(prefix, v.as_string()); break;
    default:  // numbers keep their JSON spelling
        out.items.emplace_back(prefix, to_json(v));
        break;
    }
}

// Runs parse(value of key) and prefixes its error with the parameter name.
template <typename F>
auto typed_get(const KeyVals &kv, std::string_view key, F &&parse)
    -> std::optional<decltype(parse(std::string_view{}))> {
    const std::string *v = kv.find(key);
    if (!v) return std::nullopt;
    try {
        return parse(*v);
    } catch (const UsageError &e) {
        throw UsageError("parameter '" + std::string(key) + "': " + e.what());
    }
}

}  // namespace

bool KeyVals::wants_help() const {
    if (help) return true;
    // A KeyVals built by hand may carry the flag as an item.
    const std::string *h = find("help");
    return h && (*h == "on" || *h == "true");
}

std::optional<bool> KeyVals::get_bool(std::string_view key) const {
    return typed_get(*this, key, [](std::string_view v) { return parse_bool(v); });
}

std::optional<uint64_t> KeyVals::get_size(std::string_view key, char default_suffix) const {
    return typed_get(*this, key, [&](std::string_view v) { return parse_size(v, default_suffix); });
}

std::optional<int64_t> KeyVals::get_int(std::string_view key) const {
    return typed_get(*this, key, [](std::string_view v) { return parse_int(v); });
}

std::optional<uint64_t> KeyVals::get_uint(std::string_view key) const {
    return typed_get(*this, key, [](std::string_view v) { return parse_uint(v); });
}

KeyVals parse_keyval(std::string_view text, std::string_view implied_key, bool json_ok,
                     bool allow_bare_flags) {
    KeyVals out;
    if (json_ok && !text.empty() && text.front() == '{') {
        Json j = parse_json(text);
        flatten(j, {}, out);
        return out;
    }
    size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
        size_t stop = text.find_first_of("=,", pos);
        bool has_eq = stop != std::string_view::npos && text[stop] == '=';
        if (!has_eq) {
            if (first && !implied_key.empty()) {
                std::string value;
                pos = read_value(text, pos, value);
                if (is_help_word(value)) out.help = true;
                out.items.emplace_back(std::string(implied_key), std::move(value));
                first = false;
                continue;
            }
            std::string_view name = text.substr(pos, stop == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : stop - pos);
            pos = stop == std::string_view::npos ? text.size() : stop + 1;
            first = false;
            if (is_help_word(name)) {
                out.help = true;
                continue;
            }
            if (name.empty()) throw UsageError("empty parameter name in '" + std::string(text) + "'");
            if (!allow_bare_flags)
                throw UsageError("expected '=' after parameter '" + std::string(name) + "'");
            // Legacy short booleans: "flag" is flag=on, "noflag" is flag=off.
            if (name.starts_with("no") && name.size() > 2)
                out.items.emplace_back(std::string(name.substr(2)), "off");
            else
                out.items.emplace_back(std::string(name), "on");
            continue;
        }
        std::string key(text.substr(pos, stop - pos));
        if (key.empty()) throw UsageError("empty parameter name in '" + std::string(text) + "'");
        if (!allow_bare_flags) check_key(key);
        std::string value;
        pos = read_value(text, stop + 1, value);
        out.items.emplace_back(std::move(key), std::move(value));
        first = false;
    }
    return out;
}

std::string escape_keyval(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        out += c;
        if (c == ',') out += ',';
    }
    return out;
}

// ---------------------------------------------------------------- numbers

namespace {

// Power-of-1024 exponent for a size suffix, or -1 when c is not one.
int suffix_shift(char c) {
    switch (c) {
    case 'b': case 'B': return 0;
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    case 'p': case 'P': return 50;
    case 'e': case 'E': return 60;
    default: return -1;
    }
}

[[noreturn]] void bad_size(std::string_view text, std::string_view why) {
    throw UsageError("invalid size '" + std::string(text) + "': " + std::string(why) +
                     " (use a number with an optional suffix B, k, M, G, T, P or E)");
}

// Splits "0x1f" / "017" / "42" into base and digits, after an optional sign.
struct IntText {
    bool negative = false;
    int base = 10;
    std::string_view digits;
};

IntText split_int(std::string_view text, bool allow_sign) {
    IntText t;
    std::string_view s = text;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        if (!allow_sign && s.front() == '-')
            throw UsageError("'" + std::string(text) + "' must not be negative");
        t.negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        t.base = 16;
        s.remove_prefix(2);
    } else if (s.size() > 1 && s[0] == '0') {
        t.base = 8;
        s.remove_prefix(1);
    }
    t.digits = s;
    return t;
}

uint64_t digits_value(std::string_view text, const IntText &t) {
    if (t.digits.empty()) throw UsageError("'" + std::string(text) + "' is not a number");
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(t.digits.data(), t.digits.data() + t.digits.size(), v, t.base);
    if (ec == std::errc::result_out_of_range)
        throw UsageError("'" + std::string(text) + "' is out of range");
    if (ec != std::errc{} || p != t.digits.data() + t.digits.size())
        throw UsageError("'" + std::string(text) + "' is not a number");
    return v;
}

}  // namespace

uint64_t parse_size(std::string_view text, char default_suffix) {
    if (text.empty()) bad_size(text, "empty");
    if (text.find('-') != std::string_view::npos) bad_size(text, "negative");
    std::string_view s = text;
    uint64_t whole = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        // Hex takes no fraction and no suffix, as in the reference.
        std::string_view digits = s.substr(2);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), whole, 16);
        if (ec == std::errc::result_out_of_range) bad_size(text, "too large");
        if (ec != std::errc{} || p != digits.data() + digits.size())
            bad_size(text, "hex sizes take no fraction or suffix");
        return whole;
    }
    size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == 0) bad_size(text, "no digits");
    auto [p, ec] = std::from_chars(s.data(), s.data() + i, whole, 10);
    if (ec == std::errc::result_out_of_range) bad_size(text, "too large");
    double fraction = 0;
    if (i < s.size() && s[i] == '.') {
        size_t start = i++;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i == start + 1) bad_size(text, "no digits after '.'");
        std::string frac_text = "0" + std::string(s.substr(start, i - start));
        std::from_chars(frac_text.data(), frac_text.data() + frac_text.size(), fraction);
    }
    int shift;
    if (i < s.size()) {
        shift = suffix_shift(s[i]);
        if (shift < 0) bad_size(text, "unknown suffix");
        if (i + 1 != s.size()) bad_size(text, "trailing characters");
    } else {
        shift = default_suffix ? suffix_shift(default_suffix) : 0;
        if (shift < 0) shift = 0;
    }
    // A fraction of a byte makes no sense; a fraction of a unit does.
    if (shift == 0) {
        if (fraction != 0) bad_size(text, "a fraction needs a unit suffix");
        return whole;
    }
    if (whole > (std::numeric_limits<uint64_t>::max() >> shift)) bad_size(text, "too large");
    uint64_t value = whole << shift;
    auto extra = static_cast<uint64_t>(std::llround(fraction * std::ldexp(1.0, shift)));
    if (value > std::numeric_limits<uint64_t>::max() - extra) bad_size(text, "too large");
    return value + extra;
}

bool parse_bool(std::string_view text) {
    static constexpr std::array<std::string_view, 4> yes = {"on", "yes", "true", "y"};
    static constexpr std::array<std::string_view, 4> no = {"off", "no", "false", "n"};
    for (auto w : yes)
        if (text == w) return true;
    for (auto w : no)
        if (text == w) return false;
    throw UsageError("'" + std::string(text) + "' is not a valid boolean (use on or off)");
}

int64_t parse_int(std::string_view text) {
    IntText t = split_int(text, true);
    uint64_t mag = digits_value(text, t);
    constexpr auto max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (t.negative) {
        if (mag > max + 1) throw UsageError("'" + std::string(text) + "' is out of range");
        return mag == max + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(mag);
    }
    if (mag > max) throw UsageError("'" + std::string(text) + "' is out of range");
    return static_cast<int64_t>(mag);
}

uint64_t parse_uint(std::string_view text) {
    IntText t = split_int(text, false);
    return digits_value(text, t);
}

}  // namespace tessera
