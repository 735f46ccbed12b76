/* TCP connection states and transitions with the IPVS semantics, and their timeouts. */
#ifndef DPDK_LB_TCP_STATE_H
#define DPDK_LB_TCP_STATE_H

#include <stdint.h>

enum lb_conn_state {
	LB_TCP_NONE = 0,
	LB_TCP_ESTABLISHED,
	LB_TCP_SYN_SENT,
	LB_TCP_SYN_RECV,
	LB_TCP_FIN_WAIT,
	LB_TCP_TIME_WAIT,
	LB_TCP_CLOSE,
	LB_TCP_CLOSE_WAIT,
	LB_TCP_LAST_ACK,
	LB_TCP_LISTEN,
	LB_TCP_SYNACK,
	LB_TCP_STATE_COUNT,
	LB_UDP_STATE = LB_TCP_STATE_COUNT, /* the one state of a UDP flow */
	LB_CONN_STATE_COUNT,
};

/* Which packets the appliance sees: both directions (nat) or client->server only (dr, tun). */
enum lb_tcp_dir {
	LB_TCP_DIR_INPUT = 0,  /* client -> server, replies also seen */
	LB_TCP_DIR_OUTPUT,     /* server -> client */
	LB_TCP_DIR_INPUT_ONLY, /* client -> server, replies bypass the appliance */
};

/* Next state of a connection in `state` seeing a segment with `tcp_flags` in direction `dir`. */
uint8_t lb_tcp_state_next(uint8_t state, enum lb_tcp_dir dir, uint8_t tcp_flags);

/* Upper-case state name as ipvsadm prints it ("ESTABLISHED", "UDP"...). */
const char *lb_conn_state_name(uint8_t state);

/* Timeouts in seconds for every state; defaults are the IPVS ones. */
struct lb_timeouts {
	uint32_t by_state[LB_CONN_STATE_COUNT];
};

/* Fills t with the IPVS defaults (ESTABLISHED 900, FIN_WAIT 120, UDP 300 ...). */
void lb_timeouts_default(struct lb_timeouts *t);

#endif
