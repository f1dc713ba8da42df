// -readconfig parsing.
#include "options/readconfig.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tessera {
namespace {

constexpr std::string_view kBlank = " \t\r";

std::string_view trim(std::string_view s) {
    size_t b = s.find_first_not_of(kBlank);
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(kBlank);
    return s.substr(b, e - b + 1);
}

bool valid_name(std::string_view s) {
    return !s.empty() && std::ranges::all_of(s, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

class LineParser {
public:
    LineParser(std::string_view file, std::span<const std::string_view> groups)
        : file_(file), groups_(groups) {}

    std::vector<ConfigSection> sections;

    void line(std::string_view text) {
        ++line_no_;
        text = trim(text);
        if (text.empty() || text.front() == '#') return;
        if (text.front() == '[')
            header(text);
        else
            assignment(text);
    }

private:
    std::string_view file_;
    std::span<const std::string_view> groups_;
    size_t line_no_ = 0;

    [[noreturn]] void fail(const std::string &what) const {
        throw UsageError(std::string(file_) + ":" + std::to_string(line_no_) + ": " + what);
    }

    // Reads a "quoted" string at the start of s; returns the rest after it.
    std::string_view quoted(std::string_view s, std::string &out) const {
        if (s.empty() || s.front() != '"') fail("expected a double-quoted value");
        size_t close = s.find('"', 1);
        if (close == std::string_view::npos) fail("missing closing '\"'");
        out = s.substr(1, close - 1);
        return s.substr(close + 1);
    }

    // [group] or [group "id"]
    void header(std::string_view text) {
        if (text.back() != ']') fail("section header must end with ']'");
        std::string_view inner = trim(text.substr(1, text.size() - 2));
        size_t sp = inner.find_first_of(kBlank);
        std::string_view group = inner.substr(0, sp);
        if (!valid_name(group)) fail("invalid section name '" + std::string(group) + "'");
        if (!groups_.empty() && std::ranges::find(groups_, group) == groups_.end())
            fail("there is no option group '" + std::string(group) + "'");
        ConfigSection sec;
        sec.group = group;
        if (sp != std::string_view::npos) {
            std::string_view rest = quoted(trim(inner.substr(sp)), sec.id);
            if (!trim(rest).empty()) fail("unexpected text after the section id");
            if (sec.id.empty()) fail("empty section id");
        }
        sections.push_back(std::move(sec));
    }

    // key = "value"
    void assignment(std::string_view text) {
        size_t eq = text.find('=');
        if (eq == std::string_view::npos) fail("expected 'key = \"value\"'");
        std::string_view key = trim(text.substr(0, eq));
        if (!valid_name(key)) fail("invalid key '" + std::string(key) + "'");
        std::string value;
        std::string_view rest = quoted(trim(text.substr(eq + 1)), value);
        rest = trim(rest);
        if (!rest.empty() && rest.front() != '#') fail("unexpected text after the value");
        if (sections.empty()) fail("'" + std::string(key) + "' is outside of any [section]");
        sections.back().values.items.emplace_back(std::string(key), std::move(value));
    }
};

}  // namespace

std::vector<ConfigSection> parse_config(std::string_view text, std::string_view file_name,
                                        std::span<const std::string_view> known_groups) {
    LineParser p(file_name, known_groups);
    while (!text.empty()) {
        size_t nl = text.find('\n');
        p.line(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return std::move(p.sections);
}

std::vector<ConfigSection> read_config_file(const std::string &path,
                                            std::span<const std::string_view> known_groups) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot read config file '" + path + "': " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw UsageError("cannot read config file '" + path + "'");
    return parse_config(text.str(), path, known_groups);
}

}  // namespace tessera
