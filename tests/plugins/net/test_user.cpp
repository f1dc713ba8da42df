// net-user.so (libslirp) through the fake host: ARP and DHCP answered by the
// user network stack, hostfwd rules, option errors.
#include "../devices/device_test.hpp"

#include <tessera/classes.h>

#include <arpa/inet.h>

#include <cstring>

namespace {

std::vector<std::vector<uint8_t>> g_to_guest;
std::string g_info;

class UserNet : public DeviceTest {
protected:
    void SetUp() override {
        if (std::string(PLUGIN_NET_USER).empty()) GTEST_SKIP() << "net-user.so not built (no libslirp)";
        load(PLUGIN_NET_USER);
        auto *h = const_cast<ts_host *>(host->table());  // the fake's own table
        g_to_guest.clear();
        g_info.clear();
        h->net_backend_client = [](ts_object *) { return reinterpret_cast<ts_net_client *>(&g_to_guest); };
        h->net_send = [](ts_net_client *, const uint8_t *f, size_t len) {
            g_to_guest.emplace_back(f, f + len);
            return TS_OK;
        };
        h->net_set_info = [](ts_net_client *, const char *i) { g_info = i; };
        h->fd_set_handler = [](int, ts_fd_cb, ts_fd_cb, void *) {};
    }
    void from_guest(ts_object *o, const std::vector<uint8_t> &f) {
        auto *nc = reinterpret_cast<const ts_netdev_class *>(o->cls);
        nc->receive(o->instance, f.data(), f.size());
    }
};

const uint8_t kGuestMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

void put16(std::vector<uint8_t> &b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}
uint16_t get16(const std::vector<uint8_t> &b, size_t off) { return static_cast<uint16_t>(b[off] << 8 | b[off + 1]); }

std::vector<uint8_t> arp_request(const char *target) {
    std::vector<uint8_t> f(42, 0);
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, kGuestMac, 6);
    put16(f, 12, 0x0806);
    put16(f, 14, 1);       // ethernet
    put16(f, 16, 0x0800);  // IPv4
    f[18] = 6;
    f[19] = 4;
    put16(f, 20, 1);  // request
    std::memcpy(f.data() + 22, kGuestMac, 6);
    inet_pton(AF_INET, "10.0.2.15", f.data() + 28);
    inet_pton(AF_INET, target, f.data() + 38);
    return f;
}

// Ethernet + IPv4 + UDP 68->67 + BOOTP DHCPDISCOVER.
std::vector<uint8_t> dhcp_discover() {
    const size_t bootp = 240 + 4;  // fixed part + cookie-less options: 53=1, end
    std::vector<uint8_t> f(14 + 20 + 8 + bootp, 0);
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, kGuestMac, 6);
    put16(f, 12, 0x0800);
    uint8_t *ip = f.data() + 14;
    ip[0] = 0x45;
    put16(f, 16, static_cast<uint16_t>(20 + 8 + bootp));
    ip[8] = 64;
    ip[9] = 17;
    std::memset(ip + 16, 0xff, 4);  // to 255.255.255.255 from 0.0.0.0
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += ip[i] << 8 | ip[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    put16(f, 24, static_cast<uint16_t>(~sum));
    put16(f, 34, 68);
    put16(f, 36, 67);
    put16(f, 38, static_cast<uint16_t>(8 + bootp));  // UDP checksum 0: none
    uint8_t *b = f.data() + 42;
    b[0] = 1;  // BOOTREQUEST
    b[1] = 1;
    b[2] = 6;
    b[4] = 0x12;  // xid
    std::memcpy(b + 28, kGuestMac, 6);
    const uint8_t cookie[4] = {99, 130, 83, 99};
    std::memcpy(b + 236, cookie, 4);
    b[240] = 53;
    b[241] = 1;
    b[242] = 1;  // DISCOVER
    b[243] = 255;
    return f;
}

TEST_F(UserNet, AnswersArpForTheHostAddress) {
    ts_object *o = plugin->create("user");
    EXPECT_EQ(g_info, "net=10.0.2.0,restrict=off");
    from_guest(o, arp_request("10.0.2.2"));
    ASSERT_EQ(g_to_guest.size(), 1u);
    const auto &r = g_to_guest[0];
    EXPECT_EQ(get16(r, 12), 0x0806);
    EXPECT_EQ(get16(r, 20), 2) << "ARP reply";
    EXPECT_EQ(0, std::memcmp(r.data(), kGuestMac, 6));
    char ip[16];
    inet_ntop(AF_INET, r.data() + 28, ip, sizeof ip);
    EXPECT_STREQ(ip, "10.0.2.2");
}

TEST_F(UserNet, DhcpOffersTheFirstAddressOfTheConfiguredNetwork) {
    ts_object *o = plugin->create("user", {{"net", "192.168.50.0/24"}, {"dhcpstart", "192.168.50.100"}});
    from_guest(o, dhcp_discover());
    ASSERT_FALSE(g_to_guest.empty());
    const auto &r = g_to_guest.back();
    ASSERT_GE(r.size(), 42u + 240);
    EXPECT_EQ(get16(r, 12), 0x0800);
    EXPECT_EQ(get16(r, 34), 67) << "from the DHCP server port";
    char ip[16];
    inet_ntop(AF_INET, r.data() + 42 + 16, ip, sizeof ip);  // yiaddr
    EXPECT_STREQ(ip, "192.168.50.100");
    // Option 53 (message type) says OFFER.
    bool offer = false;
    for (size_t i = 42 + 240; i + 2 < r.size() && r[i] != 255; i += 2 + r[i + 1])
        if (r[i] == 53) offer = r[i + 2] == 2;
    EXPECT_TRUE(offer);
}

TEST_F(UserNet, BadOptionsAreOneLineErrors) {
    EXPECT_NE(plugin->try_create("user", {{"net", "10.0.2.0/33"}}, nullptr).find("prefix"), std::string::npos);
    EXPECT_NE(plugin->try_create("user", {{"dns", "10.9.9.9"}}, nullptr).find("guest network"), std::string::npos);
    EXPECT_NE(plugin->try_create("user", {{"hostfwd", "tcp::notaport-:22"}}, nullptr).find("invalid port"),
              std::string::npos);
    EXPECT_NE(plugin->try_create("user", {{"guestfwd", "tcp:10.0.2.100:80-chardev"}}, nullptr).find("cmd:"),
              std::string::npos);
    EXPECT_EQ(plugin->try_create("user", {{"hostfwd", "tcp:127.0.0.1:0-:22\nudp::0-:53"}}, nullptr), "")
        << "two rules, newline-separated as the kernel passes repeated options";
}

}  // namespace
