// Objects of one type from arenas, recycled through a free list: no
// allocation per object, and an object's address stays valid until it is
// put back.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace rv {

template <class T> class Pool {
public:
    // Uninitialized when new, as left when recycled: the caller sets it up.
    T *get() {
        if (free_.empty()) {
            arenas_.push_back(std::make_unique_for_overwrite<T[]>(kArena));
            for (size_t i = 0; i < kArena; ++i) free_.push_back(&arenas_.back()[i]);
        }
        T *p = free_.back();
        free_.pop_back();
        return p;
    }
    void put(T *p) { free_.push_back(p); }
    size_t in_use() const { return arenas_.size() * kArena - free_.size(); }

private:
    static constexpr size_t kArena = 64;
    std::vector<std::unique_ptr<T[]>> arenas_;
    std::vector<T *> free_;
};

}  // namespace rv
