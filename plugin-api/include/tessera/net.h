/* Networking between NIC front ends (devices) and netdev backends.
 *
 * The kernel owns the link: every NIC and every netdev has a ts_net_client,
 * and each client has at most one peer (the legacy -net form links several
 * clients through a hub). A frame sent on a client goes to its peer:
 *  - to a netdev: the netdev class's receive() (classes.h);
 *  - to a NIC: the ts_net_nic_ops receive() below. When the NIC's
 *    can_receive() says no, the kernel queues the frame (bounded) and
 *    delivers it after the NIC calls host->net_flush().
 * Frames are whole Ethernet frames without FCS and, unless set_vnet below
 * said otherwise, without any virtio-net header: a NIC that offers
 * checksum/segmentation offloads to its guest does that work itself then,
 * and only finished, link-sized frames go to net_send.
 * All calls happen with the kernel lock held. */
#ifndef TESSERA_NET_H
#define TESSERA_NET_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_net_nic_ops {
    uint32_t size;
    /* Can the guest take a frame now? NULL: always. */
    int (*can_receive)(void *opaque);
    /* One frame for the guest. */
    void (*receive)(void *opaque, const uint8_t *frame, size_t len);
    /* The link went up (1) or down (0) (set_link in the monitor). May be NULL. */
    void (*link_changed)(void *opaque, int up);
    /* Appended (ABI 1.2); may be NULL. The kernel calls it when the NIC
     * attaches to a netdev that can carry virtio-net headers (vnet_capable in
     * classes.h): from then on every frame on the link, both ways, starts
     * with a 12-byte struct virtio_net_hdr (virtio 1.x layout, little endian,
     * num_buffers 0) and may be a GSO frame or carry a partial checksum; the
     * NIC finishes what its guest did not negotiate. */
    void (*set_vnet)(void *opaque, int on);
} ts_net_nic_ops;

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_NET_H */
