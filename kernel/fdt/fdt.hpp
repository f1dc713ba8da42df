// A device tree built by path over libfdt: the machine's tree that boards
// and devices fill in, or one loaded from a -dtb file. The buffer grows when
// libfdt runs out of room. Errors: UsageError for files, std::runtime_error
// naming the path for bad edits (a missing parent, a duplicate node).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

class Fdt {
public:
    Fdt();  // an empty tree with just the root node
    static Fdt from_blob(std::span<const uint8_t> blob, std::string_view name = "device tree");
    static Fdt load(std::string_view path);   // -dtb

    void add_node(std::string_view path);    // the parent must exist
    bool has_node(std::string_view path) const;

    void set_prop(std::string_view path, std::string_view name, std::span<const uint8_t> value);
    void set_prop_empty(std::string_view path, std::string_view name) { set_prop(path, name, {}); }
    void set_prop_string(std::string_view path, std::string_view name, std::string_view value);
    // "a\0b\0" string lists (compatible = "x", "y").
    void set_prop_strings(std::string_view path, std::string_view name,
                          std::initializer_list<std::string_view> values);
    void set_prop_strings(std::string_view path, std::string_view name, std::span<const std::string> values);
    // Host-order cells, stored big-endian.
    void set_prop_cells(std::string_view path, std::string_view name, std::span<const uint32_t> cells);
    void set_prop_cells(std::string_view path, std::string_view name, std::initializer_list<uint32_t> cells) {
        set_prop_cells(path, name, std::span<const uint32_t>(cells.begin(), cells.size()));
    }
    void set_prop_u32(std::string_view path, std::string_view name, uint32_t v) { set_prop_cells(path, name, {v}); }
    void set_prop_u64(std::string_view path, std::string_view name, uint64_t v) {
        set_prop_cells(path, name, {uint32_t(v >> 32), uint32_t(v)});
    }

    // The node's phandle, allocated (and stored as "phandle") on first call.
    uint32_t phandle(std::string_view path);

    // Pack and return the blob; valid until the next edit.
    std::span<const uint8_t> blob();
    void save(std::string_view path);          // -machine dumpdtb=

    const void *raw() const { return buf_.data(); }

private:
    int node(std::string_view path) const;     // offset, or throws
    [[noreturn]] void fail(std::string_view path, int err) const;
    template <class Fn> void edit(std::string_view path, Fn &&fn);

    std::vector<uint8_t> buf_;
    uint32_t next_phandle_ = 1;
};

}  // namespace tessera
