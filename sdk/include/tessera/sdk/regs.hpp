// A register bank: a table of {offset, count, stride, name, read, write} so a
// device's I/O code reads like its datasheet.
//
//   constexpr ts::Reg<Rtc> rtc_regs[] = {
//       ts::reg<&Rtc::time_low, nullptr>(0x00, "TIME_LOW"),
//       ts::reg<&Rtc::alarm_low, &Rtc::set_alarm_low>(0x08, "ALARM_LOW"),
//       ts::reg_array<&Plic::priority, &Plic::set_priority>(0x0, 1024, 4, "priority"),
//   };
//   uint64_t v = ts::reg_read(rtc_regs, *this, offset, size);
//
// Accessors are members `uint64_t f()` / `void f(uint64_t)` for single
// registers and `uint64_t f(unsigned i)` / `void f(unsigned i, uint64_t)` for
// arrays. An access narrower than the register reads the containing register
// and shifts (writes merge into it: read-modify-write), so a 64-bit register
// works for 32-bit guests. Unknown offsets and writes to read-only registers
// are guest errors: reads give 0, writes are ignored.
#pragma once

#include <tessera/sdk/device.hpp>

#include <span>
#include <type_traits>

namespace ts {

template <class T>
struct Reg {
    uint64_t offset;
    uint32_t count;   // elements (1: a single register)
    uint32_t stride;  // bytes per element = register width
    const char *name;
    uint64_t (*read)(T &, unsigned index);          // nullptr: write-only, reads 0
    void (*write)(T &, unsigned index, uint64_t);   // nullptr: read-only
};

namespace detail {
template <class F> struct member_class;
template <> struct member_class<std::nullptr_t> { using type = void; };
template <class T, class R, class... A> struct member_class<R (T::*)(A...)> { using type = T; };
template <class T, class R, class... A> struct member_class<R (T::*)(A...) const> { using type = T; };
template <auto Fn> using class_of = typename member_class<decltype(Fn)>::type;

template <auto Fn>
uint64_t read_adapter(class_of<Fn> &d, unsigned i) {
    if constexpr (std::is_invocable_v<decltype(Fn), class_of<Fn> &, unsigned>) return (d.*Fn)(i);
    else return (d.*Fn)();
}
template <auto Fn>
void write_adapter(class_of<Fn> &d, unsigned i, uint64_t v) {
    if constexpr (std::is_invocable_v<decltype(Fn), class_of<Fn> &, unsigned, uint64_t>) (d.*Fn)(i, v);
    else (d.*Fn)(v);
}
template <class T, auto Fn>
constexpr uint64_t (*reader())(T &, unsigned) {
    if constexpr (std::is_null_pointer_v<decltype(Fn)>) return nullptr;
    else return &read_adapter<Fn>;
}
template <class T, auto Fn>
constexpr void (*writer())(T &, unsigned, uint64_t) {
    if constexpr (std::is_null_pointer_v<decltype(Fn)>) return nullptr;
    else return &write_adapter<Fn>;
}
template <auto R, auto W>
using reg_class = std::conditional_t<std::is_null_pointer_v<decltype(R)>, class_of<W>, class_of<R>>;
}  // namespace detail

// A single register of `width` bytes (default 4).
template <auto R, auto W>
constexpr Reg<detail::reg_class<R, W>> reg(uint64_t offset, const char *name, uint32_t width = 4) {
    using T = detail::reg_class<R, W>;
    return {offset, 1, width, name, detail::reader<T, R>(), detail::writer<T, W>()};
}
// `count` registers, `stride` bytes apart (and wide).
template <auto R, auto W>
constexpr Reg<detail::reg_class<R, W>> reg_array(uint64_t offset, uint32_t count, uint32_t stride,
                                                 const char *name) {
    using T = detail::reg_class<R, W>;
    return {offset, count, stride, name, detail::reader<T, R>(), detail::writer<T, W>()};
}

template <class T, size_t N>
const Reg<T> *reg_find(std::span<const Reg<T>, N> bank, uint64_t offset, unsigned &index, unsigned &byte) {
    for (const auto &r : bank) {
        if (offset < r.offset) continue;
        uint64_t rel = offset - r.offset;
        if (rel >= static_cast<uint64_t>(r.count) * r.stride) continue;
        index = static_cast<unsigned>(rel / r.stride);
        byte = static_cast<unsigned>(rel % r.stride);
        return &r;
    }
    return nullptr;
}

inline uint64_t size_mask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }

template <class T, size_t N>
uint64_t reg_read(std::span<const Reg<T>, N> bank, T &dev, uint64_t offset, unsigned size) {
    unsigned index = 0, byte = 0;
    const Reg<T> *r = reg_find(bank, offset, index, byte);
    if (!r) {
        guest_error("%s: read of unknown register at 0x%llx", T::type_name, static_cast<unsigned long long>(offset));
        return 0;
    }
    if (byte + size > r->stride) {
        guest_error("%s: %u-byte read of %s crosses the register", T::type_name, size, r->name);
        return 0;
    }
    if (!r->read) return 0;
    return (r->read(dev, index) >> (byte * 8)) & size_mask(size);
}

template <class T, size_t N>
void reg_write(std::span<const Reg<T>, N> bank, T &dev, uint64_t offset, unsigned size, uint64_t value) {
    unsigned index = 0, byte = 0;
    const Reg<T> *r = reg_find(bank, offset, index, byte);
    if (!r) {
        guest_error("%s: write of unknown register at 0x%llx", T::type_name, static_cast<unsigned long long>(offset));
        return;
    }
    if (!r->write) {
        guest_error("%s: write to read-only register %s", T::type_name, r->name);
        return;
    }
    if (byte + size > r->stride) {
        guest_error("%s: %u-byte write of %s crosses the register", T::type_name, size, r->name);
        return;
    }
    if (byte == 0 && size >= r->stride) {
        r->write(dev, index, value & size_mask(r->stride));
        return;
    }
    // Narrow write: merge into the current value.
    uint64_t old = r->read ? r->read(dev, index) : 0;
    uint64_t mask = size_mask(size) << (byte * 8);
    r->write(dev, index, ((old & ~mask) | ((value << (byte * 8)) & mask)) & size_mask(r->stride));
}

// Same, over a plain array.
template <class T, size_t N>
uint64_t reg_read(const Reg<T> (&bank)[N], T &dev, uint64_t offset, unsigned size) {
    return reg_read(std::span<const Reg<T>, N>(bank), dev, offset, size);
}
template <class T, size_t N>
void reg_write(const Reg<T> (&bank)[N], T &dev, uint64_t offset, unsigned size, uint64_t value) {
    reg_write(std::span<const Reg<T>, N>(bank), dev, offset, size, value);
}

}  // namespace ts
