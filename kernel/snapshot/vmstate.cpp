#include "snapshot/vmstate.hpp"

#include "loop/clock.hpp"
#include "loop/timer.hpp"
#include "memory/region.hpp"
#include "qom/object.hpp"

#include <tessera/classes.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

namespace tessera {
namespace {

// Stream layout (host byte order; a state is loaded by the build that can
// run the machine it came from):
//   "TSVMSTAT" u32 format
//   records: 'C' i64 virtual clock
//            'R' str region, u64 size, runs {u64 first page, u64 pages, bytes}, u64 ~0
//            'O' str path, str section, u32 version, u32 fields
//                {str name, u8 type, u32 count, u32 bytes, bytes},
//                u32 irq groups {str name, u32 n, i32 level * n}
//            'E'
constexpr char kMagic[8] = {'T', 'S', 'V', 'M', 'S', 'T', 'A', 'T'};
constexpr uint32_t kFormat = 1;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kEndRuns = ~uint64_t{0};

// ---- what is saved --------------------------------------------------------

struct RamBlock {
    std::string key;  // name, "#n" appended to the n-th repeat of a name
    Region *region;
};

void collect_regions(Region *r, std::set<Region *> &seen, std::vector<Region *> &out) {
    if (!r || !seen.insert(r).second) return;
    switch (r->kind) {
    case RegionKind::Ram:
    case RegionKind::Rom:
        out.push_back(r);
        break;
    case RegionKind::Alias:
        collect_regions(r->alias_target, seen, out);
        break;
    case RegionKind::Container:
        for (const Subregion &s : r->children) collect_regions(s.region, seen, out);
        break;
    case RegionKind::Mmio:
        break;
    }
}

void collect_objects(ts_object *o, std::vector<ts_object *> &out) {
    for (auto &c : o->children) {
        if (c->realized && c->instance) out.push_back(c.get());
        collect_objects(c.get(), out);
    }
}

const ts_state_decl *decl_of(const ts_object *o) {
    const ts_object_class *cls = o->type ? o->type->object_class() : nullptr;
    return cls ? cls->state : nullptr;
}

void *base_of(const ts_object *o) {
    const ts_object_class *cls = o->type->object_class();
    return cls->state_base ? cls->state_base(o->instance) : o->instance;
}

std::vector<RamBlock> ram_blocks(ts_object *objects, Region *memory) {
    std::set<Region *> seen;
    std::vector<Region *> regions;
    collect_regions(memory, seen, regions);
    std::vector<ts_object *> objs;
    collect_objects(objects, objs);
    for (ts_object *o : objs)
        for (Region *r : o->regions) collect_regions(r, seen, regions);
    std::map<std::string, int> repeats;
    std::vector<RamBlock> out;
    for (Region *r : regions) {
        int n = repeats[r->name]++;
        out.push_back({n ? r->name + "#" + std::to_string(n) : r->name, r});
    }
    return out;
}

uint32_t elem_size(ts_state_type t) {
    switch (t) {
    case TS_STATE_U8:
    case TS_STATE_BYTES:
    case TS_STATE_BOOL:
        return 1;
    case TS_STATE_U16:
        return 2;
    case TS_STATE_U32:
        return 4;
    case TS_STATE_U64:
    case TS_STATE_TIMER:
        return 8;
    }
    return 0;
}

uint32_t count_of(const ts_state_field &f) { return f.count ? f.count : 1; }

bool is_zero(const uint8_t *p) {
    uint64_t acc = 0;
    for (uint64_t i = 0; i < kPage; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        acc |= v;
    }
    return acc == 0;
}

// ---- writing --------------------------------------------------------------

class Writer {
public:
    explicit Writer(VmStateSink &s) : s_(s) {}
    void bytes(const void *p, size_t n) {
        s_.write({static_cast<const uint8_t *>(p), n});
        total_ += n;
    }
    template <class T> void put(T v) { bytes(&v, sizeof v); }
    void str(std::string_view v) {
        put(uint32_t(v.size()));
        bytes(v.data(), v.size());
    }
    uint64_t total() const { return total_; }

private:
    VmStateSink &s_;
    uint64_t total_ = 0;
};

// A timer's deadline: absolute on the virtual clock (restored with the
// state), remaining time on the others; -1 when not armed.
int64_t timer_value(const Timer *t) {
    if (!t || !t->pending()) return -1;
    int64_t d = t->expire_time();
    return t->clock() == Clock::Virtual ? d : std::max<int64_t>(0, d - clock_ns(t->clock()));
}

void save_object(Writer &w, ts_object *o) {
    const ts_state_decl *d = decl_of(o);
    w.put('O');
    w.str(o->path);
    w.str(d ? d->name : "");
    w.put(uint32_t(d ? d->version : 0));
    w.put(uint32_t(d ? d->field_count : 0));
    if (d) {
        if (d->pre_save) d->pre_save(o->instance);
        auto *base = static_cast<uint8_t *>(base_of(o));
        for (uint32_t i = 0; i < d->field_count; i++) {
            const ts_state_field &f = d->fields[i];
            uint32_t n = count_of(f), es = elem_size(f.type);
            w.str(f.name);
            w.put(uint8_t(f.type));
            w.put(n);
            w.put(n * es);
            if (f.type == TS_STATE_TIMER) {
                for (uint32_t k = 0; k < n; k++) {
                    Timer *t = nullptr;
                    std::memcpy(&t, base + f.offset + k * sizeof(void *), sizeof t);
                    w.put(timer_value(t));
                }
            } else {
                w.bytes(base + f.offset, size_t(n) * es);
            }
        }
    }
    w.put(uint32_t(o->gpio_out.size()));
    for (auto &[name, lines] : o->gpio_out) {
        w.str(name);
        w.put(uint32_t(lines.size()));
        for (auto &l : lines) w.put(int32_t(l ? l->level : 0));
    }
}

void save_ram(Writer &w, const RamBlock &b) {
    uint8_t *p = region_host_ptr(*b.region);
    uint64_t size = b.region->size, pages = p ? (size + kPage - 1) / kPage : 0;
    w.put('R');
    w.str(b.key);
    w.put(size);
    for (uint64_t i = 0; i < pages;) {
        // The last page may be partial: it is compared and saved as far as it goes.
        auto page_zero = [&](uint64_t k) {
            if ((k + 1) * kPage <= size) return is_zero(p + k * kPage);
            return std::all_of(p + k * kPage, p + size, [](uint8_t c) { return c == 0; });
        };
        if (page_zero(i)) {
            i++;
            continue;
        }
        uint64_t j = i + 1;
        while (j < pages && !page_zero(j)) j++;
        w.put(i);
        w.put(j - i);
        w.bytes(p + i * kPage, size_t(std::min(j * kPage, size) - i * kPage));
        i = j;
    }
    w.put(kEndRuns);
}

// ---- reading --------------------------------------------------------------

class Reader {
public:
    explicit Reader(VmStateSource &s) : s_(s) {}
    void bytes(void *p, size_t n) {
        s_.read(pos_, {static_cast<uint8_t *>(p), n});
        pos_ += n;
    }
    template <class T> T get() {
        T v{};
        bytes(&v, sizeof v);
        return v;
    }
    std::string str() {
        uint32_t n = get<uint32_t>();
        if (n > 4096) throw VmStateError("vmstate: corrupt state (a name of " + std::to_string(n) + " bytes)");
        std::string v(n, '\0');
        bytes(v.data(), n);
        return v;
    }
    uint64_t pos() const { return pos_; }
    void skip(uint64_t n) { pos_ += n; }

private:
    VmStateSource &s_;
    uint64_t pos_ = 0;
};

struct SavedField {
    std::string name;
    uint8_t type;
    uint32_t count;
    std::vector<uint8_t> bytes;
};
struct SavedObject {
    std::string path, section;
    uint32_t version;
    std::vector<SavedField> fields;
    std::vector<std::pair<std::string, std::vector<int32_t>>> irqs;
};
struct SavedRun {
    uint64_t first, pages, pos;
};
struct SavedRam {
    std::string key;
    uint64_t size;
    std::vector<SavedRun> runs;
};

struct Saved {
    int64_t clock = 0;
    bool have_clock = false;
    std::vector<SavedObject> objects;
    std::vector<SavedRam> ram;
};

Saved parse(Reader &r) {
    char magic[8];
    r.bytes(magic, 8);
    if (std::memcmp(magic, kMagic, 8) != 0) throw VmStateError("vmstate: not a tessera VM state");
    if (uint32_t f = r.get<uint32_t>(); f != kFormat)
        throw VmStateError("vmstate: state format " + std::to_string(f) + " is not supported (this tessera reads " +
                           std::to_string(kFormat) + ")");
    Saved s;
    for (;;) {
        char tag = r.get<char>();
        if (tag == 'E') break;
        if (tag == 'C') {
            s.clock = r.get<int64_t>();
            s.have_clock = true;
        } else if (tag == 'R') {
            SavedRam ram;
            ram.key = r.str();
            ram.size = r.get<uint64_t>();
            uint64_t pages = (ram.size + kPage - 1) / kPage, next = 0;
            for (;;) {
                uint64_t first = r.get<uint64_t>();
                if (first == kEndRuns) break;
                uint64_t n = r.get<uint64_t>();
                if (first < next || n == 0 || n > pages || first > pages - n)
                    throw VmStateError("vmstate: corrupt state (RAM '" + ram.key + "' pages out of order)");
                ram.runs.push_back({first, n, r.pos()});
                r.skip(std::min((first + n) * kPage, ram.size) - first * kPage);
                next = first + n;
            }
            s.ram.push_back(std::move(ram));
        } else if (tag == 'O') {
            SavedObject o;
            o.path = r.str();
            o.section = r.str();
            o.version = r.get<uint32_t>();
            uint32_t nf = r.get<uint32_t>();
            if (nf > 65536) throw VmStateError("vmstate: corrupt state (" + o.path + ")");
            for (uint32_t i = 0; i < nf; i++) {
                SavedField f;
                f.name = r.str();
                f.type = r.get<uint8_t>();
                f.count = r.get<uint32_t>();
                uint32_t nb = r.get<uint32_t>();
                if (nb > (64u << 20)) throw VmStateError("vmstate: corrupt state (" + o.path + "." + f.name + ")");
                f.bytes.resize(nb);
                r.bytes(f.bytes.data(), nb);
                o.fields.push_back(std::move(f));
            }
            uint32_t ng = r.get<uint32_t>();
            if (ng > 4096) throw VmStateError("vmstate: corrupt state (" + o.path + " IRQs)");
            for (uint32_t i = 0; i < ng; i++) {
                std::string name = r.str();
                uint32_t n = r.get<uint32_t>();
                if (n > 65536) throw VmStateError("vmstate: corrupt state (" + o.path + " IRQs)");
                std::vector<int32_t> levels(n);
                r.bytes(levels.data(), n * sizeof(int32_t));
                o.irqs.emplace_back(std::move(name), std::move(levels));
            }
            s.objects.push_back(std::move(o));
        } else {
            throw VmStateError("vmstate: corrupt state (unknown record at byte " + std::to_string(r.pos() - 1) + ")");
        }
    }
    if (!s.have_clock) throw VmStateError("vmstate: corrupt state (no clock)");
    return s;
}

// Every saved section has its object here and the other way round, with the
// same fields: checked before anything changes.
void check(const Saved &s, const std::vector<ts_object *> &objs, const std::vector<RamBlock> &blocks) {
    std::map<std::string_view, const SavedObject *> by_path;
    for (const SavedObject &o : s.objects) by_path[o.path] = &o;
    std::set<std::string_view> used;
    for (ts_object *o : objs) {
        const ts_state_decl *d = decl_of(o);
        if (!d && o->gpio_out.empty()) continue;
        auto it = by_path.find(o->path);
        if (it == by_path.end())
            throw VmStateError("vmstate: the saved state has nothing for '" + o->path + "' (" +
                               (d ? std::string(d->name) : o->type->name) + ")");
        const SavedObject &so = *it->second;
        used.insert(so.path);
        std::string want = d ? d->name : "";
        if (so.section != want || so.version != (d ? d->version : 0))
            throw VmStateError("vmstate: '" + o->path + "' was saved as " + so.section + " version " +
                               std::to_string(so.version) + ", this machine has " + want + " version " +
                               std::to_string(d ? d->version : 0));
        uint32_t nf = d ? d->field_count : 0;
        if (so.fields.size() != nf)
            throw VmStateError("vmstate: '" + o->path + "' was saved with " + std::to_string(so.fields.size()) +
                               " fields, this machine has " + std::to_string(nf));
        for (uint32_t i = 0; i < nf; i++) {
            const ts_state_field &f = d->fields[i];
            const SavedField &sf = so.fields[i];
            if (sf.name != f.name || sf.type != f.type || sf.count != count_of(f) ||
                sf.bytes.size() != size_t(count_of(f)) * elem_size(f.type))
                throw VmStateError("vmstate: field '" + sf.name + "' of '" + o->path + "' does not match this machine's '" +
                                   f.name + "'");
        }
        for (auto &[name, levels] : so.irqs) {
            auto g = o->gpio_out.find(name);
            if (g == o->gpio_out.end() || g->second.size() != levels.size())
                throw VmStateError("vmstate: IRQ output '" + name + "' of '" + o->path + "' does not match this machine");
        }
    }
    for (const SavedObject &o : s.objects)
        if (!used.count(o.path)) throw VmStateError("Unknown savevm section or instance '" + o.path + "'");
    std::map<std::string_view, const RamBlock *> ram;
    for (const RamBlock &b : blocks) ram[b.key] = &b;
    std::set<std::string_view> ram_used;
    for (const SavedRam &sr : s.ram) {
        auto it = ram.find(sr.key);
        if (it == ram.end()) throw VmStateError("vmstate: this machine has no memory region '" + sr.key + "'");
        if (it->second->region->size != sr.size)
            throw VmStateError("Length mismatch: " + sr.key + ": 0x" + [](uint64_t v) {
                char b[32];
                std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
                return std::string(b);
            }(sr.size) + " in != this machine's size");
        ram_used.insert(sr.key);
    }
    for (const RamBlock &b : blocks)
        if (!ram_used.count(b.key)) throw VmStateError("vmstate: the saved state has no memory region '" + b.key + "'");
}

void load_ram(Reader &r, VmStateSource &in, const SavedRam &sr, Region &region) {
    uint8_t *p = region_host_ptr(region);
    if (!p) return;
    uint64_t size = region.size, pages = (size + kPage - 1) / kPage;
    auto zero_range = [&](uint64_t from, uint64_t to) {
        for (uint64_t k = from; k < to; k++) {
            uint64_t end = std::min((k + 1) * kPage, size);
            uint8_t *pg = p + k * kPage;
            // Writing zeroes over a page never touched would allocate it.
            if (end - k * kPage == kPage ? !is_zero(pg) : true) std::memset(pg, 0, end - k * kPage);
        }
    };
    uint64_t next = 0;
    for (const SavedRun &run : sr.runs) {
        zero_range(next, run.first);
        uint64_t bytes = std::min((run.first + run.pages) * kPage, size) - run.first * kPage;
        in.read(run.pos, {p + run.first * kPage, size_t(bytes)});
        next = run.first + run.pages;
    }
    zero_range(next, pages);
    (void)r;
}

void apply_fields(ts_object *o, const SavedObject &so) {
    const ts_state_decl *d = decl_of(o);
    if (!d) return;
    auto *base = static_cast<uint8_t *>(base_of(o));
    for (uint32_t i = 0; i < d->field_count; i++) {
        const ts_state_field &f = d->fields[i];
        const SavedField &sf = so.fields[i];
        if (f.type != TS_STATE_TIMER) {
            std::memcpy(base + f.offset, sf.bytes.data(), sf.bytes.size());
            continue;
        }
        for (uint32_t k = 0; k < sf.count; k++) {
            Timer *t = nullptr;
            std::memcpy(&t, base + f.offset + k * sizeof(void *), sizeof t);
            int64_t v;
            std::memcpy(&v, sf.bytes.data() + k * 8, 8);
            if (!t) continue;
            if (v < 0)
                t->del();
            else
                t->mod(t->clock() == Clock::Virtual ? v : clock_ns(t->clock()) + v);
        }
    }
}

}  // namespace

uint64_t vmstate_save(VmStateSink &out, ts_object *objects, ts_region *memory, int64_t virtual_clock_ns) {
    Writer w(out);
    w.bytes(kMagic, sizeof kMagic);
    w.put(kFormat);
    w.put('C');
    w.put(virtual_clock_ns);
    for (const RamBlock &b : ram_blocks(objects, memory)) save_ram(w, b);
    std::vector<ts_object *> objs;
    collect_objects(objects, objs);
    for (ts_object *o : objs)
        if (decl_of(o) || !o->gpio_out.empty()) save_object(w, o);
    w.put('E');
    return w.total();
}

int64_t vmstate_load(VmStateSource &in, ts_object *objects, ts_region *memory,
                     const std::function<void()> &before_apply) {
    Reader r(in);
    Saved s = parse(r);
    std::vector<ts_object *> objs;
    collect_objects(objects, objs);
    std::vector<RamBlock> blocks = ram_blocks(objects, memory);
    check(s, objs, blocks);
    if (before_apply) before_apply();

    // Nothing can fail from here on but the source itself. The clock goes
    // first: post_load hooks re-arm timers from it.
    clock_virtual_set(s.clock);
    for (const SavedRam &sr : s.ram)
        for (const RamBlock &b : blocks)
            if (b.key == sr.key) load_ram(r, in, sr, *b.region);
    std::map<std::string_view, const SavedObject *> by_path;
    for (const SavedObject &o : s.objects) by_path[o.path] = &o;
    for (ts_object *o : objs)
        if (auto it = by_path.find(o->path); it != by_path.end()) apply_fields(o, *it->second);
    for (ts_object *o : objs) {
        const ts_state_decl *d = decl_of(o);
        if (!d || !d->post_load || !by_path.count(o->path)) continue;
        ts_error err{};
        if (d->post_load(o->instance, &err) != TS_OK)
            throw VmStateError("vmstate: '" + o->path + "' refused its state: " + err.message);
    }
    // The receivers of IRQ lines (interrupt controllers, CPUs) see the
    // levels the senders had.
    for (ts_object *o : objs) {
        auto it = by_path.find(o->path);
        if (it == by_path.end()) continue;
        for (auto &[name, levels] : it->second->irqs) {
            auto &lines = o->gpio_out.find(name)->second;
            for (size_t i = 0; i < lines.size(); i++) {
                ts_irq *l = lines[i].get();
                if (!l) continue;
                l->level = levels[i];
                if (l->handler) l->handler(l->opaque, l->line, levels[i]);
            }
        }
    }
    timers_notify();
    return s.clock;
}

}  // namespace tessera
