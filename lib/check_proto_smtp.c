/*
 * smtp negotiate check (RFC 5321): the 220 greeting, then EHLO answered 250. Multi-line replies
 * ("220-..." up to "220 ...") are read whole. On success d->tx holds QUIT, a courtesy the
 * checker sends before closing when it can.
 */
#include <string.h>

#include "check_dialogue.h"
#include "check_text.h"

enum smtp_step { SMTP_GREETING = 0, SMTP_EHLO };

static const char *ehlo_name(const struct check_dialogue *d)
{
	return d->params->host[0] != '\0' ? d->params->host : "dpdk-lb";
}

static enum check_verdict smtp_advance(struct check_dialogue *d)
{
	struct check_numbered_reply r;
	char said[CHECK_QUOTE_LEN];
	enum check_verdict v;

	if (check_next_numbered_reply(d, "SMTP", &r, said, &v) <= 0)
		return v;
	if (d->step == SMTP_GREETING) {
		if (r.code != 220)
			return check_dialogue_down(d, "greeting %03u %s (220 expected)", r.code, said);
		if (!check_text_is_safe_arg(ehlo_name(d)))
			return check_dialogue_down(d, "EHLO name has control characters");
		if (!check_dialogue_sendf(d, "EHLO %s\r\n", ehlo_name(d)))
			return CHECK_DOWN;
		d->step = SMTP_EHLO;
		return CHECK_MORE;
	}
	if (r.code != 250)
		return check_dialogue_down(d, "EHLO answered %03u %s (250 expected)", r.code, said);
	check_dialogue_sendf(d, "QUIT\r\n");
	return CHECK_UP;
}

const struct check_proto check_proto_smtp = {
	.name = "smtp",
	.default_port = 25,
	.advance = smtp_advance,
};
