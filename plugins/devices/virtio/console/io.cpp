#include "console.hpp"

#include <algorithm>
#include <vector>

namespace virtio {

void VirtConsole::realize() {
    uint64_t nr = prop_uint("nr");
    if (nr != 0 && nr != 0xffffffff) throw ts::Error("virtconsole: only port 0 exists (no multiport yet)");
    chr.attach(this, "chardev");
}

size_t VirtConsole::can_receive() { return serial ? serial->can_receive() : 0; }
void VirtConsole::receive(std::span<const uint8_t> data) {
    if (serial) serial->receive(data);
}

void VirtSerial::realize() {
    ts_error err{};
    std::string bus = std::string(path()) + ".0";
    if (ts::host().bus_add(object(), "virtio-serial-bus", bus.c_str(), &err) != TS_OK) throw ts::Error(err.message);
}

void VirtSerial::plug(ts_object *child) {
    if (std::string_view(ts::host().object_type(child)) != VirtConsole::type_name)
        throw ts::Error(std::string(ts::host().object_type(child)) + " cannot plug into virtio-serial-bus");
    if (port_) throw ts::Error("virtio-serial-device supports one console port (no multiport yet)");
    port_ = static_cast<VirtConsole *>(ts::host().object_instance(child));
    port_->serial = this;
}

void VirtSerial::unplug(ts_object *child) {
    if (port_ && ts::host().object_instance(child) == port_) {
        port_->serial = nullptr;
        port_ = nullptr;
    }
}

// Bytes the guest can take now: the rest of the held buffer, or the next one.
size_t VirtSerial::can_receive() {
    if (!transport_ || !transport_->driver_ok() || (transport_->queue(kRx).ready() == false)) return 0;
    if (!rx_) {
        try {
            rx_ = transport_->queue(kRx).pop();
        } catch (const GuestError &e) {
            transport_->needs_reset(e.what());
            return 0;
        }
    }
    return rx_ ? static_cast<size_t>(std::min<uint64_t>(rx_->in_len, SIZE_MAX)) : 0;
}

void VirtSerial::receive(std::span<const uint8_t> data) {
    while (!data.empty() && can_receive()) {
        size_t n = std::min<size_t>(data.size(), static_cast<size_t>(rx_->in_len));
        try {
            rx_->write(0, data.first(n));
            transport_->queue(kRx).push(*rx_, static_cast<uint32_t>(n));
        } catch (const GuestError &e) {
            rx_.reset();
            transport_->needs_reset(e.what());
            return;
        }
        rx_.reset();
        transport_->notify_used(kRx);
        data = data.subspan(n);
    }
    if (!data.empty()) ts::guest_error("%s: %zu input bytes dropped, no receive buffers", path(), data.size());
}

uint32_t VirtSerial::transmit(const Chain &c) {
    std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(c.out_len, 4096)));
    for (uint64_t done = 0; done < c.out_len;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(c.out_len - done, buf.size()));
        c.read(done, std::span<uint8_t>(buf.data(), n));
        if (port_) port_->chr.write(std::span<const uint8_t>(buf.data(), n));
        done += n;
    }
    return 0;
}

void VirtSerial::handle_queue(unsigned index) {
    if (index == kTx) drain(kTx, [this](const Chain &c) { return transmit(c); });
    else if (index == kRx && port_) port_->chr.accept_input();  // new receive buffers
}

void VirtSerial::driver_ready() {
    if (port_) port_->chr.accept_input();
}

}  // namespace virtio
