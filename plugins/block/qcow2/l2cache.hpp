// The L2 table cache: up to `capacity` tables by host offset, least
// recently used first out. A dirty table leaves through the writer the
// image gives (which first puts the refcounts it depends on on disk).
#pragma once

#include "storage.hpp"

#include <functional>
#include <map>

namespace qcow2 {

class L2Cache {
public:
    struct Table {
        std::vector<uint64_t> entries;
        bool dirty = false;
        uint64_t used = 0;
    };
    using Loader = std::function<void(uint64_t off, std::vector<uint64_t> &)>;
    using Writer = std::function<void(uint64_t off, const std::vector<uint64_t> &)>;

    L2Cache(size_t capacity, size_t entries, Loader load, Writer write)
        : cap_(std::max<size_t>(capacity, 2)), n_(entries), load_(std::move(load)), write_(std::move(write)) {}

    Table &get(uint64_t off) {
        if (auto it = map_.find(off); it != map_.end()) {
            it->second.used = ++clock_;
            return it->second;
        }
        make_room();
        Table t;
        t.entries.resize(n_);
        load_(off, t.entries);
        t.used = ++clock_;
        return map_.emplace(off, std::move(t)).first->second;
    }
    // A new table (all zero entries), dirty.
    Table &fresh(uint64_t off) {
        make_room();
        Table &t = map_[off];
        t.entries.assign(n_, 0);
        t.dirty = true;
        t.used = ++clock_;
        return t;
    }
    void forget(uint64_t off) { map_.erase(off); }
    bool any_dirty() const {
        for (auto &[o, t] : map_)
            if (t.dirty) return true;
        return false;
    }
    void write_back() {
        for (auto &[o, t] : map_)
            if (t.dirty) {
                write_(o, t.entries);
                t.dirty = false;
            }
    }
    size_t capacity() const { return cap_; }

private:
    void make_room() {
        while (map_.size() >= cap_) {
            auto victim = map_.begin();
            for (auto it = map_.begin(); it != map_.end(); ++it)
                if (it->second.used < victim->second.used) victim = it;
            if (victim->second.dirty) write_(victim->first, victim->second.entries);
            map_.erase(victim);
        }
    }
    size_t cap_, n_;
    Loader load_;
    Writer write_;
    std::map<uint64_t, Table> map_;
    uint64_t clock_ = 0;
};

}  // namespace qcow2
