/*
 * ldap negotiate check (RFC 4511): an LDAPv3 simple BindRequest (name = login, "" = anonymous;
 * password; BER, definite lengths) and its BindResponse: resultCode 0 is up, anything else down
 * with the code named. The response is read bounds-checked (short and long-form lengths, no
 * indefinite ones); a Notice of Disconnection is reported as such. On success d->tx holds an
 * UnbindRequest, a courtesy the checker sends before closing when it can.
 */
#include <string.h>

#include "byte_reader.h"
#include "check_dialogue.h"

#define BER_INTEGER 0x02
#define BER_OCTET_STRING 0x04
#define BER_ENUMERATED 0x0a
#define BER_SEQUENCE 0x30
#define LDAP_BIND_REQUEST 0x60
#define LDAP_BIND_RESPONSE 0x61
#define LDAP_UNBIND_REQUEST 0x42
#define LDAP_EXTENDED_RESPONSE 0x78
#define LDAP_AUTH_SIMPLE 0x80
#define LDAP_BIND_ID 1

enum ldap_step { LDAP_SENT = 0, LDAP_BAD_REQUEST };

/* Writes a BER definite length; returns its size (1-3 bytes, lengths below 65536). */
static size_t ber_put_len(uint8_t *out, size_t len)
{
	if (len < 0x80) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len < 0x100) {
		out[0] = 0x81;
		out[1] = (uint8_t)len;
		return 2;
	}
	out[0] = 0x82;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)len;
	return 3;
}

static size_t ber_len_size(size_t len)
{
	return len < 0x80 ? 1 : len < 0x100 ? 2 : 3;
}

/* Writes tag, length and value; returns the bytes written. */
static size_t ber_put(uint8_t *out, uint8_t tag, const void *val, size_t len)
{
	size_t n = 1;

	out[0] = tag;
	n += ber_put_len(out + 1, len);
	if (len > 0)
		memcpy(out + n, val, len);
	return n + len;
}

static void ldap_start(struct check_dialogue *d)
{
	const char *name = d->params->login;
	const char *pass = name[0] != '\0' ? d->params->password : "";
	size_t nlen = strlen(name), plen = strlen(pass);
	/* BindRequest ::= [APPLICATION 0] SEQUENCE { version 3, name, simple [0] password } */
	size_t bind_len = 3 + 1 + ber_len_size(nlen) + nlen + 1 + ber_len_size(plen) + plen;
	size_t msg_len = 3 + 1 + ber_len_size(bind_len) + bind_len;
	uint8_t *t = d->tx;

	if (nlen > CHECK_TX_MAX || plen > CHECK_TX_MAX ||
	    1 + ber_len_size(msg_len) + msg_len > CHECK_TX_MAX) {
		check_dialogue_down(d, "bind name and password too long for the check");
		d->step = LDAP_BAD_REQUEST;
		return;
	}
	*t++ = BER_SEQUENCE;
	t += ber_put_len(t, msg_len);
	t += ber_put(t, BER_INTEGER, (const uint8_t[]){LDAP_BIND_ID}, 1);
	*t++ = LDAP_BIND_REQUEST;
	t += ber_put_len(t, bind_len);
	t += ber_put(t, BER_INTEGER, (const uint8_t[]){3}, 1);
	t += ber_put(t, BER_OCTET_STRING, name, nlen);
	t += ber_put(t, LDAP_AUTH_SIMPLE, pass, plen);
	d->tx_len = (size_t)(t - d->tx);
}

/*
 * Reads a tag and definite length at r: 1 with *tag and *len set (the value follows), 0 when
 * r ends first (read more), -1 when the encoding is one this check refuses (why set).
 */
static int ber_header(struct byte_reader *r, uint8_t *tag, size_t *len, const char **why)
{
	uint8_t t = byte_reader_u8(r), l = byte_reader_u8(r);

	if (!r->ok)
		return 0;
	if ((t & 0x1f) == 0x1f) {
		*why = "multi-byte BER tag";
		return -1;
	}
	if (l == 0x80) {
		*why = "indefinite BER length";
		return -1;
	}
	if (l > 0x84) {
		*why = "BER length of more than 4 bytes";
		return -1;
	}
	size_t v = l;
	if (l & 0x80) {
		v = 0;
		for (unsigned i = 0; i < (l & 0x7fu); i++)
			v = v << 8 | byte_reader_u8(r);
		if (!r->ok)
			return 0;
	}
	*tag = t;
	*len = v;
	return 1;
}

/* Reads one whole element with the expected tag; its value becomes *val. */
static bool ber_element(struct byte_reader *r, uint8_t want, struct byte_reader *val)
{
	const char *why = NULL;
	uint8_t tag = 0;
	size_t len = 0;

	if (ber_header(r, &tag, &len, &why) != 1 || tag != want)
		return false;
	const uint8_t *p = byte_reader_take(r, len);
	if (p == NULL)
		return false;
	*val = byte_reader_make(p, len);
	return true;
}

/* An INTEGER or ENUMERATED of 1-4 bytes as a non-negative number; -1 when it is not one. */
static long ber_small_int(struct byte_reader *r, uint8_t tag)
{
	struct byte_reader v;

	if (!ber_element(r, tag, &v) || v.len < 1 || v.len > 4 || (v.p[0] & 0x80))
		return -1;
	long n = 0;
	for (size_t i = 0; i < v.len; i++)
		n = n << 8 | v.p[i];
	return n;
}

static const char *ldap_result_name(long code)
{
	static const struct {
		long code;
		const char *name;
	} names[] = {
		{1, "operationsError"},     {2, "protocolError"},
		{3, "timeLimitExceeded"},   {7, "authMethodNotSupported"},
		{8, "strongerAuthRequired"}, {13, "confidentialityRequired"},
		{14, "saslBindInProgress"}, {32, "noSuchObject"},
		{34, "invalidDNSyntax"},    {48, "inappropriateAuthentication"},
		{49, "invalidCredentials"}, {50, "insufficientAccessRights"},
		{51, "busy"},               {52, "unavailable"},
		{53, "unwillingToPerform"}, {80, "other"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "unknown result";
}

/* The LDAPResult fields of a BindResponse or ExtendedResponse: the verdict. */
static enum check_verdict ldap_result(struct check_dialogue *d, struct byte_reader *op,
				      bool notice)
{
	struct byte_reader dn, msg;
	char text[64];
	size_t o = 0;
	long code = ber_small_int(op, BER_ENUMERATED);

	if (code < 0 || !ber_element(op, BER_OCTET_STRING, &dn) ||
	    !ber_element(op, BER_OCTET_STRING, &msg))
		return check_dialogue_down(d, "malformed LDAP result");
	for (size_t i = 0; i < msg.len && o + 1 < sizeof(text); i++)
		text[o++] = msg.p[i] >= 0x20 && msg.p[i] < 0x7f ? (char)msg.p[i] : '?';
	text[o] = '\0';
	if (notice)
		return check_dialogue_down(d, "server disconnects: %ld %s%s%s%s", code,
					   ldap_result_name(code), o ? " (" : "", text, o ? ")" : "");
	if (code != 0)
		return check_dialogue_down(d, "bind failed: %ld %s%s%s%s", code,
					   ldap_result_name(code), o ? " (" : "", text, o ? ")" : "");
	static const uint8_t unbind[] = {BER_SEQUENCE, 5, BER_INTEGER, 1, 2, LDAP_UNBIND_REQUEST, 0};
	memcpy(d->tx, unbind, sizeof(unbind));
	d->tx_len = sizeof(unbind);
	return CHECK_UP;
}

static enum check_verdict ldap_advance(struct check_dialogue *d)
{
	struct byte_reader r = byte_reader_make(d->rx, d->rx_len), msg, op;
	const char *why = NULL;
	uint8_t tag = 0;
	size_t len = 0;
	int got;

	if (d->step == LDAP_BAD_REQUEST)
		return CHECK_DOWN; /* why was set by ldap_start */
	got = ber_header(&r, &tag, &len, &why);
	if (got < 0)
		return check_dialogue_down(d, "not an LDAP message: %s", why);
	if (got == 0)
		return CHECK_MORE;
	if (tag != BER_SEQUENCE)
		return check_dialogue_down(d, "not an LDAP message (tag 0x%02x)", tag);
	if (len > CHECK_RX_MAX - r.off)
		return check_dialogue_down(d, "LDAP message of %zu bytes is too long", len);
	if (byte_reader_left(&r) < len)
		return CHECK_MORE;
	msg = byte_reader_make(d->rx + r.off, len);
	long id = ber_small_int(&msg, BER_INTEGER);
	if (id < 0 || ber_header(&msg, &tag, &len, &why) != 1 || len > byte_reader_left(&msg))
		return check_dialogue_down(d, "malformed LDAP message");
	op = byte_reader_make(msg.p + msg.off, len);
	if (id == 0 && tag == LDAP_EXTENDED_RESPONSE)
		return ldap_result(d, &op, true);
	if (id != LDAP_BIND_ID)
		return check_dialogue_down(d, "reply to message %ld (%d expected)", id, LDAP_BIND_ID);
	if (tag != LDAP_BIND_RESPONSE)
		return check_dialogue_down(d, "not a BindResponse (tag 0x%02x)", tag);
	return ldap_result(d, &op, false);
}

const struct check_proto check_proto_ldap = {
	.name = "ldap",
	.default_port = 389,
	.start = ldap_start,
	.advance = ldap_advance,
};
