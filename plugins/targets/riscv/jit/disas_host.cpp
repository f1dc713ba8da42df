// Host-code disassembly for -d out_asm (capstone, when available).
#include "jit.hpp"

#include <cstdio>

#ifdef RV_JIT_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

namespace rv::jit {

std::string disas_host(const uint8_t *code, size_t size) {
    std::string out;
    char line[256];
#ifdef RV_JIT_HAVE_CAPSTONE
    csh cs;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK) {
        cs_insn *insn = nullptr;
        size_t n = cs_disasm(cs, code, size, reinterpret_cast<uintptr_t>(code), 0, &insn);
        for (size_t i = 0; i < n; ++i) {
            std::snprintf(line, sizeof line, "  0x%012llx:  %-8s %s\n",
                          static_cast<unsigned long long>(insn[i].address), insn[i].mnemonic, insn[i].op_str);
            out += line;
        }
        if (n) cs_free(insn, n);
        cs_close(&cs);
        return out;
    }
#endif
    // No disassembler: a hex dump.
    for (size_t i = 0; i < size; i += 16) {
        int k = std::snprintf(line, sizeof line, "  0x%012llx: ", static_cast<unsigned long long>(
                                                                     reinterpret_cast<uintptr_t>(code + i)));
        for (size_t j = i; j < size && j < i + 16; ++j)
            k += std::snprintf(line + k, sizeof line - k, " %02x", code[j]);
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace rv::jit
