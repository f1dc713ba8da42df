// The command-line option table (every option of the option reference) and
// the argv parser. Which options the kernel actually implements is decided by
// the kernel's option handlers, not here.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class OptionGroup {
    Standard, Block, Usb, Display, Network, Chardev, Tpm, Boot, Debug, Object,
};

struct OptionDef {
    std::string_view name;   // without leading dash
    bool has_arg;
    OptionGroup group;
    std::string_view usage;  // "-machine [type=]name[,prop[=value][,...]]"
    std::string_view help;   // one or more lines of help text, our own words
};

// Every option of the reference, in the reference's order. Entries with an
// empty usage are documented with the entry before them (-fdb with -fda).
std::span<const OptionDef> option_table();
// By name without dashes; "h" finds "help". nullptr when unknown.
const OptionDef *find_option(std::string_view name);
// The reference's heading for a group, e.g. "Block device options:".
std::string_view group_heading(OptionGroup group);

struct ParsedOption {
    const OptionDef *def;
    std::string arg;         // empty when !def->has_arg
};

// Parses argv[1..] (args is the whole argv; args[0], the program name, is
// skipped): "-opt" and "--opt", "-opt=value" is NOT accepted (the reference
// does not). A non-option argument is the legacy hda image, returned as
// option "hda". Options come back in command-line order.
// Errors are UsageError with the reference's wording:
//   "-foo: invalid option", "-m: requires an argument".
std::vector<ParsedOption> parse_command_line(std::span<char *const> args);

// The -version text: "<program> version X.Y.Z\n" (also the first line of -h).
std::string version_text(std::string_view program_name);

// The -h text, grouped under the reference's headings: usage from column 0,
// help at column 16 (on the usage line when the usage is a single line
// shorter than 16 characters).
std::string help_text(std::string_view program_name);

}  // namespace tessera
