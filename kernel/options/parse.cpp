// Finding options, splitting argv, and the -h text.
#include <algorithm>

#include "options/error.hpp"
#include "options/table.hpp"

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "unknown"
#endif

namespace tessera {

const OptionDef *find_option(std::string_view name) {
    if (name == "h") name = "help";  // the reference's short spelling
    auto table = option_table();
    auto it = std::ranges::find(table, name, &OptionDef::name);
    return it == table.end() ? nullptr : &*it;
}

std::vector<ParsedOption> parse_command_line(std::span<char *const> args) {
    std::vector<ParsedOption> out;
    for (size_t i = 1; i < args.size(); ++i) {
        if (!args[i]) break;  // a span that includes argv's terminating null
        std::string_view arg = args[i];
        if (!arg.starts_with('-')) {
            out.push_back({find_option("hda"), std::string(arg)});
            continue;
        }
        std::string_view name = arg.substr(1);
        if (name.starts_with('-')) name.remove_prefix(1);  // --opt is -opt
        const OptionDef *def = find_option(name);
        // Messages use the spelling the user typed, as the reference does.
        if (!def) throw UsageError(std::string(arg) + ": invalid option");
        if (!def->has_arg) {
            out.push_back({def, {}});
            continue;
        }
        if (i + 1 >= args.size() || !args[i + 1])
            throw UsageError(std::string(arg) + ": requires an argument");
        out.push_back({def, std::string(args[++i])});
    }
    return out;
}

namespace {

constexpr size_t kHelpColumn = 16;

// Appends "text" split at '\n', each line prefixed by indent.
void append_lines(std::string &out, std::string_view text, size_t indent) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        out.append(indent, ' ');
        out += text.substr(0, nl);
        out += '\n';
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

void append_option(std::string &out, const OptionDef &def) {
    std::string_view usage = def.usage;
    size_t last_nl = usage.rfind('\n');
    bool one_line = last_nl == std::string_view::npos;
    if (!one_line) {
        append_lines(out, usage.substr(0, last_nl), 0);
        usage.remove_prefix(last_nl + 1);
    }
    std::string_view help = def.help;
    out += usage;
    // A short single-line usage shares its line with the first help line;
    // after several forms the help describes them all, so it goes below.
    if (one_line && usage.size() < kHelpColumn && !help.empty()) {
        out.append(kHelpColumn - usage.size(), ' ');
        size_t nl = help.find('\n');
        out += help.substr(0, nl);
        help = nl == std::string_view::npos ? std::string_view{} : help.substr(nl + 1);
    }
    out += '\n';
    append_lines(out, help, kHelpColumn);
}

}  // namespace

std::string version_text(std::string_view program_name) {
    return std::string(program_name) + " version " TESSERA_VERSION "\n";
}

std::string help_text(std::string_view program_name) {
    std::string prog(program_name);
    std::string out = version_text(program_name);
    out += "usage: " + prog + " [options] [disk_image]\n\n";
    out += "'disk_image' is a raw hard disk image for IDE hard disk 0\n";
    bool first = true;
    OptionGroup group{};
    for (const OptionDef &def : option_table()) {
        if (first || def.group != group) {
            group = def.group;
            first = false;
            out += '\n';
            out += group_heading(group);
            out += '\n';
        }
        if (!def.usage.empty()) append_option(out, def);
    }
    out += "\nWhen using -nographic, press 'ctrl-a h' to get some help.\n";
    return out;
}

}  // namespace tessera
