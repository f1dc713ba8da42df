// Command-line networking: -netdev, -nic, the legacy -net, filter-dump, and
// the host-table entry points plugins use (host_glue.cpp).
#pragma once

#include "options/keyval.hpp"

#include <tessera/host.h>

#include <string>
#include <vector>

namespace tessera::net {

// Option handlers (called while parsing the command line).
void config_netdev(const std::string &arg);
void config_nic(const std::string &arg);
void config_net(const std::string &arg);

// After plugins are available, before the board: creates every netdev
// (-netdev, -nic, -net TYPE) and the filter-dump objects among `objects`.
void create_backends(const std::vector<KeyVals> &objects);
// After the board: the NIC devices -nic and -net nic ask for, as -device
// option lists. default_model: the board's NIC when model= is absent.
std::vector<KeyVals> nic_devices(const std::string &default_model);
// Warnings the reference prints for netdevs without a peer.
void check_peers();
// Forget the configuration (tests).
void config_reset();

// Host-table entries.
ts_net_client *host_nic_attach(ts_object *obj, const char *prop, const ts_net_nic_ops *ops, void *opaque,
                               ts_error *err);
ts_net_client *host_net_attach(ts_object *obj, const char *prop, ts_error *err);
ts_status host_net_send(ts_net_client *nc, const uint8_t *frame, size_t len);
ts_net_client *host_backend_client(ts_object *netdev);
void host_net_flush(ts_net_client *nc);
int host_net_link_up(ts_net_client *nc);
void host_net_set_info(ts_net_client *nc, const char *info);
void host_net_default_mac(uint8_t mac[6]);

}  // namespace tessera::net
