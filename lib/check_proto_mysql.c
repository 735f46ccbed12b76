/*
 * mysql negotiate check (MySQL client/server protocol, also MariaDB): the server's handshake v10
 * is read and checked (protocol 10, version, the 20-byte scramble from its two parts). Without
 * a login that is enough. With one, a HandshakeResponse41 logs in with mysql_native_password
 * (and selects params->database when given); an OK packet is up, an ERR packet down with its
 * message. An AuthSwitchRequest to mysql_native_password (MariaDB sends one when the account's
 * plugin differs from its default) is answered once with the new scramble; a switch to any other
 * plugin is down, named. On success d->tx holds COM_QUIT, a courtesy the checker sends before
 * closing when it can.
 */
#include <string.h>

#include <openssl/evp.h>

#include "byte_reader.h"
#include "check_dialogue.h"

#define MYSQL_HEADER_LEN 4
#define MYSQL_SCRAMBLE_LEN 20
#define MYSQL_SHA1_LEN 20
#define MYSQL_PROTOCOL_V10 10
#define MYSQL_OK 0x00
#define MYSQL_AUTH_MORE 0x01
#define MYSQL_AUTH_SWITCH 0xfe
#define MYSQL_ERR 0xff
#define MYSQL_COM_QUIT 0x01

#define CLIENT_LONG_PASSWORD 0x00000001u
#define CLIENT_LONG_FLAG 0x00000004u
#define CLIENT_CONNECT_WITH_DB 0x00000008u
#define CLIENT_PROTOCOL_41 0x00000200u
#define CLIENT_TRANSACTIONS 0x00002000u
#define CLIENT_SECURE_CONNECTION 0x00008000u
#define CLIENT_PLUGIN_AUTH 0x00080000u

static const char native_plugin[] = "mysql_native_password";

enum mysql_step { MYSQL_HANDSHAKE = 0, MYSQL_AUTH, MYSQL_SWITCHED };

/* What the dialogue keeps between packets, in d->scratch. */
struct mysql_state {
	uint8_t scramble[MYSQL_SCRAMBLE_LEN];
	uint8_t seq; /* the sequence id of the last packet received */
};

_Static_assert(sizeof(struct mysql_state) <= sizeof(((struct check_dialogue *)0)->scratch),
	       "mysql state fits the dialogue's scratch");

/* One complete packet at the start of d->rx: 1 (payload set), 0 (read more), -1 (why set). */
static int mysql_packet(struct check_dialogue *d, struct byte_reader *payload, uint8_t *seq)
{
	if (d->rx_len < MYSQL_HEADER_LEN)
		return 0;
	size_t len = (size_t)d->rx[0] | (size_t)d->rx[1] << 8 | (size_t)d->rx[2] << 16;
	if (len > CHECK_RX_MAX - MYSQL_HEADER_LEN) {
		check_dialogue_down(d, "packet of %zu bytes is too long", len);
		return -1;
	}
	if (d->rx_len - MYSQL_HEADER_LEN < len)
		return 0;
	*seq = d->rx[3];
	*payload = byte_reader_make(d->rx + MYSQL_HEADER_LEN, len);
	return 1;
}

/* Copies the printable text of r's rest into out. */
static void mysql_text(struct byte_reader *r, char *out, size_t cap)
{
	size_t n = byte_reader_left(r), o = 0;
	const uint8_t *p = byte_reader_take(r, n);

	for (size_t i = 0; p != NULL && i < n && o + 1 < cap; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[o] = '\0';
}

/* An ERR packet (its 0xff already read): down with its code, SQL state and message. */
static enum check_verdict mysql_err(struct check_dialogue *d, struct byte_reader *r,
				    const char *what)
{
	char state[6] = "", msg[80];
	unsigned code = (unsigned)byte_reader_le(r, 2);

	if (byte_reader_left(r) >= 6 && r->p[r->off] == '#') {
		memcpy(state, r->p + r->off + 1, 5);
		byte_reader_skip(r, 6);
	}
	mysql_text(r, msg, sizeof(msg));
	if (!r->ok)
		return check_dialogue_down(d, "%s: malformed error packet", what);
	return check_dialogue_down(d, "%s: %u%s%s%s %s", what, code, state[0] ? " (" : "", state,
				   state[0] ? ")" : "", msg);
}

/* A NUL-terminated string in r; NULL when the NUL is missing. */
static const char *mysql_cstring(struct byte_reader *r)
{
	size_t left = byte_reader_left(r);
	const uint8_t *p = r->p + r->off;
	const uint8_t *nul = left ? memchr(p, 0, left) : NULL;

	if (nul == NULL) {
		r->ok = false;
		return NULL;
	}
	byte_reader_skip(r, (size_t)(nul - p) + 1);
	return (const char *)p;
}

/* mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). */
static bool mysql_native_auth(const char *password, const uint8_t *scramble, uint8_t *out)
{
	uint8_t h1[MYSQL_SHA1_LEN], h2[MYSQL_SHA1_LEN], h3[MYSQL_SHA1_LEN];
	uint8_t salted[MYSQL_SCRAMBLE_LEN + MYSQL_SHA1_LEN];

	if (!EVP_Digest(password, strlen(password), h1, NULL, EVP_sha1(), NULL) ||
	    !EVP_Digest(h1, sizeof(h1), h2, NULL, EVP_sha1(), NULL))
		return false;
	memcpy(salted, scramble, MYSQL_SCRAMBLE_LEN);
	memcpy(salted + MYSQL_SCRAMBLE_LEN, h2, sizeof(h2));
	if (!EVP_Digest(salted, sizeof(salted), h3, NULL, EVP_sha1(), NULL))
		return false;
	for (size_t i = 0; i < MYSQL_SHA1_LEN; i++)
		out[i] = h1[i] ^ h3[i];
	return true;
}

/* Frames the payload already written at d->tx + 4 as packet seq; returns the verdict MORE. */
static enum check_verdict mysql_send(struct check_dialogue *d, size_t len, uint8_t seq)
{
	d->tx[0] = (uint8_t)len;
	d->tx[1] = (uint8_t)(len >> 8);
	d->tx[2] = (uint8_t)(len >> 16);
	d->tx[3] = seq;
	d->tx_len = MYSQL_HEADER_LEN + len;
	return CHECK_MORE;
}

static enum check_verdict mysql_up(struct check_dialogue *d)
{
	d->tx[MYSQL_HEADER_LEN] = MYSQL_COM_QUIT;
	mysql_send(d, 1, 0);
	return CHECK_UP;
}

/* Writes HandshakeResponse41 for the configured login into d->tx. */
static enum check_verdict mysql_login(struct check_dialogue *d, uint32_t server_caps,
				      const struct mysql_state *st)
{
	const struct check_params *p = d->params;
	size_t ulen = strlen(p->login), dblen = strlen(p->database);
	bool with_db = dblen > 0 && (server_caps & CLIENT_CONNECT_WITH_DB);
	uint32_t caps = CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 |
			CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |
			(server_caps & CLIENT_PLUGIN_AUTH) | (with_db ? CLIENT_CONNECT_WITH_DB : 0);
	uint8_t *t = d->tx + MYSQL_HEADER_LEN;

	if ((server_caps & (CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION)) !=
	    (CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION))
		return check_dialogue_down(d, "server lacks 4.1 authentication");
	if (dblen > 0 && !with_db)
		return check_dialogue_down(d, "server cannot select a database at login");
	if (MYSQL_HEADER_LEN + 32 + ulen + 1 + 1 + MYSQL_SHA1_LEN + dblen + 1 +
		    sizeof(native_plugin) > CHECK_TX_MAX)
		return check_dialogue_down(d, "login and database too long for the check");
	memset(t, 0, 32);
	for (int i = 0; i < 4; i++)
		t[i] = (uint8_t)(caps >> (8 * i));
	t[6] = 0x00; /* max packet size 16 MiB (le32 0x01000000) */
	t[7] = 0x01;
	t[8] = 33;   /* utf8_general_ci */
	t += 32;     /* 23 reserved bytes after the character set */
	memcpy(t, p->login, ulen + 1);
	t += ulen + 1;
	if (p->password[0] == '\0') {
		*t++ = 0;
	} else {
		*t++ = MYSQL_SHA1_LEN;
		if (!mysql_native_auth(p->password, st->scramble, t))
			return check_dialogue_down(d, "SHA1 unavailable for mysql_native_password");
		t += MYSQL_SHA1_LEN;
	}
	if (with_db) {
		memcpy(t, p->database, dblen + 1);
		t += dblen + 1;
	}
	if (caps & CLIENT_PLUGIN_AUTH) {
		memcpy(t, native_plugin, sizeof(native_plugin));
		t += sizeof(native_plugin);
	}
	d->step = MYSQL_AUTH;
	return mysql_send(d, (size_t)(t - (d->tx + MYSQL_HEADER_LEN)), (uint8_t)(st->seq + 1));
}

static enum check_verdict mysql_handshake(struct check_dialogue *d, struct byte_reader *r,
					  struct mysql_state *st)
{
	uint8_t version = byte_reader_u8(r);

	if (version == MYSQL_ERR)
		return mysql_err(d, r, "server refuses");
	if (version != MYSQL_PROTOCOL_V10)
		return check_dialogue_down(d, "handshake protocol %u (10 expected)", version);
	const char *server = mysql_cstring(r);
	byte_reader_skip(r, 4); /* connection id */
	const uint8_t *part1 = byte_reader_take(r, 8);
	byte_reader_skip(r, 1);
	uint32_t caps = byte_reader_le(r, 2);
	if (!r->ok || server == NULL)
		return check_dialogue_down(d, "malformed server handshake");
	if (byte_reader_left(r) > 0) {
		byte_reader_skip(r, 3); /* character set, status */
		caps |= byte_reader_le(r, 2) << 16;
		byte_reader_skip(r, 11); /* scramble length, reserved (MariaDB's extended caps) */
	}
	memcpy(st->scramble, part1, 8);
	if (caps & CLIENT_SECURE_CONNECTION) {
		const uint8_t *part2 = byte_reader_take(r, MYSQL_SCRAMBLE_LEN - 8);
		if (part2 == NULL)
			return check_dialogue_down(d, "server handshake without the whole scramble");
		memcpy(st->scramble + 8, part2, MYSQL_SCRAMBLE_LEN - 8);
	}
	if (!r->ok)
		return check_dialogue_down(d, "malformed server handshake");
	if (d->params->login[0] == '\0')
		return mysql_up(d);
	return mysql_login(d, caps, st);
}

/* The server's answer to our login (or to our switched-plugin answer). */
static enum check_verdict mysql_auth_reply(struct check_dialogue *d, struct byte_reader *r,
					   struct mysql_state *st)
{
	uint8_t kind = byte_reader_u8(r);

	if (kind == MYSQL_OK)
		return mysql_up(d);
	if (kind == MYSQL_ERR)
		return mysql_err(d, r, "login refused");
	if (kind == MYSQL_AUTH_MORE)
		return check_dialogue_down(d, "server continues an authentication this check "
					      "does not speak");
	if (kind != MYSQL_AUTH_SWITCH)
		return check_dialogue_down(d, "unexpected reply 0x%02x to the login", kind);
	if (byte_reader_left(r) == 0)
		return check_dialogue_down(d, "server asks for the pre-4.1 password scheme");
	const char *plugin = mysql_cstring(r);
	if (plugin == NULL)
		return check_dialogue_down(d, "malformed authentication switch");
	if (strcmp(plugin, native_plugin) != 0) {
		char name[48];
		struct byte_reader n = byte_reader_make((const uint8_t *)plugin, strlen(plugin));
		mysql_text(&n, name, sizeof(name));
		return check_dialogue_down(d, "server asks for auth plugin %s (only %s is supported)",
					   name, native_plugin);
	}
	if (d->step == MYSQL_SWITCHED)
		return check_dialogue_down(d, "server switched the authentication twice");
	const uint8_t *scramble = byte_reader_take(r, MYSQL_SCRAMBLE_LEN);
	if (scramble == NULL)
		return check_dialogue_down(d, "authentication switch without a scramble");
	memcpy(st->scramble, scramble, MYSQL_SCRAMBLE_LEN);
	d->step = MYSQL_SWITCHED;
	if (d->params->password[0] == '\0')
		return mysql_send(d, 0, (uint8_t)(st->seq + 1));
	if (!mysql_native_auth(d->params->password, st->scramble, d->tx + MYSQL_HEADER_LEN))
		return check_dialogue_down(d, "SHA1 unavailable for mysql_native_password");
	return mysql_send(d, MYSQL_SHA1_LEN, (uint8_t)(st->seq + 1));
}

static enum check_verdict mysql_advance(struct check_dialogue *d)
{
	struct mysql_state st;
	struct byte_reader payload;
	uint8_t seq = 0;
	enum check_verdict v;
	int got = mysql_packet(d, &payload, &seq);

	if (got <= 0)
		return got < 0 ? CHECK_DOWN : CHECK_MORE;
	memcpy(&st, d->scratch, sizeof(st));
	st.seq = seq;
	if (d->step == MYSQL_HANDSHAKE)
		v = mysql_handshake(d, &payload, &st);
	else
		v = mysql_auth_reply(d, &payload, &st);
	check_dialogue_consume(d, MYSQL_HEADER_LEN + payload.len);
	memcpy(d->scratch, &st, sizeof(st));
	return v;
}

const struct check_proto check_proto_mysql = {
	.name = "mysql",
	.default_port = 3306,
	.advance = mysql_advance,
};
