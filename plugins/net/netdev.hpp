// Shared helpers of the netdev plugins: the class adapter from a C++ backend
// type to ts_netdev_class, property readers and the send path to the guest.
//
//   struct User : net::Backend {
//       static constexpr const char *type_name = "user";
//       explicit User(ts_object *o) : Backend(o) {}
//       void realize();                                 // throws ts::Error
//       void receive(std::span<const uint8_t> frame);   // a frame from the guest
//   };
//   const ts_netdev_class user_class = net::netdev_class<User>(props);
#pragma once

#include <tessera/classes.h>
#include <tessera/sdk/device.hpp>

#include <concepts>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace net {

class Backend {
public:
    explicit Backend(ts_object *obj) : obj_(obj) {}
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;

    ts_object *object() const { return obj_; }
    // The netdev's id (its name under /netdevs).
    const char *id() const {
        const char *p = ts::host().object_path(obj_);
        if (!p) return "?";
        const char *slash = std::strrchr(p, '/');
        return slash ? slash + 1 : p;
    }
    std::string_view str(const char *name) const {
        const char *s = ts::host().prop_get_str(obj_, name);
        return s ? std::string_view(s) : std::string_view();
    }
    bool flag(const char *name) const {
        int v = 0;
        return ts::host().prop_get_bool(obj_, name, &v) == TS_OK && v;
    }
    // Repeated options (hostfwd=a,hostfwd=b) arrive newline-separated.
    std::vector<std::string> list(const char *name) const {
        std::vector<std::string> out;
        std::string_view s = str(name);
        while (!s.empty()) {
            size_t nl = s.find('\n');
            if (nl) out.emplace_back(s.substr(0, nl));
            s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
        }
        return out;
    }

    // A frame for the guest; false if the link dropped it.
    bool send(std::span<const uint8_t> frame) {
        if (!nc_) nc_ = ts::host().net_backend_client(obj_);
        return nc_ && ts::host().net_send(nc_, frame.data(), frame.size()) == TS_OK;
    }
    void set_info(const std::string &info) {
        if (!nc_) nc_ = ts::host().net_backend_client(obj_);
        if (nc_) ts::host().net_set_info(nc_, info.c_str());
    }

private:
    ts_object *obj_;
    ts_net_client *nc_ = nullptr;
};

namespace detail {
template <class T> concept HasRealize = requires(T &t) { t.realize(); };
// A backend that can carry virtio-net headers (net.h set_vnet).
template <class T> concept HasVnet = requires(T &t) {
    { t.vnet_capable() } -> std::convertible_to<bool>;
    t.set_vnet(true);
};
}

template <class T>
constexpr ts_netdev_class netdev_class(std::span<const ts_prop_decl> props) {
    ts_object_class base{};
    base.size = sizeof(ts_object_class);
    base.props = props.data();
    base.prop_count = static_cast<uint32_t>(props.size());
    base.state = TS_STATE_NONE;  // host-side: nothing the guest sees
    base.create = [](ts_object *obj, ts_error *err) -> void * {
        T *p = nullptr;
        ts::guarded(err, [&] { p = std::make_unique<T>(obj).release(); });
        return p;
    };
    base.realize = [](void *self, ts_error *err) -> ts_status {
        if constexpr (detail::HasRealize<T>) return ts::guarded(err, [&] { static_cast<T *>(self)->realize(); });
        else return TS_OK;
    };
    base.destroy = [](void *self) { std::unique_ptr<T>{static_cast<T *>(self)}; };
    base.state_base = [](void *self) -> void * { return self; };
    ts_netdev_class c{};
    c.size = sizeof(ts_netdev_class);
    c.base = base;
    c.receive = [](void *self, const uint8_t *frame, size_t len) -> int64_t {
        int64_t r = static_cast<int64_t>(len);
        ts::guarded(nullptr, [&] { static_cast<T *>(self)->receive(std::span<const uint8_t>(frame, len)); });
        return r;
    };
    if constexpr (detail::HasVnet<T>) {
        c.vnet_capable = [](void *self) -> int {
            int r = 0;
            ts::guarded(nullptr, [&] { r = static_cast<T *>(self)->vnet_capable(); });
            return r;
        };
        c.set_vnet = [](void *self, int on) {
            ts::guarded(nullptr, [&] { static_cast<T *>(self)->set_vnet(on != 0); });
        };
    }
    return c;
}

}  // namespace net
