// Debugger support: breakpoints, watchpoints and single-stepping.
//
// Nothing here costs anything while no point is set and no step is asked:
// breakpoints and stepping switch run() to run_debug() (chosen once per
// chunk of instructions), and watchpoints keep the software TLB from
// caching the watched pages, so the accesses take the slow paths, which
// call watch_check().
#include "hart.hpp"

#include <algorithm>

namespace rv {

namespace {

bool is_break(DebugPoint t) { return t == DebugPoint::SwBreak || t == DebugPoint::HwBreak; }
bool is_known(DebugPoint t) { return static_cast<unsigned>(t) <= static_cast<unsigned>(DebugPoint::WatchAccess); }

bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
    return a < b + blen && b < a + alen;
}

}  // namespace

bool Hart::debug_insert(DebugPoint type, uint64_t addr, uint64_t len) {
    if (!is_known(type)) return false;
    addr &= xmask();
    if (is_break(type)) {
        std::pair<uint64_t, DebugPoint> bp{addr, type};
        auto it = std::lower_bound(dbg_.breaks.begin(), dbg_.breaks.end(), bp);
        if (it == dbg_.breaks.end() || *it != bp) dbg_.breaks.insert(it, bp);
        request_check();   // leave the fast loop if the hart is somehow running
        return true;
    }
    Watch w{addr, std::max<uint64_t>(len, 1), type};
    if (std::find(dbg_.watches.begin(), dbg_.watches.end(), w) == dbg_.watches.end()) dbg_.watches.push_back(w);
    flush_tlb();   // cached translations would bypass the slow paths
    return true;
}

bool Hart::debug_remove(DebugPoint type, uint64_t addr, uint64_t len) {
    if (!is_known(type)) return false;
    addr &= xmask();
    if (is_break(type)) {
        auto it = std::find(dbg_.breaks.begin(), dbg_.breaks.end(), std::pair{addr, type});
        if (it == dbg_.breaks.end()) return false;
        dbg_.breaks.erase(it);
        return true;
    }
    auto it = std::find(dbg_.watches.begin(), dbg_.watches.end(), Watch{addr, std::max<uint64_t>(len, 1), type});
    if (it == dbg_.watches.end()) return false;
    dbg_.watches.erase(it);
    return true;   // pages stay uncached until the next TLB flush: harmless
}

void Hart::debug_remove_all() {
    dbg_.breaks.clear();
    dbg_.watches.clear();
}

bool Hart::watched_page(uint64_t va) const {
    const uint64_t page = va & ~0xfffull;
    return std::any_of(dbg_.watches.begin(), dbg_.watches.end(),
                       [&](const Watch &w) { return overlaps(w.addr, w.len, page, 4096); });
}

void Hart::watch_hit(uint64_t va, unsigned size, bool write) {
    if (dbg_.hit) return;   // the first hit of an instruction is the one reported
    for (const Watch &w : dbg_.watches) {
        bool kind = w.type == DebugPoint::WatchAccess || (write ? w.type == DebugPoint::WatchWrite
                                                                : w.type == DebugPoint::WatchRead);
        if (!kind || !overlaps(w.addr, w.len, va, size)) continue;
        // As gdb wants it: an address inside the watched range.
        dbg_.stop = DebugStop{StopReason::Watch, w.type, std::max(va, w.addr)};
        dbg_.hit = true;
        request_check();   // the run loop stops once the instruction completes
        return;
    }
}

bool Hart::run_debug(uint64_t n, uint64_t &done) {
    uint64_t seq = ~0ull;
    while (done < n && !check_.load(std::memory_order_relaxed)) {
        pc_ = s.pc;
        // A step leaves the starting pc even when a breakpoint sits there.
        if (!dbg_.step) {
            auto it = std::lower_bound(dbg_.breaks.begin(), dbg_.breaks.end(), std::pair{pc_, DebugPoint::SwBreak});
            if (it != dbg_.breaks.end() && it->first == pc_) {
                dbg_.stop = DebugStop{StopReason::Break, it->second, pc_};
                return true;
            }
        }
        if (trace_blocks && s.pc != seq) on_block(hook_opaque, *this, s.pc);
        try {
            const Insn &in = fetch(pc_);
            exec_insn(in);
            seq = pc_ + in.len;
        } catch (const Trap &t) {
            take_trap(t.cause, t.tval, false);
            seq = ~0ull;
        }
        ++done;
        if (dbg_.step) {
            if (!dbg_.hit) dbg_.stop = DebugStop{StopReason::Step, DebugPoint::SwBreak, 0};
            dbg_.hit = false;
            s.waiting = 0;   // a stepped WFI completes at once
            return true;
        }
        if (dbg_.hit) {
            dbg_.hit = false;
            return true;
        }
    }
    return false;
}

}  // namespace rv
