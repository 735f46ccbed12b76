/* The snapshot benchmark builds snapshots on an EAL without ports: it has no transmit methods. */
#include "xmit.h"

const struct xmit_ops *xmit_ops_get(uint8_t forward)
{
	(void)forward;
	return NULL;
}
