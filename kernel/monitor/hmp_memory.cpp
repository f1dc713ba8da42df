// x, xp and the expression parser they share with other commands.
#include "monitor/hmp_internal.hpp"

#include "host/host_table.hpp"
#include "memory/address_space.hpp"
#include "vcpu/vcpu.hpp"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

namespace tessera::hmp {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

namespace {

void skip_space(std::string_view &s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
}

uint64_t parse_sum(std::string_view &s);

uint64_t parse_unary(std::string_view &s) {
    skip_space(s);
    if (s.empty()) throw ArgError("unexpected end of expression");
    char c = s.front();
    if (c == '+') return s.remove_prefix(1), parse_unary(s);
    if (c == '-') return s.remove_prefix(1), -parse_unary(s);
    if (c == '~') return s.remove_prefix(1), ~parse_unary(s);
    if (c == '(') {
        s.remove_prefix(1);
        uint64_t v = parse_sum(s);
        skip_space(s);
        if (s.empty() || s.front() != ')') throw ArgError("')' expected");
        s.remove_prefix(1);
        return v;
    }
    // The reference's riscv monitor knows no register names either.
    if (c == '$') throw ArgError("unknown register");
    if (!std::isdigit(static_cast<unsigned char>(c)))
        throw ArgError(std::string("invalid char '") + c + "' in expression");
    std::string num(s.substr(0, std::min<size_t>(s.size(), 64)));
    char *end = nullptr;
    uint64_t v = std::strtoull(num.c_str(), &end, 0);  // 0x.., 0.. octal, decimal
    s.remove_prefix(static_cast<size_t>(end - num.c_str()));
    return v;
}

uint64_t parse_sum(std::string_view &s) {
    uint64_t v = parse_unary(s);
    for (;;) {
        skip_space(s);
        if (s.empty() || (s.front() != '+' && s.front() != '-')) return v;
        char op = s.front();
        s.remove_prefix(1);
        uint64_t r = parse_unary(s);
        v = op == '+' ? v + r : v - r;
    }
}

// Reads guest memory physically (system address space) or virtually (the
// current CPU's MMU, page by page). False if any byte is unreachable.
bool read_mem(const HmpState &st, bool physical, uint64_t addr, std::span<uint8_t> buf) {
    AddressSpace *as = host_system_as();
    if (physical) return as->read(addr, buf) == TS_MEMTX_OK;
    const ts_cpu_class *cls = vcpu_class(st.cpu);
    void *cpu = vcpu_instance(st.cpu);
    constexpr uint64_t kPage = 4096;
    size_t done = 0;
    while (done < buf.size()) {
        uint64_t va = addr + done, pa = 0;
        size_t n = std::min<uint64_t>(buf.size() - done, kPage - (va & (kPage - 1)));
        if (!cls->translate || cls->translate(cpu, va, TS_ACCESS_READ, &pa) != TS_OK) return false;
        if (as->read(pa, buf.subspan(done, n)) != TS_MEMTX_OK) return false;
        done += n;
    }
    return true;
}

std::string hex_addr(uint64_t a) {
    char b[24];
    std::snprintf(b, sizeof b, "%016" PRIx64, a);
    return b;
}

std::string disassemble(const HmpState &st, bool physical, uint64_t addr, uint64_t count) {
    const ts_cpu_class *cls = vcpu_class(st.cpu);
    std::string out;
    for (uint64_t i = 0; i < count; i++) {
        uint8_t bytes[4] = {};
        size_t avail = 4;
        // An instruction may end just before unmapped memory (compressed).
        if (!read_mem(st, physical, addr, bytes)) {
            avail = 2;
            if (!read_mem(st, physical, addr, std::span(bytes, 2)))
                return out + hex_addr(addr) + ": Cannot access memory\n";
        }
        char text[128] = "";
        size_t n = cls->disas ? cls->disas(vcpu_instance(st.cpu), addr, bytes, avail, text, sizeof text) : 0;
        if (n == 0) {
            n = std::min<size_t>(avail, 2);
            std::snprintf(text, sizeof text, "(bad)");
        }
        std::string raw;
        for (size_t b = n; b-- > 0;) {
            char h[3];
            std::snprintf(h, sizeof h, "%02x", bytes[b]);
            raw += h;
        }
        raw.resize(std::max<size_t>(raw.size() + 2, 18), ' ');
        out += "0x" + hex_addr(addr) + ":  " + raw + text + "\n";
        addr += n;
    }
    return out;
}

std::string show_char(uint64_t v) {
    switch (v) {
    case '\'': return "'\\''";
    case '\\': return "'\\\\'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    default: break;
    }
    if (v >= 32 && v <= 126) return std::string("'") + static_cast<char>(v) + "'";
    char b[16];
    std::snprintf(b, sizeof b, "'\\x%02x'", static_cast<unsigned>(v));
    return b;
}

struct Format {
    uint64_t count = 1;
    char fmt;
    int size;  // -1: none given (only with 'i')
};

Format parse_format(HmpState &st, std::string_view &s) {
    s = trim(s);
    if (s.empty() || s.front() != '/') return {1, st.fmt, st.fmt == 'i' ? -1 : static_cast<int>(st.size)};
    s.remove_prefix(1);
    Format f{1, 0, -1};
    if (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
        f.count = 0;
        while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
            f.count = f.count * 10 + static_cast<uint64_t>(s.front() - '0');
            s.remove_prefix(1);
        }
    }
    static constexpr std::string_view kFormats = "oduxic";
    static constexpr struct { char c; int size; } kSizes[] = {{'b', 1}, {'h', 2}, {'w', 4}, {'g', 8}, {'L', 8}};
    for (; !s.empty(); s.remove_prefix(1)) {
        char c = s.front();
        if (kFormats.find(c) != std::string_view::npos) {
            f.fmt = c;
            continue;
        }
        auto sz = std::find_if(std::begin(kSizes), std::end(kSizes), [c](auto &k) { return k.c == c; });
        if (sz == std::end(kSizes)) break;
        f.size = sz->size;
    }
    if (!s.empty() && !std::isspace(static_cast<unsigned char>(s.front())))
        throw ArgError(std::string("invalid char in format: '") + s.front() + "'");
    if (!f.fmt) f.fmt = st.fmt;
    if (f.fmt != 'i') {
        if (f.size < 0) f.size = static_cast<int>(st.size);
        st.size = static_cast<unsigned>(f.size);
    }
    st.fmt = f.fmt;
    return f;
}

}  // namespace

uint64_t parse_expr(std::string_view &s) { return parse_sum(s); }

std::string memory_dump(HmpState &st, std::string_view args, bool physical, std::string_view cmd) {
    Format f = parse_format(st, args);
    uint64_t addr = parse_expr(args);
    if (!trim(args).empty()) throw ArgError(std::string(cmd) + ": extraneous characters at the end of line");
    if (st.cpu >= vcpu_count() && (!physical || f.fmt == 'i')) return "No CPU available\n";
    if (f.fmt == 'i') return disassemble(st, physical, addr, f.count);

    unsigned wsize = static_cast<unsigned>(f.size);
    uint64_t len = wsize * f.count;  // before 'c' forces bytes, as the reference
    uint64_t line_size = wsize == 1 ? 8 : 16;
    int digits = 0;
    switch (f.fmt) {
    case 'o': digits = static_cast<int>((wsize * 8 + 2) / 3); break;
    case 'u':
    case 'd': digits = static_cast<int>((wsize * 8 * 10 + 32) / 33); break;
    case 'c': wsize = 1; break;
    default: digits = static_cast<int>(wsize * 2); break;
    }
    std::string out;
    while (len > 0) {
        out += hex_addr(addr) + ":";
        uint64_t l = std::min(len, line_size);
        std::vector<uint8_t> buf(l);
        if (!read_mem(st, physical, addr, buf)) return out + " Cannot access memory\n";
        for (uint64_t i = 0; i + wsize <= l; i += wsize) {
            uint64_t v = 0;
            for (unsigned b = 0; b < wsize; b++) v |= uint64_t{buf[i + b]} << (8 * b);  // guest is little-endian
            char t[40];
            switch (f.fmt) {
            case 'o': std::snprintf(t, sizeof t, " %#*" PRIo64, digits, v); break;
            case 'u': std::snprintf(t, sizeof t, " %*" PRIu64, digits, v); break;
            case 'd': std::snprintf(t, sizeof t, " %*" PRId64, digits, static_cast<int64_t>(v)); break;
            case 'c': std::snprintf(t, sizeof t, " %s", show_char(v).c_str()); break;
            default: std::snprintf(t, sizeof t, " 0x%0*" PRIx64, digits, v); break;
            }
            out += t;
        }
        out += "\n";
        addr += l;
        len -= l;
    }
    return out;
}

}  // namespace tessera::hmp
