/* The blocklist's RPC methods (rpc_block.c) and its expiry. */
#ifndef DPDK_LB_RPC_BLOCK_H
#define DPDK_LB_RPC_BLOCK_H

/* Removes the blocklist entries whose ttl has run out (one commit); called once a second. */
void block_expire(void);

#endif
