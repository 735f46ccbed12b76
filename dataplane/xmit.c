/* The one table of transmit methods: adding one is a new xmit_NAME.c plus a line here. */
#include "xmit.h"

extern const struct xmit_ops xmit_dr_ops;

static const struct xmit_ops *const xmit_table[LB_FWD_COUNT] = {
	[LB_FWD_DR] = &xmit_dr_ops,
};

const struct xmit_ops *xmit_ops_get(uint8_t forward)
{
	return forward < LB_FWD_COUNT ? xmit_table[forward] : NULL;
}
