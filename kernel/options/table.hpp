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

std::span<const OptionDef> option_table();
const OptionDef *find_option(std::string_view name);

struct ParsedOption {
    const OptionDef *def;
    std::string arg;         // empty when !def->has_arg
};

// Parses argv[1..]: "-opt" and "--opt", "-opt=value" is NOT accepted (the
// reference does not). A non-option argument is the legacy hda image.
// Errors are UsageError with the reference's wording:
//   "-foo: invalid option", "-m: requires an argument".
std::vector<ParsedOption> parse_command_line(std::span<char *const> args);

// The -h text, grouped under the reference's headings.
std::string help_text(std::string_view program_name);

}  // namespace tessera
