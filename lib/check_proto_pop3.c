/*
 * pop3 negotiate check (RFC 1939): the +OK greeting; with a login configured, USER and PASS
 * each answered +OK. On success d->tx holds QUIT, a courtesy the checker sends before closing
 * when it can.
 */
#include <string.h>

#include "check_dialogue.h"
#include "check_text.h"

enum pop3_step { POP3_GREETING = 0, POP3_USER, POP3_PASS };

/* Whether the line (n bytes, line end included) is "+OK", alone or followed by a space. */
static bool is_ok(const uint8_t *s, size_t n)
{
	return n >= 3 && memcmp(s, "+OK", 3) == 0 && (n == 3 || s[3] == ' ' || s[3] == '\r' ||
						     s[3] == '\n');
}

static bool is_err(const uint8_t *s, size_t n)
{
	return n >= 4 && memcmp(s, "-ERR", 4) == 0;
}

static enum check_verdict pop3_up(struct check_dialogue *d)
{
	check_dialogue_sendf(d, "QUIT\r\n");
	return CHECK_UP;
}

/* Sends "NAME value" after checking value cannot inject a second command. */
static enum check_verdict pop3_send(struct check_dialogue *d, const char *name, const char *value,
				    uint32_t next)
{
	if (!check_text_is_safe_arg(value))
		return check_dialogue_down(d, "%s has control characters",
					   next == POP3_USER ? "login" : "password");
	if (!check_dialogue_sendf(d, "%s %s\r\n", name, value))
		return CHECK_DOWN;
	d->step = next;
	return CHECK_MORE;
}

static enum check_verdict pop3_advance(struct check_dialogue *d)
{
	static const char *const what[] = {"greeting", "USER answered", "login refused:"};
	const struct check_params *p = d->params;
	char said[CHECK_QUOTE_LEN];
	size_t n = check_dialogue_line(d);

	if (n == 0) {
		/* refuse early what can never become +OK or -ERR */
		if (d->rx_len > 0 && d->rx[0] != '+' && d->rx[0] != '-')
			return check_dialogue_down(d, "not a POP3 reply: \"%s\"",
						   check_text_quote(said, sizeof(said), d->rx,
								    d->rx_len));
		return CHECK_MORE;
	}
	check_text_quote(said, sizeof(said), d->rx, n);
	bool ok = is_ok(d->rx, n), err = is_err(d->rx, n);
	check_dialogue_consume(d, n);
	if (!ok && !err)
		return check_dialogue_down(d, "not a POP3 reply: \"%s\"", said);
	if (!ok)
		return check_dialogue_down(d, "%s %s", what[d->step < 3 ? d->step : 2], said);
	switch (d->step) {
	case POP3_GREETING:
		if (p->login[0] == '\0')
			return pop3_up(d);
		return pop3_send(d, "USER", p->login, POP3_USER);
	case POP3_USER:
		return pop3_send(d, "PASS", p->password, POP3_PASS);
	default:
		return pop3_up(d);
	}
}

const struct check_proto check_proto_pop3 = {
	.name = "pop3",
	.default_port = 110,
	.advance = pop3_advance,
};
