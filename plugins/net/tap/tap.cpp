// net-tap.so: the `tap` netdev, a Linux TAP interface (/dev/net/tun):
// ifname=, fd=, script=/downscript= (the reference's defaults
// /etc/qemu-ifup and /etc/qemu-ifdown; "no" runs none). Frames go through
// without a vnet header (no offloads are negotiated).
#include "../netdev.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace net {
namespace {

constexpr size_t kMaxFrame = 65536 + 14;

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
        if (flag("vhost")) throw ts::Error("vhost=on: vhost-net is not available in tessera");
        if (!str("br").empty()) throw ts::Error("br=: the bridge helper is not available in tessera");
        if (auto fd = str("fd"); !fd.empty()) {
            fd_ = ::dup(std::stoi(std::string(fd)));
            if (fd_ < 0) throw ts::Error("fd=" + std::string(fd) + " is not open");
            ifname_ = "fd" + std::string(fd);
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
        // A full tap queue drops the frame, as a busy wire would.
        if (::write(fd_, frame.data(), frame.size()) < 0 && errno != EAGAIN)
            ts::guest_error("tap %s: write: %s", ifname_.c_str(), std::strerror(errno));
    }

private:
    void open_tap() {
        int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            throw ts::Error(std::string("could not open /dev/net/tun: ") + std::strerror(errno) +
                            " (tap needs the tun module and CAP_NET_ADMIN)");
        ifreq ifr{};
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
    }

    void readable() {
        uint8_t buf[kMaxFrame];
        for (int i = 0; i < 64; i++) {  // bounded work per wake-up
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) return;
            send(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        }
    }

    int fd_ = -1;
    std::string ifname_, downscript_;
};

constexpr ts_prop_decl kProps[] = {
    ts::prop_str("ifname", nullptr, "interface name (default: the kernel picks tapN)"),
    ts::prop_str("fd", nullptr, "an already opened tap file descriptor"),
    ts::prop_str("script", "/etc/qemu-ifup", "run with the interface name after creation ('no': none)"),
    ts::prop_str("downscript", "/etc/qemu-ifdown", "run with the interface name at exit ('no': none)"),
    ts::prop_str("br", nullptr, "bridge for the helper (not available in tessera)"),
    ts::prop_bool("vhost", "off", "vhost-net (not available in tessera)"),
};
const ts_netdev_class kTapClass = netdev_class<Tap>(kProps);
const void *get_class(const char *name) { return name && std::strcmp(name, "tap") == 0 ? &kTapClass : nullptr; }

}  // namespace
}  // namespace net

TESSERA_PLUGIN("net-tap", "0.1.0", "type netdev tap - - a host TAP interface (/dev/net/tun)\n", net::get_class);
