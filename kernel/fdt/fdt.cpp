#include "fdt/fdt.hpp"

#include "options/keyval.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

extern "C" {
#include <libfdt.h>
}

namespace tessera {
namespace {

constexpr size_t kInitialSize = 64 * 1024;

}  // namespace

Fdt::Fdt() : buf_(kInitialSize) {
    if (int err = fdt_create_empty_tree(buf_.data(), int(buf_.size())); err < 0)
        fail("/", err);
}

Fdt Fdt::from_blob(std::span<const uint8_t> blob, std::string_view name) {
    const std::string n(name);
    if (blob.size() < sizeof(fdt_header))
        throw UsageError(n + ": device tree is truncated");
    if (int err = fdt_check_header(blob.data()); err < 0)
        throw UsageError(n + ": invalid device tree: " + fdt_strerror(err));
    const size_t total = fdt_totalsize(blob.data());
    if (total > blob.size())
        throw UsageError(n + ": device tree is truncated");
    Fdt t;
    // Room to grow for the properties the board adds (bootargs, initrd).
    t.buf_.assign(total + kInitialSize, 0);
    if (int err = fdt_open_into(blob.data(), t.buf_.data(), int(t.buf_.size())); err < 0)
        throw UsageError(n + ": invalid device tree: " + fdt_strerror(err));
    const uint32_t max = fdt_get_max_phandle(t.buf_.data());
    t.next_phandle_ = (max == uint32_t(-1) ? 0 : max) + 1;
    return t;
}

Fdt Fdt::load(std::string_view path) {
    const std::string p(path);
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw UsageError("could not open device tree file '" + p + "': " + std::strerror(errno));
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        throw UsageError("could not read device tree file '" + p + "'");
    return from_blob(data, path);
}

void Fdt::fail(std::string_view path, int err) const {
    throw std::runtime_error("device tree: " + std::string(path) + ": " + fdt_strerror(err));
}

int Fdt::node(std::string_view path) const {
    const int off = fdt_path_offset_namelen(buf_.data(), path.data(), int(path.size()));
    if (off < 0)
        fail(path, off);
    return off;
}

bool Fdt::has_node(std::string_view path) const {
    return fdt_path_offset_namelen(buf_.data(), path.data(), int(path.size())) >= 0;
}

// Run a libfdt edit, growing the buffer and retrying while it is full.
template <class Fn>
void Fdt::edit(std::string_view path, Fn &&fn) {
    for (;;) {
        const int err = fn();
        if (err >= 0)
            return;
        if (err != -FDT_ERR_NOSPACE)
            fail(path, err);
        if (fdt_totalsize(buf_.data()) < buf_.size()) {
            // Packed earlier: reopen in place to use the whole buffer again.
            if (int e = fdt_open_into(buf_.data(), buf_.data(), int(buf_.size())); e < 0)
                fail(path, e);
            continue;
        }
        std::vector<uint8_t> bigger(buf_.size() * 2);
        if (int e = fdt_open_into(buf_.data(), bigger.data(), int(bigger.size())); e < 0)
            fail(path, e);
        buf_ = std::move(bigger);
    }
}

void Fdt::add_node(std::string_view path) {
    const size_t slash = path.rfind('/');
    if (path.empty() || path[0] != '/' || slash == std::string_view::npos || slash + 1 == path.size())
        fail(path, -FDT_ERR_BADPATH);
    const std::string_view parent = slash == 0 ? std::string_view("/") : path.substr(0, slash);
    const std::string_view name = path.substr(slash + 1);
    edit(path, [&] {
        const int p = node(parent);
        return fdt_add_subnode_namelen(buf_.data(), p, name.data(), int(name.size()));
    });
}

void Fdt::set_prop(std::string_view path, std::string_view name, std::span<const uint8_t> value) {
    const std::string n(name);
    edit(path, [&] { return fdt_setprop(buf_.data(), node(path), n.c_str(), value.data(), int(value.size())); });
}

void Fdt::set_prop_string(std::string_view path, std::string_view name, std::string_view value) {
    std::vector<uint8_t> bytes(value.begin(), value.end());
    bytes.push_back(0);
    set_prop(path, name, bytes);
}

void Fdt::set_prop_strings(std::string_view path, std::string_view name,
                           std::initializer_list<std::string_view> values) {
    std::vector<uint8_t> bytes;
    for (std::string_view v : values) {
        bytes.insert(bytes.end(), v.begin(), v.end());
        bytes.push_back(0);
    }
    set_prop(path, name, bytes);
}

void Fdt::set_prop_strings(std::string_view path, std::string_view name, std::span<const std::string> values) {
    std::vector<uint8_t> bytes;
    for (const std::string &v : values) {
        bytes.insert(bytes.end(), v.begin(), v.end());
        bytes.push_back(0);
    }
    set_prop(path, name, bytes);
}

void Fdt::set_prop_cells(std::string_view path, std::string_view name, std::span<const uint32_t> cells) {
    std::vector<uint8_t> bytes;
    bytes.reserve(cells.size() * 4);
    for (uint32_t c : cells)
        for (int shift = 24; shift >= 0; shift -= 8)
            bytes.push_back(uint8_t(c >> shift));
    set_prop(path, name, bytes);
}

uint32_t Fdt::phandle(std::string_view path) {
    if (uint32_t existing = fdt_get_phandle(buf_.data(), node(path)); existing)
        return existing;
    const uint32_t ph = next_phandle_++;
    set_prop_u32(path, "phandle", ph);
    return ph;
}

std::span<const uint8_t> Fdt::blob() {
    if (int err = fdt_pack(buf_.data()); err < 0)
        fail("/", err);
    // Packing shrinks totalsize; the buffer stays large so edits can go on.
    return {buf_.data(), fdt_totalsize(buf_.data())};
}

void Fdt::save(std::string_view path) {
    const auto data = blob();
    const std::string p(path);
    std::FILE *f = std::fopen(p.c_str(), "wb");
    if (!f)
        throw UsageError("could not write device tree to '" + p + "': " + std::strerror(errno));
    const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed)
        throw UsageError("could not write device tree to '" + p + "'");
}

}  // namespace tessera
