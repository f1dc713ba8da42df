// device-riscv-intc.so: PLIC, ACLINT MSWI/MTIMER and SiFive CLINT types.
#include "aclint/aclint.hpp"
#include "plic/plic.hpp"

#include <cstddef>

namespace intc {
namespace {

// ---- PLIC ------------------------------------------------------------------------

constexpr ts_prop_decl kPlicProps[] = {
    ts::prop_uint("num-sources", "96", 2, kPlicMaxSources - 1, "interrupt sources, including the unused source 0"),
    ts::prop_uint("num-priorities", "7", 1, 0xffffffff, "highest priority level"),
    ts::prop_str("hart-config", "MS", "modes per hart, comma-separated (\"MS,MS\"); one entry repeats"),
    ts::prop_uint("num-harts", "1", 1, kPlicMaxContexts, "harts when hart-config has one entry"),
    ts::prop_uint("hartid-base", "0", 0, 0xffffffff, "hart id of the first hart"),
    ts::prop_uint("priority-base", "4", 4, 0xffffffff, "offset of source 1's priority register"),
    ts::prop_uint("pending-base", "4096", 0, 0xffffffff, "offset of the pending bits"),
    ts::prop_uint("enable-base", "8192", 0, 0xffffffff, "offset of context 0's enable bits"),
    ts::prop_uint("enable-stride", "128", 4, 0xffffffff, "bytes between contexts' enable bits"),
    ts::prop_uint("context-base", "2097152", 0, 0xffffffff, "offset of context 0's threshold"),
    ts::prop_uint("context-stride", "4096", 8, 0xffffffff, "bytes between contexts' registers"),
    ts::prop_uint("aperture-size", "0", 0, 0xffffffff, "region size (0: up to the last context)"),
};

constexpr std::array kPlicFields = {
    TS_FIELD_N(PlicState, priority, TS_STATE_U32, kPlicMaxSources),
    TS_FIELD_N(PlicState, pending, TS_STATE_U32, kPlicWords),
    TS_FIELD_N(PlicState, claimed, TS_STATE_U32, kPlicWords),
    TS_FIELD_N(PlicState, level, TS_STATE_U32, kPlicWords),
    TS_FIELD_N(PlicState, enable, TS_STATE_U32, kPlicMaxContexts * kPlicWords),
    TS_FIELD_N(PlicState, threshold, TS_STATE_U32, kPlicMaxContexts),
};
constexpr ts_state_decl kPlicState = ts::state_decl("riscv.sifive.plic", 1, kPlicFields);
const ts_device_class kPlicClass = ts::device_class<Plic>(kPlicProps, &kPlicState, nullptr, false);

// ---- ACLINT ------------------------------------------------------------------------

#define HART_PROPS                                                                         \
    ts::prop_uint("num-harts", "1", 1, kAclintMaxHarts, "number of harts"),               \
        ts::prop_uint("hartid-base", "0", 0, 0xffffffff, "hart id of the first hart")

constexpr ts_prop_decl kSwiProps[] = {
    HART_PROPS,
    ts::prop_uint("sswi", "0", 0, 1, "supervisor software interrupts (not supported yet: 0)"),
};
constexpr std::array kSwiFields = {TS_FIELD_N(MswiState, msip, TS_STATE_U32, kAclintMaxHarts)};
constexpr ts_state_decl kSwiState = ts::state_decl("riscv.aclint.swi", 1, kSwiFields);
const ts_device_class kSwiClass = ts::device_class<AclintSwi>(kSwiProps, &kSwiState, nullptr, false);

constexpr ts_prop_decl kMtimerProps[] = {
    HART_PROPS,
    ts::prop_uint("timebase-freq", "10000000", 1, 0xffffffff, "mtime ticks per second"),
    ts::prop_uint("timebase-frequency", nullptr, 1, 0xffffffff, "alias of timebase-freq"),
    ts::prop_uint("aperture-size", "32768", 8, 0xffffffff, "region size"),
    ts::prop_uint("timecmp-base", "0", 0, 0xffffffff, "offset of hart 0's mtimecmp"),
    ts::prop_uint("time-base", "32760", 0, 0xffffffff, "offset of mtime"),
};
constexpr std::array kMtimerFields = {
    TS_FIELD_N(MtimerState, mtimecmp, TS_STATE_U64, kAclintMaxHarts),
    TS_FIELD(MtimerState, time_delta, TS_STATE_U64),
};
constexpr ts_state_decl kMtimerState = ts::state_decl("riscv.aclint.mtimer", 1, kMtimerFields, ts::post_load_hook<AclintMtimer>);
const ts_device_class kMtimerClass = ts::device_class<AclintMtimer>(kMtimerProps, &kMtimerState, nullptr, false);

constexpr ts_prop_decl kClintProps[] = {
    HART_PROPS,
    ts::prop_uint("timebase-freq", "10000000", 1, 0xffffffff, "mtime ticks per second"),
    ts::prop_uint("timebase-frequency", nullptr, 1, 0xffffffff, "alias of timebase-freq"),
};
constexpr std::array kClintFields = {
    TS_FIELD_N(ClintState, swi.msip, TS_STATE_U32, kAclintMaxHarts),
    TS_FIELD_N(ClintState, timer.mtimecmp, TS_STATE_U64, kAclintMaxHarts),
    TS_FIELD(ClintState, timer.time_delta, TS_STATE_U64),
};
constexpr ts_state_decl kClintState = ts::state_decl("riscv.sifive.clint", 1, kClintFields, ts::post_load_hook<SifiveClint>);
const ts_device_class kClintClass = ts::device_class<SifiveClint>(kClintProps, &kClintState, nullptr, false);

constexpr ts::ClassEntry kClasses[] = {
    {"riscv.sifive.plic", &kPlicClass},
    {"riscv.aclint.swi", &kSwiClass},
    {"riscv.aclint.mtimer", &kMtimerClass},
    {"riscv.sifive.clint", &kClintClass},
};

const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

}  // namespace
}  // namespace intc

TESSERA_PLUGIN("device-riscv-intc", "0.1.0",
               "type device riscv.sifive.plic - board SiFive platform-level interrupt controller\n"
               "type device riscv.aclint.swi - board RISC-V ACLINT machine software interrupts\n"
               "type device riscv.aclint.mtimer - board RISC-V ACLINT machine timer\n"
               "type device riscv.sifive.clint - board SiFive core-local interruptor (MSWI + MTIMER)\n",
               intc::get_class);
