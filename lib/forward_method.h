/*
 * Forwarding methods described once: what each needs and allows. Config validation, the
 * dataplane (flow keys, steering, transmit) and the CLI all read this table, so adding a method
 * is one row here plus its transmit file (dataplane/xmit_NAME.c).
 */
#ifndef DPDK_LB_FORWARD_METHOD_H
#define DPDK_LB_FORWARD_METHOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lb_forward {
	LB_FWD_DR = 0, /* direct routing: the destination MAC changes, nothing else */
	LB_FWD_TUN,    /* IP-in-IP to the real, which answers the client directly */
	LB_FWD_NAT,    /* LVS masquerading: destination rewritten, replies come back through us */
	LB_FWD_FNAT,   /* full NAT: the client side becomes a local address and port as well */
	LB_FWD_LOCAL,  /* the appliance's own kernel (a local fallback's holding page); not a real's */
	LB_FWD_COUNT,
};

/* Which worker owns a connection's flow entries. */
enum lb_steering {
	LB_STEER_RECEIVER = 0, /* whichever worker the NIC gave the client's packets: one direction */
	LB_STEER_CLIENT_HASH,  /* a hash of the client's address and port, seen in both directions */
	LB_STEER_LOCAL_PORT,   /* the worker owning the local port's slice (fnat) */
};

struct lb_forward_method {
	const char *name;         /* config and RPC value: "dr" */
	const char *display_name; /* ipvsadm's Forward column: "Route" */
	const char *long_name;    /* in messages: "direct routing" */
	bool reply_key;           /* replies pass through the appliance: the flow has a second key */
	bool rewrites_source;     /* the real sees a local address: to_real needs the reply key */
	uint8_t steering;         /* enum lb_steering */
	bool keeps_port;          /* the packet is handed over unchanged: real port = service port */
	bool ops_allowed;         /* one-packet scheduling needs no reply key, so no flow */
	bool needs_local_addrs;   /* the service must list local_addresses */
	/* the destination is the appliance's own kernel (exception path): no neighbour, no egress
	 * port; never written as a forward, only as a fallback {"local": true} */
	bool appliance;
};

/* The descriptor of method fwd, or NULL when fwd is not a method. */
const struct lb_forward_method *lb_forward_method_get(uint8_t fwd);

/* True when fwd's flows belong to the worker a hash of the client names (nat): its replies come
 * back addressed to the client, recognised by the real's address as their source. */
static inline bool lb_forward_steers_by_client(uint8_t fwd)
{
	const struct lb_forward_method *m = lb_forward_method_get(fwd);

	return m != NULL && m->steering == LB_STEER_CLIENT_HASH;
}

/* The method called name ("dr" ...); its enum lb_forward value, or -1 (appliance rows too:
 * they are not written as a forward). */
int lb_forward_method_find(const char *name);

/* "dr, tun, nat, fnat": the names a forward may take, for error messages. */
const char *lb_forward_method_names(void);

#endif
