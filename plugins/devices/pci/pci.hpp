// device-pci.so: the generic ECAM PCIe host bridge (gpex-pcihost) and the
// virtio-pci functions on its bus. A Function is any PCI function of this
// plugin; the bridge decodes ECAM, maps BARs where the guest puts them and
// swizzles INTx onto its four output lines.
#pragma once

#include "config_space.hpp"

#include <tessera/sdk/device.hpp>

#include <array>
#include <optional>
#include <vector>

namespace pci {

class Gpex;

// MSI-X (PCI 3.0 6.8.2): table and PBA in one BAR, messages written to system
// memory where an MSI controller would take them.
class Msix {
public:
    // Adds the capability; the table and PBA live in bar at table_off/pba_off.
    void init(ConfigSpace &cfg, unsigned vectors, unsigned bar, uint32_t table_off, uint32_t pba_off);
    bool enabled() const;
    unsigned vectors() const { return static_cast<unsigned>(table_.size() / 16); }
    // Signal vector v (pending while masked; dropped if out of range).
    void notify(unsigned v);
    uint64_t read(uint64_t off, unsigned size) const;
    void write(uint64_t off, unsigned size, uint64_t value);
    void reset();
    // Snapshots: the table and pending bits (as many as fit).
    void save(std::span<uint8_t> table, std::span<uint64_t> pba) const;
    void load(std::span<const uint8_t> table, std::span<const uint64_t> pba);

private:
    bool masked(unsigned v) const;
    ConfigSpace *cfg_ = nullptr;
    unsigned cap_ = 0;
    uint32_t table_off_ = 0, pba_off_ = 0;
    std::vector<uint8_t> table_;
    std::vector<uint64_t> pba_;
};

class Function {
public:
    virtual ~Function() = default;
    ConfigSpace cfg;
    std::array<ts_region *, kNumBars> bar_regions{};
    std::array<std::optional<uint64_t>, kNumBars> mapped{};  // CPU address while mapped
    Gpex *bus = nullptr;
    unsigned devfn = 0;

    // INTx level of this function's pin (ignored with INTx disabled).
    void set_intx(bool level);
    bool intx_level() const { return intx_; }
    // After a guest config write (e.g. MSI-X enable changed).
    virtual void config_written(unsigned, unsigned) {}
    virtual const char *name() const = 0;

private:
    bool intx_ = false;
};

// The host bridge's own function (00.0): its config space, copied in
// before a save and back after a load.
struct GpexState {
    uint8_t root_config[kConfigSize];
};

class Gpex : public ts::Device {
public:
    static constexpr const char *type_name = "gpex-pcihost";
    GpexState s{};
    explicit Gpex(ts_object *obj) : ts::Device(obj) {}
    void realize();
    void reset();
    void pre_save();
    void post_load();
    void plug(ts_object *child);
    void unplug(ts_object *child);

    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);
    // Re-evaluate the INTx lines (a function changed its level).
    void update_intx();
    // Map or unmap f's BARs after a command or BAR write.
    void remap(Function &f);

    // The host bridge function itself (00.0).
    class Root : public Function {
    public:
        const char *name() const override { return "gpex-root"; }
    };

private:
    Function *at(unsigned devfn) { return devfn < fns_.size() ? fns_[devfn] : nullptr; }
    std::optional<uint64_t> cpu_address(const Bar &b, uint64_t pci_addr) const;

    std::array<Function *, 256> fns_{};  // bus 0 only
    Root root_;
    std::vector<ts::IrqOut> irqs_;
    uint64_t mmio32_base_ = 0, mmio32_size_ = 0, mmio64_base_ = 0, mmio64_size_ = 0, pio_base_ = 0, pio_size_ = 0;
};

// Defined in plugin.cpp: the Function behind a plugged child of this plugin.
Function *as_function(ts_object *child);
// "slot[.fn]" (hex, as the reference) -> devfn; throws ts::Error.
unsigned parse_devfn(std::string_view addr);

}  // namespace pci
