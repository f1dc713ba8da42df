#include "net/net.hpp"
#include "net/pcap.hpp"
#include "options/error.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

using namespace tessera::net;

namespace {

struct NetTest : ::testing::Test {
    void TearDown() override { clients_clear(); }
};

std::vector<uint8_t> frame(uint8_t tag, size_t len = 60) {
    std::vector<uint8_t> f(len, tag);
    return f;
}

// A NIC-like client that records what it gets and can refuse.
struct Sink {
    std::vector<std::vector<uint8_t>> got;
    bool ready = true;
    void attach(Client &c) {
        c.can_receive = [this] { return ready; };
        c.receive = [this](std::span<const uint8_t> f) { got.emplace_back(f.begin(), f.end()); };
    }
};

TEST_F(NetTest, PeersExchangeFramesBothWays) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    Client &nic = client_new(ClientKind::Nic, "nic0", "virtio-net-device");
    Sink a, b;
    a.attach(nd);
    b.attach(nic);
    connect(nic, nd);
    auto f1 = frame(1), f2 = frame(2, 100);
    EXPECT_TRUE(send(nic, f1));
    EXPECT_TRUE(send(nd, f2));
    ASSERT_EQ(a.got.size(), 1u);
    ASSERT_EQ(b.got.size(), 1u);
    EXPECT_EQ(a.got[0], f1);
    EXPECT_EQ(b.got[0], f2);
    EXPECT_EQ(nic.tx_frames, 1u);
    EXPECT_EQ(nic.rx_frames, 1u);
}

TEST_F(NetTest, DuplicateNetdevIdAndSecondPeerAreRefused) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    EXPECT_THROW(client_new(ClientKind::Netdev, "n0", "user"), tessera::UsageError);
    Client &a = client_new(ClientKind::Nic, "a", "nic");
    Client &b = client_new(ClientKind::Nic, "b", "nic");
    connect(a, nd);
    EXPECT_THROW(connect(b, nd), tessera::UsageError);
}

TEST_F(NetTest, FramesQueueWhileReceiverIsBusyAndFlushInOrder) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    Client &nic = client_new(ClientKind::Nic, "nic0", "x");
    Sink s;
    s.attach(nic);
    connect(nic, nd);
    s.ready = false;
    send(nd, frame(1));
    send(nd, frame(2));
    EXPECT_TRUE(s.got.empty());
    EXPECT_EQ(nic.queue.size(), 2u);
    s.ready = true;
    // A new frame must not overtake the queued ones.
    send(nd, frame(3));
    EXPECT_TRUE(s.got.empty());
    flush(nic);
    ASSERT_EQ(s.got.size(), 3u);
    EXPECT_EQ(s.got[0][0], 1);
    EXPECT_EQ(s.got[2][0], 3);
}

TEST_F(NetTest, QueueIsBounded) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    Client &nic = client_new(ClientKind::Nic, "nic0", "x");
    Sink s;
    s.attach(nic);
    s.ready = false;
    connect(nic, nd);
    for (size_t i = 0; i < kQueueLimit + 5; i++) send(nd, frame(1));
    EXPECT_EQ(nic.queue.size(), kQueueLimit);
    EXPECT_EQ(nic.dropped, 5u);
}

TEST_F(NetTest, LinkDownDropsAndNotifiesBothEnds) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    Client &nic = client_new(ClientKind::Nic, "nic0", "x");
    Sink s;
    s.attach(nic);
    connect(nic, nd);
    int changes = 0;
    nic.link_changed = [&](bool up) { changes += up ? 10 : 1; };
    set_link("nic0", false);
    EXPECT_FALSE(nic.link_up);
    EXPECT_FALSE(nd.link_up);
    EXPECT_EQ(changes, 1);
    EXPECT_FALSE(send(nd, frame(1)));
    EXPECT_TRUE(s.got.empty());
    set_link("n0", true);
    EXPECT_EQ(changes, 11);
    EXPECT_TRUE(send(nd, frame(1)));
    EXPECT_EQ(s.got.size(), 1u);
    EXPECT_THROW(set_link("nope", true), tessera::UsageError);
}

TEST_F(NetTest, HubForwardsToEveryOtherPort) {
    // -net nic -net nic -net user: two NICs and a backend on hub 0.
    Sink n1, n2, be;
    Client &p0 = hub_add_port(0);
    Client &p1 = hub_add_port(0);
    Client &p2 = hub_add_port(0);
    EXPECT_EQ(p2.name, "hub0port2");
    Client &a = client_new(ClientKind::Nic, "a", "nic");
    Client &b = client_new(ClientKind::Nic, "b", "nic");
    Client &u = client_new(ClientKind::Netdev, "u", "user");
    n1.attach(a);
    n2.attach(b);
    be.attach(u);
    connect(a, p0);
    connect(b, p1);
    connect(u, p2);
    send(a, frame(7));
    EXPECT_TRUE(n1.got.empty());
    EXPECT_EQ(n2.got.size(), 1u);
    EXPECT_EQ(be.got.size(), 1u);
    send(u, frame(8));
    EXPECT_EQ(n1.got.size(), 1u);
    EXPECT_EQ(n2.got.size(), 2u);
    EXPECT_EQ(be.got.size(), 1u);
    std::string info = info_text();
    EXPECT_NE(info.find("hub 0\n"), std::string::npos) << info;
    EXPECT_NE(info.find(" \\ hub0port2: u: index=0,type=user"), std::string::npos) << info;
}

TEST_F(NetTest, NoPeerDrops) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    EXPECT_FALSE(send(nd, frame(1)));
    EXPECT_EQ(nd.dropped, 1u);
}

TEST_F(NetTest, InfoShowsNicWithPeer) {
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    nd.info = "net=10.0.2.0,restrict=off";
    Client &nic = client_new(ClientKind::Nic, "nic0", "virtio-net-device");
    nic.info = "macaddr=52:54:00:12:34:56";
    connect(nic, nd);
    EXPECT_EQ(info_text(),
              "nic0: index=0,type=virtio-net-device,macaddr=52:54:00:12:34:56\n"
              " \\ n0: index=0,type=user,net=10.0.2.0,restrict=off\n");
}

std::vector<uint8_t> slurp(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}
uint32_t rd32(const std::vector<uint8_t> &b, size_t off) {
    uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
}

TEST_F(NetTest, PcapHeaderAndRecords) {
    const std::string path = std::string(TEST_TMPDIR) + "/t.pcap";
    {
        PcapWriter w(path, 64);
        w.write(frame(0xaa, 60), 1'700'000'000'123'456'789);
        w.write(frame(0xbb, 100), 1'700'000'001'000'000'000);  // truncated to snaplen
    }
    auto b = slurp(path);
    ASSERT_EQ(b.size(), 24u + 16 + 60 + 16 + 64);
    EXPECT_EQ(rd32(b, 0), 0xa1b2c3d4u);
    EXPECT_EQ(b[4] | b[5] << 8, 2);
    EXPECT_EQ(rd32(b, 16), 64u);   // snaplen
    EXPECT_EQ(rd32(b, 20), 1u);    // ethernet
    EXPECT_EQ(rd32(b, 24), 1'700'000'000u);
    EXPECT_EQ(rd32(b, 28), 123'456u);
    EXPECT_EQ(rd32(b, 32), 60u);
    EXPECT_EQ(rd32(b, 36), 60u);
    EXPECT_EQ(b[40], 0xaa);
    const size_t r2 = 24 + 16 + 60;
    EXPECT_EQ(rd32(b, r2 + 8), 64u);   // captured
    EXPECT_EQ(rd32(b, r2 + 12), 100u); // on the wire
    EXPECT_THROW(PcapWriter("/nonexistent/dir/x.pcap"), tessera::UsageError);
}

TEST_F(NetTest, FilterDumpSeesBothDirectionsOfANetdev) {
    const std::string path = std::string(TEST_TMPDIR) + "/dump.pcap";
    Client &nd = client_new(ClientKind::Netdev, "n0", "user");
    Client &nic = client_new(ClientKind::Nic, "nic0", "x");
    Sink s, be;
    s.attach(nic);
    be.attach(nd);
    connect(nic, nd);
    add_dump("n0", std::make_shared<PcapWriter>(path));
    send(nic, frame(1, 60));
    send(nd, frame(2, 70));
    auto b = slurp(path);
    EXPECT_EQ(b.size(), 24u + 16 + 60 + 16 + 70);
    EXPECT_THROW(add_dump("nope", std::make_shared<PcapWriter>(path)), tessera::UsageError);
}

TEST_F(NetTest, VnetHeadersOnlyWhenBothEndsOfADirectLinkCan) {
    Client &nd = client_new(ClientKind::Netdev, "t0", "tap");
    Client &nic = client_new(ClientKind::Nic, "nic0", "virtio-net-pci");
    int nd_told = -1, nic_told = -1;
    bool capable = false;
    nd.vnet_capable = [&] { return capable; };
    nd.set_vnet = [&](bool on) { nd_told = on; };
    nic.set_vnet = [&](bool on) { nic_told = on; };
    connect(nic, nd);
    EXPECT_FALSE(negotiate_vnet(nic)) << "the tap opened without IFF_VNET_HDR";
    EXPECT_EQ(nd_told, -1);
    capable = true;
    EXPECT_TRUE(negotiate_vnet(nic));
    EXPECT_EQ(nd_told, 1);
    EXPECT_EQ(nic_told, 1);
    EXPECT_TRUE(nic.vnet && nd.vnet);

    // A NIC on a hub port never gets them (the other ports take plain frames).
    Client &port = hub_add_port(0);
    Client &nic2 = client_new(ClientKind::Nic, "nic1", "virtio-net-pci");
    nic2.set_vnet = [&](bool) { ADD_FAILURE() << "no vnet through a hub"; };
    connect(nic2, port);
    EXPECT_FALSE(negotiate_vnet(nic2));
}

TEST_F(NetTest, FilterDumpLeavesTheVnetHeaderOut) {
    const std::string path = std::string(TEST_TMPDIR) + "/vnet.pcap";
    Client &nd = client_new(ClientKind::Netdev, "t0", "tap");
    Client &nic = client_new(ClientKind::Nic, "nic0", "x");
    Sink s, be;
    s.attach(nic);
    be.attach(nd);
    nd.vnet_capable = [] { return true; };
    nd.set_vnet = [](bool) {};
    nic.set_vnet = [](bool) {};
    connect(nic, nd);
    ASSERT_TRUE(negotiate_vnet(nic));
    add_dump("t0", std::make_shared<PcapWriter>(path));
    send(nic, frame(1, 12 + 60));
    ASSERT_EQ(be.got.size(), 1u);
    EXPECT_EQ(be.got[0].size(), 72u) << "the peer gets the header";
    auto b = slurp(path);
    EXPECT_EQ(b.size(), 24u + 16 + 60);
}

}  // namespace
