// net-tap.so: the `tap` netdev, a Linux TAP interface (/dev/net/tun):
// ifname=, fd=, script=/downscript= (the reference's defaults
// /etc/qemu-ifup and /etc/qemu-ifdown; "no" runs none), vnet_hdr=.
//
// With IFF_VNET_HDR (vnet_hdr=on, or by default when the kernel has it) every
// frame on the tap starts with a 12-byte virtio_net_hdr. Linked directly to a
// NIC that takes such frames (virtio-net), the headers pass through unchanged
// and the tap gets the offloads (TUNSETOFFLOAD: checksum, TSO4/6), so 64 KiB
// GSO frames cross in one piece; otherwise the tap adds and strips empty
// headers itself and leaves offloads off.
#include "../netdev.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace net {
namespace {

constexpr size_t kVnetHdr = 12;
constexpr size_t kMaxFrame = kVnetHdr + 18 + 65535;  // a GSO frame: 64 KiB IP behind a VLAN tag
constexpr unsigned kOffloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

// Runs `script ifname` and waits; throws if it fails.
void run_script(const std::string &script, const std::string &ifname) {
    pid_t pid = fork();
    if (pid < 0) throw ts::Error("could not launch network script " + script + ": " + std::strerror(errno));
    if (pid == 0) {
        execl(script.c_str(), script.c_str(), ifname.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        throw ts::Error("network script " + script + " failed with status " + std::to_string(st));
}

class Tap : public Backend {
public:
    static constexpr const char *type_name = "tap";
    explicit Tap(ts_object *o) : Backend(o) {}
    ~Tap() {
        if (fd_ < 0) return;
        ts::host().fd_set_handler(fd_, nullptr, nullptr, nullptr);
        if (!downscript_.empty()) {
            try {
                run_script(downscript_, ifname_);
            } catch (const std::exception &e) {
                ts::host().error_report("%s", e.what());
            }
        }
        ::close(fd_);
    }

    void realize() {
        const std::string vnet(str("vnet_hdr"));
        if (vnet == "on" || vnet == "yes" || vnet == "true") vnet_want_ = Want::On;
        else if (vnet == "off" || vnet == "no" || vnet == "false") vnet_want_ = Want::Off;
        else if (!vnet.empty()) throw ts::Error("Parameter 'vnet_hdr' expects 'on' or 'off'");
        if (flag("vhost")) throw ts::Error("vhost=on: vhost-net is not available in tessera");
        if (!str("br").empty()) throw ts::Error("br=: the bridge helper is not available in tessera");
        if (auto fd = str("fd"); !fd.empty()) {
            fd_ = ::dup(std::stoi(std::string(fd)));
            if (fd_ < 0) throw ts::Error("fd=" + std::string(fd) + " is not open");
            ifname_ = "fd" + std::string(fd);
            // The opener chose IFF_VNET_HDR; follow it.
            ifreq ifr{};
            if (::ioctl(fd_, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR)) use_vnet_header();
            if (vnet_want_ == Want::On && !has_vnet_)
                throw ts::Error("vnet_hdr=on: tap fd=" + std::string(fd) + " was opened without IFF_VNET_HDR");
        } else {
            open_tap();
            const std::string script(str("script"));
            if (script != "no" && !script.empty()) run_script(script, ifname_);
            const std::string down(str("downscript"));
            if (down != "no" && !down.empty()) downscript_ = down;
        }
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
        ts::host().fd_set_handler(fd_, [](void *o, int) { static_cast<Tap *>(o)->readable(); }, nullptr, this);
        set_info("ifname=" + ifname_ + ",script=" + std::string(str("script")) + ",downscript=" +
                 std::string(str("downscript")));
    }

    void receive(std::span<const uint8_t> frame) {
        // A plain frame on a vnet tap gets an empty header (no offloads).
        static const std::array<uint8_t, kVnetHdr> kNoHdr{};
        iovec iov[2] = {{const_cast<uint8_t *>(kNoHdr.data()), kNoHdr.size()},
                        {const_cast<uint8_t *>(frame.data()), frame.size()}};
        const bool add = has_vnet_ && !link_vnet_;
        // A full tap queue drops the frame, as a busy wire would.
        if (::writev(fd_, add ? iov : iov + 1, add ? 2 : 1) < 0 && errno != EAGAIN)
            ts::guest_error("tap %s: write: %s", ifname_.c_str(), std::strerror(errno));
    }

    // net.h set_vnet: the NIC takes headers (and GSO frames) as they are.
    bool vnet_capable() const { return has_vnet_ && vnet_want_ != Want::Off; }
    void set_vnet(bool on) {
        link_vnet_ = on && has_vnet_;
        if (!link_vnet_) {
            ::ioctl(fd_, TUNSETOFFLOAD, 0u);
            return;
        }
        // Older kernels may lack TSO6: fall back to less.
        constexpr std::array<unsigned, 3> kTry = {kOffloads, TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM};
        for (unsigned off : kTry)
            if (::ioctl(fd_, TUNSETOFFLOAD, off) == 0) return;
    }

private:
    void open_tap() {
        int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            throw ts::Error(std::string("could not open /dev/net/tun: ") + std::strerror(errno) +
                            " (tap needs the tun module and CAP_NET_ADMIN)");
        ifreq ifr{};
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        unsigned features = 0;
        const bool kernel_vnet = ::ioctl(fd, TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR);
        if (vnet_want_ == Want::On && !kernel_vnet) {
            ::close(fd);
            throw ts::Error("vnet_hdr=on: this kernel's tap has no IFF_VNET_HDR");
        }
        if (vnet_want_ != Want::Off && kernel_vnet) ifr.ifr_flags |= IFF_VNET_HDR;
        const std::string want(str("ifname"));
        if (want.size() >= IFNAMSIZ) {
            ::close(fd);
            throw ts::Error("ifname '" + want + "' is too long");
        }
        std::strncpy(ifr.ifr_name, want.c_str(), IFNAMSIZ - 1);
        if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
            const int e = errno;
            ::close(fd);
            throw ts::Error("could not configure /dev/net/tun (" + (want.empty() ? std::string("tap%d") : want) +
                            "): " + std::strerror(e));
        }
        fd_ = fd;
        ifname_ = ifr.ifr_name;
        if (ifr.ifr_flags & IFF_VNET_HDR) use_vnet_header();
    }

    // 12-byte headers (the virtio 1.x size; the tap's default is 10), no
    // offloads until a NIC takes them.
    void use_vnet_header() {
        int size = static_cast<int>(kVnetHdr);
        if (::ioctl(fd_, TUNSETVNETHDRSZ, &size) != 0)
            throw ts::Error("tap " + ifname_ + ": cannot set the vnet header size: " + std::strerror(errno));
        ::ioctl(fd_, TUNSETOFFLOAD, 0u);
        has_vnet_ = true;
    }

    void readable() {
        buf_.resize(kMaxFrame);
        for (int i = 0; i < 64; i++) {  // bounded work per wake-up
            ssize_t n = ::read(fd_, buf_.data(), buf_.size());
            if (n <= 0) return;
            std::span<const uint8_t> f(buf_.data(), static_cast<size_t>(n));
            if (has_vnet_ && !link_vnet_) {  // offloads are off: the header says nothing
                if (f.size() <= kVnetHdr) continue;
                f = f.subspan(kVnetHdr);
            }
            send(f);
        }
    }

    enum class Want { Auto, On, Off };
    int fd_ = -1;
    std::string ifname_, downscript_;
    Want vnet_want_ = Want::Auto;
    bool has_vnet_ = false;   // frames on the fd carry a 12-byte header
    bool link_vnet_ = false;  // and the NIC takes them as they are
    std::vector<uint8_t> buf_;
};

constexpr ts_prop_decl kProps[] = {
    ts::prop_str("ifname", nullptr, "interface name (default: the kernel picks tapN)"),
    ts::prop_str("fd", nullptr, "an already opened tap file descriptor"),
    ts::prop_str("script", "/etc/qemu-ifup", "run with the interface name after creation ('no': none)"),
    ts::prop_str("downscript", "/etc/qemu-ifdown", "run with the interface name at exit ('no': none)"),
    ts::prop_str("br", nullptr, "bridge for the helper (not available in tessera)"),
    ts::prop_bool("vhost", "off", "vhost-net (not available in tessera)"),
    ts::prop_str("vnet_hdr", nullptr, "on|off: virtio-net headers and offloads (default: on if the kernel has them)"),
};
const ts_netdev_class kTapClass = netdev_class<Tap>(kProps);
const void *get_class(const char *name) { return name && std::strcmp(name, "tap") == 0 ? &kTapClass : nullptr; }

}  // namespace
}  // namespace net

TESSERA_PLUGIN("net-tap", "0.1.0", "type netdev tap - - a host TAP interface (/dev/net/tun)\n", net::get_class);
