/*
 * nntp negotiate check (ldirectord's nntp): the server's greeting line must be 200 (posting
 * allowed) or 201 (no posting); anything else, such as 400 or 502 (service not available), is
 * down. Nothing is sent: the checker closes the connection after the verdict.
 */
#include <string.h>

#include "check_dialogue.h"

#define QUOTE_MAX 48

static enum check_verdict nntp_advance(struct check_dialogue *d)
{
	size_t n = check_dialogue_line(d);
	char q[QUOTE_MAX];

	if (n == 0)
		return CHECK_MORE;
	if (n >= 4 && d->rx[0] == '2' && d->rx[1] == '0' && (d->rx[2] == '0' || d->rx[2] == '1') &&
	    (d->rx[3] == ' ' || d->rx[3] == '\r' || d->rx[3] == '\n'))
		return CHECK_UP;
	return check_dialogue_down(d, "greeting \"%s\" is not 200 or 201",
				   check_dialogue_quote(d->rx, n, q, sizeof(q)));
}

static enum check_verdict nntp_at_eof(struct check_dialogue *d)
{
	char q[QUOTE_MAX];

	if (d->rx_len == 0)
		return check_dialogue_down(d, "connection closed before the greeting");
	return check_dialogue_down(d, "connection closed in the greeting \"%s\"",
				   check_dialogue_quote(d->rx, d->rx_len, q, sizeof(q)));
}

const struct check_proto check_proto_nntp = {
	.name = "nntp",
	.default_port = 119,
	.advance = nntp_advance,
	.at_eof = nntp_at_eof,
};
