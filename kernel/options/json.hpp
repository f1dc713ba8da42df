// A small JSON value type with a parser and the reference's serialisation.
// Used by the JSON forms of -device/-blockdev/-object and by the monitor (QMP).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "options/error.hpp"

namespace tessera {

class Json {
public:
    using Array = std::vector<Json>;
    // Members keep their order (QMP replies read better that way); keys unique.
    using Object = std::vector<std::pair<std::string, Json>>;
    // Numbers keep their kind like the reference's QNum: a signed integer, an
    // unsigned one above INT64_MAX, or a double.
    enum class Type { Null, Bool, Int, UInt, Double, String, Array, Object };

    Json() = default;                       // null
    Json(std::nullptr_t) {}
    Json(bool b) : v_(b) {}
    Json(int i) : v_(int64_t{i}) {}
    Json(int64_t i) : v_(i) {}
    Json(uint64_t u);                       // stored as Int when it fits
    Json(double d) : v_(d) {}
    Json(const char *s) : v_(std::string(s)) {}
    Json(std::string s) : v_(std::move(s)) {}
    Json(std::string_view s) : v_(std::string(s)) {}
    Json(Array a) : v_(std::move(a)) {}
    Json(Object o) : v_(std::move(o)) {}

    static Json array() { return Json(Array{}); }
    static Json object() { return Json(Object{}); }

    Type type() const { return static_cast<Type>(v_.index()); }
    bool is_null() const { return type() == Type::Null; }
    bool is_bool() const { return type() == Type::Bool; }
    bool is_number() const;
    bool is_integer() const { return type() == Type::Int || type() == Type::UInt; }
    bool is_string() const { return type() == Type::String; }
    bool is_array() const { return type() == Type::Array; }
    bool is_object() const { return type() == Type::Object; }

    // Typed access; each throws UsageError naming the expected type on mismatch.
    bool as_bool() const;
    int64_t as_int() const;            // Int, or UInt that fits
    uint64_t as_uint() const;          // non-negative integer
    double as_double() const;          // any number
    const std::string &as_string() const;
    const Array &as_array() const;
    Array &as_array();
    const Object &as_object() const;
    Object &as_object();

    // Object helpers: find returns nullptr when absent (or not an object);
    // set replaces an existing member or appends.
    const Json *find(std::string_view key) const;
    Json *find(std::string_view key);
    void set(std::string key, Json value);
    // Array helper.
    void push_back(Json value) { as_array().push_back(std::move(value)); }

    friend bool operator==(const Json &, const Json &) = default;

private:
    std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string, Array, Object> v_;
};

std::string_view json_type_name(Json::Type t);

// Parses exactly one JSON value (surrounding whitespace allowed). Accepts the
// reference's extension of single-quoted strings. Errors are UsageError
// "JSON parse error at line L, column C: <what>".
Json parse_json(std::string_view text);

// Serialises like the reference's QMP: compact is {"a": 1, "b": [1, 2]};
// pretty puts each member on its own line, indented by four spaces. Strings
// escape control and non-ASCII characters as \uXXXX.
std::string to_json(const Json &value);
std::string to_json_pretty(const Json &value);

// Splits a byte stream (a QMP connection) into complete top-level JSON texts
// by tracking nesting and strings, as the reference's streamer does. Feed
// bytes; each complete value is returned as text for parse_json.
class JsonSplitter {
public:
    std::vector<std::string> feed(std::string_view bytes);
    // True while a value has started but is not complete.
    bool pending() const { return !buf_.empty(); }
    void reset() { *this = JsonSplitter{}; }

private:
    std::string buf_;
    int depth_ = 0;
    char quote_ = 0;     // '"' or '\'' inside a string
    bool escape_ = false;
};

}  // namespace tessera
