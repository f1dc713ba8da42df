// JSON parsing (RFC 8259 plus single-quoted strings) and the reference's
// serialisation style.
#include "options/json.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <limits>

namespace tessera {

Json::Json(uint64_t u) {
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        v_ = static_cast<int64_t>(u);
    else
        v_ = u;
}

std::string_view json_type_name(Json::Type t) {
    static constexpr std::array<std::string_view, 8> names = {
        "null", "boolean", "integer", "integer", "number", "string", "array", "object"};
    return names[static_cast<size_t>(t)];
}

namespace {

[[noreturn]] void type_error(Json::Type want, Json::Type got) {
    throw UsageError("JSON value is " + std::string(json_type_name(got)) + ", expected " +
                     std::string(json_type_name(want)));
}

}  // namespace

bool Json::is_number() const {
    return type() == Type::Int || type() == Type::UInt || type() == Type::Double;
}

bool Json::as_bool() const {
    if (auto *b = std::get_if<bool>(&v_)) return *b;
    type_error(Type::Bool, type());
}

int64_t Json::as_int() const {
    if (auto *i = std::get_if<int64_t>(&v_)) return *i;
    if (std::holds_alternative<uint64_t>(v_)) throw UsageError("JSON integer out of range");
    type_error(Type::Int, type());
}

uint64_t Json::as_uint() const {
    if (auto *u = std::get_if<uint64_t>(&v_)) return *u;
    if (auto *i = std::get_if<int64_t>(&v_)) {
        if (*i < 0) throw UsageError("JSON integer must not be negative");
        return static_cast<uint64_t>(*i);
    }
    type_error(Type::Int, type());
}

double Json::as_double() const {
    if (auto *d = std::get_if<double>(&v_)) return *d;
    if (auto *i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
    if (auto *u = std::get_if<uint64_t>(&v_)) return static_cast<double>(*u);
    type_error(Type::Double, type());
}

const std::string &Json::as_string() const {
    if (auto *s = std::get_if<std::string>(&v_)) return *s;
    type_error(Type::String, type());
}

const Json::Array &Json::as_array() const {
    if (auto *a = std::get_if<Array>(&v_)) return *a;
    type_error(Type::Array, type());
}

Json::Array &Json::as_array() {
    if (auto *a = std::get_if<Array>(&v_)) return *a;
    type_error(Type::Array, type());
}

const Json::Object &Json::as_object() const {
    if (auto *o = std::get_if<Object>(&v_)) return *o;
    type_error(Type::Object, type());
}

Json::Object &Json::as_object() {
    if (auto *o = std::get_if<Object>(&v_)) return *o;
    type_error(Type::Object, type());
}

const Json *Json::find(std::string_view key) const {
    auto *o = std::get_if<Object>(&v_);
    if (!o) return nullptr;
    for (auto &[k, v] : *o)
        if (k == key) return &v;
    return nullptr;
}

Json *Json::find(std::string_view key) {
    return const_cast<Json *>(std::as_const(*this).find(key));
}

void Json::set(std::string key, Json value) {
    auto &o = as_object();
    for (auto &[k, v] : o)
        if (k == key) {
            v = std::move(value);
            return;
        }
    o.emplace_back(std::move(key), std::move(value));
}

// ---------------------------------------------------------------- parsing

namespace {

// Deep nesting is an attack on the stack, not a real document.
constexpr int kMaxDepth = 1024;

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Parser {
public:
    explicit Parser(std::string_view text) : s_(text) {}

    Json document() {
        skip_ws();
        Json v = value(0);
        skip_ws();
        if (pos_ != s_.size()) fail("unexpected text after the value");
        return v;
    }

private:
    std::string_view s_;
    size_t pos_ = 0;

    [[noreturn]] void fail(std::string_view what) const { fail_at(pos_, what); }
    [[noreturn]] void fail_at(size_t at, std::string_view what) const {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < s_.size(); ++i) {
            if (s_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw UsageError("JSON parse error at line " + std::to_string(line) + ", column " +
                         std::to_string(col) + ": " + std::string(what));
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }

    void skip_ws() {
        while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                             s_[pos_] == '\r'))
            ++pos_;
    }

    void expect(char c) {
        if (peek() != c) {
            if (at_end()) fail(std::string("expected '") + c + "' but the text ended");
            fail(std::string("expected '") + c + "'");
        }
        ++pos_;
    }

    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    Json value(int depth) {
        if (depth > kMaxDepth) fail("nesting too deep");
        switch (peek()) {
        case '{': return object(depth);
        case '[': return array(depth);
        case '"':
        case '\'': return Json(string());
        case '\0':
            if (at_end()) fail("expected a value but the text ended");
            break;
        default:
            break;
        }
        if (literal("true")) return Json(true);
        if (literal("false")) return Json(false);
        if (literal("null")) return Json(nullptr);
        char c = peek();
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        fail(std::string("unexpected character '") + c + "'");
    }

    Json object(int depth) {
        expect('{');
        Json out = Json::object();
        skip_ws();
        if (peek() == '}') {
            ++pos_;
            return out;
        }
        for (;;) {
            skip_ws();
            size_t key_at = pos_;
            if (peek() != '"' && peek() != '\'') fail("expected a string as object key");
            std::string key = string();
            if (out.find(key)) fail_at(key_at, "duplicate key '" + key + "'");
            skip_ws();
            expect(':');
            skip_ws();
            Json v = value(depth + 1);
            out.as_object().emplace_back(std::move(key), std::move(v));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return out;
            }
            fail(at_end() ? "expected ',' or '}' but the text ended" : "expected ',' or '}'");
        }
    }

    Json array(int depth) {
        expect('[');
        Json out = Json::array();
        skip_ws();
        if (peek() == ']') {
            ++pos_;
            return out;
        }
        for (;;) {
            skip_ws();
            out.push_back(value(depth + 1));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return out;
            }
            fail(at_end() ? "expected ',' or ']' but the text ended" : "expected ',' or ']'");
        }
    }

    uint32_t hex4() {
        if (s_.size() - pos_ < 4) fail("truncated \\u escape");
        uint32_t v = 0;
        auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, v, 16);
        if (ec != std::errc{} || p != s_.data() + pos_ + 4) fail("invalid \\u escape");
        pos_ += 4;
        return v;
    }

    std::string string() {
        char quote = s_[pos_++];
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string");
            char c = s_[pos_];
            if (c == quote) {
                ++pos_;
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out += c;
                ++pos_;
                continue;
            }
            ++pos_;
            if (at_end()) fail("unterminated string");
            char e = s_[pos_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\'': out += '\''; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                uint32_t cp = hex4();
                if (cp >= 0xD800 && cp < 0xDC00) {
                    // A high surrogate must be followed by a low one.
                    if (!literal("\\u")) fail("unpaired surrogate in \\u escape");
                    uint32_t lo = hex4();
                    if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate in \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp < 0xE000) {
                    fail("unpaired surrogate in \\u escape");
                } else if (cp == 0) {
                    fail("\\u0000 is not allowed in strings");
                }
                append_utf8(out, cp);
                break;
            }
            default:
                --pos_;
                fail(std::string("invalid escape '\\") + e + "'");
            }
        }
    }

    Json number() {
        size_t start = pos_;
        bool neg = peek() == '-';
        if (neg) ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++pos_;
        } else {
            fail("invalid number");
        }
        bool is_float = false;
        if (peek() == '.') {
            is_float = true;
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected digits after '.'");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            is_float = true;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected digits in exponent");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        const char *b = s_.data() + start, *e = s_.data() + pos_;
        if (!is_float) {
            // Integers keep full 64-bit precision; beyond that they become
            // doubles, as the reference does.
            if (neg) {
                int64_t i = 0;
                if (std::from_chars(b, e, i).ec == std::errc{}) return Json(i);
            } else {
                uint64_t u = 0;
                if (std::from_chars(b, e, u).ec == std::errc{}) return Json(u);
            }
        }
        double d = 0;
        auto [p, ec] = std::from_chars(b, e, d);
        if (ec == std::errc::result_out_of_range || !std::isfinite(d))
            fail_at(start, "number out of range");
        if (ec != std::errc{} || p != e) fail_at(start, "invalid number");
        return Json(d);
    }
};

// ---------------------------------------------------------------- writing

class Writer {
public:
    explicit Writer(bool pretty) : pretty_(pretty) {}
    std::string out;

    void value(const Json &v, int depth) {
        switch (v.type()) {
        case Json::Type::Null: out += "null"; break;
        case Json::Type::Bool: out += v.as_bool() ? "true" : "false"; break;
        case Json::Type::Int: out += std::to_string(v.as_int()); break;
        case Json::Type::UInt: out += std::to_string(v.as_uint()); break;
        case Json::Type::Double: number(v.as_double()); break;
        case Json::Type::String: string(v.as_string()); break;
        case Json::Type::Array: {
            out += '[';
            bool first = true;
            for (auto &e : v.as_array()) {
                separator(first, depth + 1);
                value(e, depth + 1);
            }
            close(depth);
            out += ']';
            break;
        }
        case Json::Type::Object: {
            out += '{';
            bool first = true;
            for (auto &[k, e] : v.as_object()) {
                separator(first, depth + 1);
                string(k);
                out += ": ";
                value(e, depth + 1);
            }
            close(depth);
            out += '}';
            break;
        }
        }
    }

private:
    bool pretty_;

    void newline(int depth) {
        out += '\n';
        out.append(static_cast<size_t>(depth) * 4, ' ');
    }
    // The reference's layout: ", " between members when compact; in pretty
    // mode every member starts a new line, and so does the closing bracket.
    void separator(bool &first, int depth) {
        if (!first) out += pretty_ ? "," : ", ";
        if (pretty_) newline(depth);
        first = false;
    }
    void close(int depth) {
        if (pretty_) newline(depth);
    }

    void number(double d) {
        if (!std::isfinite(d)) {  // JSON has no spelling for these
            out += "null";
            return;
        }
        std::array<char, 32> buf{};
        auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
        std::string_view text(buf.data(), static_cast<size_t>(p - buf.data()));
        out += text;
        // Keep a whole double a double when read back ("10.0", not "10").
        if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
    }

    void hex_escape(uint32_t u) {
        static constexpr char digits[] = "0123456789ABCDEF";
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out += digits[(u >> shift) & 0xF];
    }

    // Decodes one UTF-8 sequence at s[i]; returns the code point or -1 for
    // an invalid sequence (then consumes one byte).
    static int32_t decode_utf8(std::string_view s, size_t &i) {
        auto b0 = static_cast<unsigned char>(s[i]);
        int len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > s.size()) {
            ++i;
            return -1;
        }
        uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
        for (int k = 1; k < len; ++k) {
            auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) {
                ++i;
                return -1;
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        static constexpr uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
        i += len;
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return -1;
        return static_cast<int32_t>(cp);
    }

    void string(std::string_view s) {
        out += '"';
        for (size_t i = 0; i < s.size();) {
            int32_t cp = decode_utf8(s, i);
            switch (cp) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            default: break;
            }
            if (cp < 0) cp = 0xFFFD;
            if (cp >= 0x10000) {
                uint32_t v = static_cast<uint32_t>(cp) - 0x10000;
                hex_escape(0xD800 + (v >> 10));
                hex_escape(0xDC00 + (v & 0x3FF));
            } else if (cp < 0x20 || cp >= 0x7F) {
                hex_escape(static_cast<uint32_t>(cp));
            } else {
                out += static_cast<char>(cp);
            }
        }
        out += '"';
    }
};

}  // namespace

Json parse_json(std::string_view text) { return Parser(text).document(); }

std::string to_json(const Json &value) {
    Writer w(false);
    w.value(value, 0);
    return std::move(w.out);
}

std::string to_json_pretty(const Json &value) {
    Writer w(true);
    w.value(value, 0);
    return std::move(w.out);
}

// ---------------------------------------------------------------- stream

std::vector<std::string> JsonSplitter::feed(std::string_view bytes) {
    std::vector<std::string> done;
    auto flush = [&] {
        done.push_back(std::move(buf_));
        buf_.clear();
        depth_ = 0;
        quote_ = 0;
        escape_ = false;
    };
    for (char c : bytes) {
        bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (buf_.empty() && ws) continue;
        if (quote_) {
            buf_ += c;
            if (escape_)
                escape_ = false;
            else if (c == '\\')
                escape_ = true;
            else if (c == quote_)
                quote_ = 0;
            continue;
        }
        if (depth_ == 0 && !buf_.empty() && (ws || c == '{' || c == '[')) {
            flush();  // a bare top-level scalar (or junk) ends here
            if (ws) continue;
        }
        buf_ += c;
        switch (c) {
        case '"':
        case '\'': quote_ = c; break;
        case '{':
        case '[': ++depth_; break;
        case '}':
        case ']':
            // Unbalanced closers are handed on so the parser reports them.
            if (--depth_ <= 0) flush();
            break;
        default: break;
        }
    }
    return done;
}

}  // namespace tessera
