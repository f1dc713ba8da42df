// Fixture shared by the device plugin tests: a fresh fake host and one plugin.
#pragma once

#include "fake_host.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

class DeviceTest : public ::testing::Test {
protected:
    void load(const char *so_path) {
        host = &fake::Host::reset();
        plugin = std::make_unique<fake::Plugin>(so_path);
    }
    void TearDown() override { plugin.reset(); }

    // Feed bytes to a device from its chardev backend.
    static void feed(ts_chardev_fe &fe, const std::string &bytes) {
        fe.ops.receive(fe.opaque, reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
    }
    static size_t can_receive(ts_chardev_fe &fe) { return fe.ops.can_receive(fe.opaque); }

    fake::Host *host = nullptr;
    std::unique_ptr<fake::Plugin> plugin;
};
