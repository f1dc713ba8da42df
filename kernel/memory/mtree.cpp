// `info mtree` text in the reference's layout.
#include "memory/address_space.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <mutex>

namespace tessera {
namespace {

const char *type_name(const Region &r) {
    switch (r.kind) {
    case RegionKind::Ram: return "ram";
    case RegionKind::Rom: return "rom";
    case RegionKind::Alias: return r.alias_target ? type_name(*r.alias_target) : "i/o";
    default: return "i/o";
    }
}

uint64_t last_byte(uint64_t base, uint64_t size) {
    return size == UINT64_MAX ? base + UINT64_MAX : base + (size ? size - 1 : 0);
}

void appendf(std::string &out, const char *fmt, auto... args) {
    char line[512];
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
}

class TreePrinter {
public:
    explicit TreePrinter(std::string &out) : out_(out) {}

    void print(const Region &r, uint64_t base, int priority, int level) {
        out_.append(size_t(level) * 2, ' ');
        appendf(out_, "%016" PRIx64 "-%016" PRIx64 " (prio %d, %s): ", base, last_byte(base, r.size),
                priority, type_name(r));
        if (r.kind == RegionKind::Alias && r.alias_target) {
            appendf(out_, "alias %s @%s %016" PRIx64 "-%016" PRIx64, r.name.c_str(),
                    r.alias_target->name.c_str(), r.alias_offset, last_byte(r.alias_offset, r.size));
            if (std::find(aliased.begin(), aliased.end(), r.alias_target) == aliased.end())
                aliased.push_back(r.alias_target);
        } else {
            out_ += r.name;
        }
        out_ += r.enabled ? "\n" : " [disabled]\n";
        // Children by address, higher priority first at the same address.
        std::vector<Subregion> kids = r.children;
        std::stable_sort(kids.begin(), kids.end(), [](const Subregion &a, const Subregion &b) {
            return a.offset != b.offset ? a.offset < b.offset : a.priority > b.priority;
        });
        for (const Subregion &c : kids)
            print(*c.region, base + c.offset, c.priority, level + 1);
    }

    std::vector<const Region *> aliased;

private:
    std::string &out_;
};

int priority_in_parent(const Region &r) {
    if (r.parent)
        for (const Subregion &s : r.parent->children)
            if (s.region == &r)
                return s.priority;
    return 0;
}

}  // namespace

std::string mtree_text(std::span<const AddressSpace *const> spaces, bool flat) {
    std::string out;
    // Address spaces sharing a root are listed together over one tree.
    std::vector<const Region *> roots;
    for (const AddressSpace *as : spaces)
        if (std::find(roots.begin(), roots.end(), &as->root()) == roots.end())
            roots.push_back(&as->root());

    if (flat) {
        int n = 0;
        for (const Region *root : roots) {
            appendf(out, "FlatView #%d\n", n++);
            const AddressSpace *any = nullptr;
            for (const AddressSpace *as : spaces)
                if (&as->root() == root) {
                    appendf(out, " AS \"%s\", root: %s\n", as->name().c_str(), root->name.c_str());
                    any = as;
                }
            const auto view = any->view();
            std::lock_guard lock(detail::map_mutex());
            appendf(out, " Root memory region: %s\n", view->ranges.empty() ? "(none)" : root->name.c_str());
            if (view->ranges.empty())
                out += "  No rendered FlatView\n";
            for (const FlatRange &f : view->ranges) {
                appendf(out, "  %016" PRIx64 "-%016" PRIx64 " (prio %d, %s): %s", f.start, f.last(),
                        priority_in_parent(*f.region), type_name(*f.region), f.region->name.c_str());
                if (f.offset)
                    appendf(out, " @%016" PRIx64, f.offset);
                out += "\n";
            }
            out += "\n";
        }
        return out;
    }

    std::lock_guard lock(detail::map_mutex());
    std::string trees;
    TreePrinter printer(trees);
    for (const Region *root : roots) {
        for (const AddressSpace *as : spaces)
            if (&as->root() == root)
                appendf(out, "address-space: %s\n", as->name().c_str());
        trees.clear();
        printer.print(*root, 0, 0, 1);
        out += trees + "\n";
    }
    // Regions reached through aliases (the list grows while we print).
    for (size_t i = 0; i < printer.aliased.size(); ++i) {
        const Region *r = printer.aliased[i];
        appendf(out, "memory-region: %s\n", r->name.c_str());
        trees.clear();
        printer.print(*r, 0, 0, 1);
        out += trees + "\n";
    }
    return out;
}

}  // namespace tessera
