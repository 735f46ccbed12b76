/*
 * ftp negotiate check (RFC 959): the 220 greeting (after any 120 "ready in n minutes"), USER,
 * PASS when asked (331), and 230 (or 202) = logged in. No login configured: anonymous, with
 * "dpdk-lb@" as the customary e-mail password unless one is given. On success d->tx holds QUIT,
 * a courtesy the checker sends before closing when it can.
 */
#include <string.h>

#include "check_dialogue.h"
#include "check_text.h"

enum ftp_step { FTP_GREETING = 0, FTP_USER, FTP_PASS };

static const char *ftp_login(const struct check_params *p)
{
	return p->login[0] != '\0' ? p->login : "anonymous";
}

static const char *ftp_password(const struct check_params *p)
{
	if (p->password[0] == '\0' && p->login[0] == '\0')
		return "dpdk-lb@";
	return p->password;
}

static enum check_verdict ftp_logged_in(struct check_dialogue *d)
{
	check_dialogue_sendf(d, "QUIT\r\n");
	return CHECK_UP;
}

/* What to do with one complete reply in the current step. */
static enum check_verdict ftp_reply(struct check_dialogue *d, unsigned code, const char *said)
{
	switch (d->step) {
	case FTP_GREETING:
		if (code == 120)
			return CHECK_MORE; /* the 220 follows */
		if (code != 220)
			return check_dialogue_down(d, "greeting %03u %s (220 expected)", code, said);
		if (!check_text_is_safe_arg(ftp_login(d->params)))
			return check_dialogue_down(d, "login has control characters");
		if (!check_dialogue_sendf(d, "USER %s\r\n", ftp_login(d->params)))
			return CHECK_DOWN;
		d->step = FTP_USER;
		return CHECK_MORE;
	case FTP_USER:
		if (code == 230)
			return ftp_logged_in(d);
		if (code != 331)
			return check_dialogue_down(d, "login refused: %03u %s", code, said);
		if (!check_text_is_safe_arg(ftp_password(d->params)))
			return check_dialogue_down(d, "password has control characters");
		if (!check_dialogue_sendf(d, "PASS %s\r\n", ftp_password(d->params)))
			return CHECK_DOWN;
		d->step = FTP_PASS;
		return CHECK_MORE;
	default:
		if (code == 230 || code == 202)
			return ftp_logged_in(d);
		return check_dialogue_down(d, "login refused: %03u %s", code, said);
	}
}

static enum check_verdict ftp_advance(struct check_dialogue *d)
{
	for (;;) {
		struct check_numbered_reply r;
		char said[CHECK_QUOTE_LEN];
		enum check_verdict v;

		if (check_next_numbered_reply(d, "FTP", &r, said, &v) <= 0)
			return v;
		v = ftp_reply(d, r.code, said);
		/* a 120 preliminary reply: the 220 may already be buffered behind it */
		if (v != CHECK_MORE || d->tx_len > 0)
			return v;
	}
}

const struct check_proto check_proto_ftp = {
	.name = "ftp",
	.default_port = 21,
	.advance = ftp_advance,
};
