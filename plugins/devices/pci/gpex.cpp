#include "pci.hpp"

#include <charconv>

namespace pci {

// ---- INTx -------------------------------------------------------------------

void Function::set_intx(bool level) {
    intx_ = level;
    if (bus) bus->update_intx();
}

// Each function's pin (INTA=1..INTD=4) reaches line (slot + pin - 1) % 4, the
// swizzle the device tree's interrupt-map describes.
void Gpex::update_intx() {
    std::array<bool, 4> lines{};
    for (unsigned devfn = 0; devfn < fns_.size(); devfn++) {
        Function *f = fns_[devfn];
        if (!f || !f->intx_level() || (f->cfg.command() & kCmdIntxDisable)) continue;
        const unsigned pin = f->cfg.read(kIntPin, 1);
        if (pin < 1 || pin > 4) continue;
        lines[((devfn >> 3) + pin - 1) % 4] = true;
    }
    for (unsigned i = 0; i < irqs_.size(); i++) irqs_[i].set(lines[i]);
}

// ---- BAR placement ------------------------------------------------------------

std::optional<uint64_t> Gpex::cpu_address(const Bar &b, uint64_t a) const {
    auto inside = [&](uint64_t base, uint64_t size) { return size && a >= base && a + b.size <= base + size; };
    if (b.type == BarType::Io) {
        if (a + b.size <= pio_size_) return pio_base_ + a;
        return std::nullopt;
    }
    // Memory windows are identity mapped (PCI address == CPU address).
    if (inside(mmio32_base_, mmio32_size_) || inside(mmio64_base_, mmio64_size_)) return a;
    return std::nullopt;
}

void Gpex::remap(Function &f) {
    const auto &h = ts::host();
    for (unsigned n = 0; n < kNumBars; n++) {
        ts_region *r = f.bar_regions[n];
        if (!r) continue;
        std::optional<uint64_t> want;
        if (auto a = f.cfg.bar_address(n)) want = cpu_address(f.cfg.bar(n), *a);
        if (want == f.mapped[n]) continue;
        if (f.mapped[n]) h.region_remove(h.system_memory(), r);
        if (want) h.region_add(h.system_memory(), *want, r, 1);
        f.mapped[n] = want;
    }
}

// ---- ECAM ---------------------------------------------------------------------

uint64_t Gpex::read(uint64_t offset, unsigned size) {
    const unsigned bus = static_cast<unsigned>(offset >> 20), devfn = (offset >> 12) & 0xff, reg = offset & 0xfff;
    Function *f = bus == 0 ? at(devfn) : nullptr;
    if (!f) return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;  // no device: all ones
    if (size == 8) return f->cfg.read(reg, 4) | uint64_t(f->cfg.read(reg + 4, 4)) << 32;
    return f->cfg.read(reg, size);
}

void Gpex::write(uint64_t offset, unsigned size, uint64_t value) {
    const unsigned bus = static_cast<unsigned>(offset >> 20), devfn = (offset >> 12) & 0xff, reg = offset & 0xfff;
    Function *f = bus == 0 ? at(devfn) : nullptr;
    if (!f) return;
    if (size == 8) {
        write(offset, 4, value & 0xffffffff);
        write(offset + 4, 4, value >> 32);
        return;
    }
    f->cfg.write(reg, size, static_cast<uint32_t>(value));
    if (reg < kBar0 + 4 * kNumBars && reg + size > kCommand) {
        remap(*f);
        update_intx();  // INTx disable may have changed
    }
    f->config_written(reg, size);
}

// ---- lifecycle ------------------------------------------------------------------

void Gpex::realize() {
    mmio32_base_ = prop_uint("mmio32-base");
    mmio32_size_ = prop_uint("mmio32-size");
    mmio64_base_ = prop_uint("mmio64-base");
    mmio64_size_ = prop_uint("mmio64-size");
    pio_base_ = prop_uint("pio-base");
    pio_size_ = prop_uint("pio-size");
    static constexpr ts_mmio_ops kEcamOps = ts::mmio_ops<Gpex>(1, 8);
    add_mmio("pcie-ecam", prop_uint("ecam-size"), kEcamOps, this);
    irqs_ = ts::gpio_out(object(), "irq", 4);
    ts_error err{};
    if (ts::host().bus_add(object(), "pci-bus", "pcie.0", &err) != TS_OK) throw ts::Error(err.message);
    // Red Hat's generic PCIe host bridge ids, as the reference.
    root_.cfg.set_ids(0x1b36, 0x0008, 0, 0x060000, 0x1af4, 0x1100);
    root_.bus = this;
    fns_[0] = &root_;
}

void Gpex::pre_save() {
    auto raw = root_.cfg.raw();
    std::copy(raw.begin(), raw.end(), s.root_config);
}

void Gpex::post_load() {
    root_.cfg.load_raw(std::span<const uint8_t, kConfigSize>(s.root_config));
    update_intx();
}

void Gpex::reset() {
    for (Function *f : fns_)
        if (f) {
            f->cfg.reset();
            remap(*f);
        }
    update_intx();
}

unsigned parse_devfn(std::string_view addr) {
    auto num = [&](std::string_view s, unsigned max) {
        unsigned v = 0;
        if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > max)
            throw ts::Error("Property 'addr' expects SLOT[.FN] with slot 0..1f and function 0..7 (got '" +
                            std::string(addr) + "')");
        return v;
    };
    size_t dot = addr.find('.');
    unsigned slot = num(addr.substr(0, dot), 31);
    unsigned fn = dot == std::string_view::npos ? 0 : num(addr.substr(dot + 1), 7);
    return slot << 3 | fn;
}

void Gpex::plug(ts_object *child) {
    Function *f = as_function(child);
    if (!f) throw ts::Error("not a PCI device of this plugin");
    const char *addr = ts::host().prop_get_str(child, "addr");
    unsigned devfn = 0;
    if (addr && *addr) {
        devfn = parse_devfn(addr);
        if (fns_[devfn])
            throw ts::Error("PCI: slot " + std::to_string(devfn >> 3) + " function " + std::to_string(devfn & 7) +
                            " not available for " + f->name() + ", in use by " + fns_[devfn]->name());
    } else {
        // First free slot, as the reference: function 0 of slots 1..31.
        for (devfn = 8; devfn < 256 && fns_[devfn]; devfn += 8) {}
        if (devfn >= 256) throw ts::Error("PCI: no slot/function available for " + std::string(f->name()) + ", all in use");
    }
    fns_[devfn] = f;
    f->bus = this;
    f->devfn = devfn;
}

void Gpex::unplug(ts_object *child) {
    Function *f = as_function(child);
    for (auto &p : fns_)
        if (p == f) p = nullptr;
}

// ---- MSI-X ---------------------------------------------------------------------

void Msix::init(ConfigSpace &cfg, unsigned vectors, unsigned bar, uint32_t table_off, uint32_t pba_off) {
    cfg_ = &cfg;
    cap_ = cfg.add_capability(0x11, 12);
    cfg.set_raw(cap_ + 2, 2, vectors - 1);
    cfg.set_raw(cap_ + 4, 4, table_off | bar);
    cfg.set_raw(cap_ + 8, 4, pba_off | bar);
    cfg.set_writable(cap_ + 3, 1, 0xc0);  // enable, function mask
    table_off_ = table_off;
    pba_off_ = pba_off;
    table_.assign(16ull * vectors, 0);
    pba_.assign((vectors + 63) / 64, 0);
    reset();
}

void Msix::reset() {
    std::fill(table_.begin(), table_.end(), 0);
    for (size_t v = 0; v < table_.size() / 16; v++) table_[v * 16 + 12] = 1;  // vector control: masked
    std::fill(pba_.begin(), pba_.end(), 0);
}

bool Msix::enabled() const { return cfg_ && (cfg_->read(cap_ + 3, 1) & 0x80); }

bool Msix::masked(unsigned v) const { return (cfg_->read(cap_ + 3, 1) & 0x40) || (table_[v * 16 + 12] & 1); }

void Msix::notify(unsigned v) {
    if (!enabled() || v >= vectors()) return;
    if (masked(v)) {
        pba_[v / 64] |= 1ull << (v % 64);
        return;
    }
    uint64_t addr = 0;
    uint32_t data = 0;
    for (int i = 0; i < 8; i++) addr |= uint64_t(table_[v * 16 + i]) << (8 * i);
    for (int i = 0; i < 4; i++) data |= uint32_t(table_[v * 16 + 8 + i]) << (8 * i);
    // Without an MSI controller at addr this write decodes to nothing.
    ts::host().as_rw(ts::host().system_as(), addr, &data, 4, 1);
}

void Msix::save(std::span<uint8_t> table, std::span<uint64_t> pba) const {
    std::fill(table.begin(), table.end(), 0);
    std::fill(pba.begin(), pba.end(), 0);
    std::copy_n(table_.begin(), std::min(table.size(), table_.size()), table.begin());
    std::copy_n(pba_.begin(), std::min(pba.size(), pba_.size()), pba.begin());
}

void Msix::load(std::span<const uint8_t> table, std::span<const uint64_t> pba) {
    std::copy_n(table.begin(), std::min(table.size(), table_.size()), table_.begin());
    std::copy_n(pba.begin(), std::min(pba.size(), pba_.size()), pba_.begin());
}

uint64_t Msix::read(uint64_t off, unsigned size) const {
    uint64_t v = 0;
    if (off >= table_off_ && off + size <= table_off_ + table_.size()) {
        for (unsigned i = 0; i < size; i++) v |= uint64_t(table_[off - table_off_ + i]) << (8 * i);
    } else if (off >= pba_off_ && off + size <= pba_off_ + 8 * pba_.size()) {
        const uint64_t o = off - pba_off_;
        for (unsigned i = 0; i < size; i++) v |= ((pba_[(o + i) / 8] >> (8 * ((o + i) % 8))) & 0xff) << (8 * i);
    }
    return v;
}

void Msix::write(uint64_t off, unsigned size, uint64_t value) {
    if (off < table_off_ || off + size > table_off_ + table_.size()) return;  // PBA is read-only
    for (unsigned i = 0; i < size; i++) table_[off - table_off_ + i] = static_cast<uint8_t>(value >> (8 * i));
    // Unmasking a vector with a pending message sends it.
    const unsigned v = static_cast<unsigned>((off - table_off_) / 16);
    if (v < vectors() && !masked(v) && (pba_[v / 64] >> (v % 64) & 1)) {
        pba_[v / 64] &= ~(1ull << (v % 64));
        notify(v);
    }
}

}  // namespace pci
