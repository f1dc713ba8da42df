// The block part of the host table (tessera/host.h block_* and the kernel
// capability TS_BLOCK_CHILD_CAP), with the host table's signatures: the
// host table points its entries straight at these. No exception leaves them.
#pragma once

#include <tessera/host.h>

namespace tessera {

ts_block_be *block_host_attach(ts_object *obj, const char *prop_name, ts_error *err);
ts_status block_host_pread(ts_block_be *be, uint64_t offset, void *buf, size_t len, ts_error *err);
ts_status block_host_pwrite(ts_block_be *be, uint64_t offset, const void *buf, size_t len, ts_error *err);
ts_status block_host_flush(ts_block_be *be, ts_error *err);
uint64_t block_host_length(ts_block_be *be);
int block_host_read_only(ts_block_be *be);
// For host->get_capability: the block layer's capabilities, NULL for other ids.
const void *block_host_capability(const char *id);

}  // namespace tessera
