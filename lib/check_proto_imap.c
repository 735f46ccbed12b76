/*
 * imap negotiate check (RFC 3501): the "* OK" greeting ("* PREAUTH" is up at once); with a login
 * configured, "a1 LOGIN user password" answered "a1 OK", untagged lines in between skipped. The
 * user and password are sent as quoted strings; ones IMAP cannot quote (control or 8-bit
 * characters would need a literal) are refused. On success d->tx holds LOGOUT, a courtesy the
 * checker sends before closing when it can.
 */
#include <string.h>

#include "check_dialogue.h"
#include "check_text.h"

enum imap_step { IMAP_GREETING = 0, IMAP_LOGIN };

static bool starts(const uint8_t *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && memcmp(s, word, w) == 0;
}

/* "WORD" followed by a space or the line end. */
static bool starts_word(const uint8_t *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return starts(s, n, word) && (n == w || s[w] == ' ' || s[w] == '\r' || s[w] == '\n');
}

/* Appends s to out as an IMAP quoted string; false when s cannot be quoted. */
static bool quote(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	if (cap < 3)
		return false;
	out[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			return false;
		if (o + 4 > cap)
			return false;
		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return true;
}

static enum check_verdict imap_up(struct check_dialogue *d)
{
	check_dialogue_sendf(d, "a2 LOGOUT\r\n");
	return CHECK_UP;
}

static enum check_verdict imap_greeting(struct check_dialogue *d, const uint8_t *s, size_t n,
					const char *said)
{
	char user[CHECK_TX_MAX / 2], pass[CHECK_TX_MAX / 2];

	if (starts_word(s, n, "* PREAUTH"))
		return imap_up(d);
	if (!starts_word(s, n, "* OK"))
		return check_dialogue_down(d, "greeting \"%s\" (* OK expected)", said);
	if (d->params->login[0] == '\0')
		return imap_up(d);
	if (!quote(user, sizeof(user), d->params->login))
		return check_dialogue_down(d, "login has characters IMAP cannot quote");
	if (!quote(pass, sizeof(pass), d->params->password))
		return check_dialogue_down(d, "password has characters IMAP cannot quote");
	if (!check_dialogue_sendf(d, "a1 LOGIN %s %s\r\n", user, pass))
		return CHECK_DOWN;
	d->step = IMAP_LOGIN;
	return CHECK_MORE;
}

/* One line after LOGIN: untagged ones are skipped (MORE with nothing to send). */
static enum check_verdict imap_login_reply(struct check_dialogue *d, const uint8_t *s, size_t n,
					   const char *said)
{
	if (starts_word(s, n, "a1 OK"))
		return imap_up(d);
	if (starts_word(s, n, "a1 NO"))
		return check_dialogue_down(d, "login refused: %s", said);
	if (starts_word(s, n, "a1 BAD"))
		return check_dialogue_down(d, "LOGIN rejected as bad: %s", said);
	if (starts(s, n, "* BYE"))
		return check_dialogue_down(d, "server closing: %s", said);
	if (starts(s, n, "* "))
		return CHECK_MORE;
	return check_dialogue_down(d, "unexpected reply to LOGIN: \"%s\"", said);
}

static enum check_verdict imap_advance(struct check_dialogue *d)
{
	for (;;) {
		char said[CHECK_QUOTE_LEN];
		size_t n = check_dialogue_line(d);
		enum check_verdict v;

		if (n == 0)
			return CHECK_MORE;
		check_text_quote(said, sizeof(said), d->rx, n);
		if (d->step == IMAP_GREETING)
			v = imap_greeting(d, d->rx, n, said);
		else
			v = imap_login_reply(d, d->rx, n, said);
		check_dialogue_consume(d, n);
		if (v != CHECK_MORE || d->tx_len > 0)
			return v;
	}
}

const struct check_proto check_proto_imap = {
	.name = "imap",
	.default_port = 143,
	.advance = imap_advance,
};
