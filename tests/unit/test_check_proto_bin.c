/*
 * Unit tests for the binary check dialogues (lib/check_proto_dns.c, _ldap, _mysql): the
 * requests they build, good answers whole and byte by byte, wrong answers, truncated ones at
 * every length, and hostile ones (compression loops, huge lengths, nested lengths that lie).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "check_dialogue.h"

static struct check_dialogue dlg; /* 64 KiB of buffer: not on the stack */

static struct check_params params(const char *request, const char *login, const char *password,
				  const char *database)
{
	return (struct check_params){.host = "", .request = request, .method = "GET",
				     .login = login, .password = password, .database = database,
				     .receive = "", .local_addr = "", .id = 0x1234};
}

static void begin(const char *proto, const struct check_params *p)
{
	const struct check_proto *cp = check_proto_find(proto);

	assert_non_null(cp);
	check_dialogue_begin(&dlg, cp, p);
}

/* Feeds bytes a byte at a time (TCP only); all but the last must leave the check open. */
static enum check_verdict feed_bytewise(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		assert_int_equal(check_dialogue_feed(&dlg, b + i, 1), CHECK_MORE);
		assert_int_equal(dlg.tx_len, 0);
	}
	return check_dialogue_feed(&dlg, b + n - 1, 1);
}

static void assert_why(const char *part)
{
	if (strstr(dlg.why, part) == NULL)
		fail_msg("why \"%s\" lacks \"%s\"", dlg.why, part);
}

/* ---- dns ---- */

static const uint8_t www_example_com[] = "\x03www\x07" "example\x03" "com"; /* + NUL */

/* A response to the query in tx with the given flags, counts, and records appended raw. */
static size_t dns_response(uint8_t *out, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
			   const uint8_t *question, size_t qlen, const uint8_t *records, size_t rlen)
{
	uint8_t hdr[12] = {(uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(flags >> 8), (uint8_t)flags,
			   0, (uint8_t)qd, 0, (uint8_t)an, 0, 0, 0, 0};

	memcpy(out, hdr, 12);
	memcpy(out + 12, question, qlen);
	if (rlen > 0)
		memcpy(out + 12 + qlen, records, rlen);
	return 12 + qlen + rlen;
}

/* The question of the query just built (tx after the header). */
static size_t dns_question(uint8_t *q)
{
	memcpy(q, dlg.tx + 12, dlg.tx_len - 12);
	return dlg.tx_len - 12;
}

/* One A record for the name at offset 12 (a compression pointer to the question). */
static const uint8_t a_record[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, 0, 0, 11};

static void test_dns_query(void **state)
{
	(void)state;
	struct check_params p = params("www.example.com.", "", "", "");
	begin("dns", &p);
	static const uint8_t want_hdr[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_int_equal(dlg.tx_len, 12 + sizeof(www_example_com) + 4);
	assert_memory_equal(dlg.tx, want_hdr, 12);
	assert_memory_equal(dlg.tx + 12, www_example_com, sizeof(www_example_com));
	assert_memory_equal(dlg.tx + 12 + sizeof(www_example_com), "\0\x01\0\x01", 4);

	p = params(".", "", "", "");
	p.dns_type = 15; /* MX of the root */
	begin("dns", &p);
	assert_int_equal(dlg.tx_len, 12 + 1 + 4);
	assert_memory_equal(dlg.tx + 12, "\0\0\x0f\0\x01", 5);
	assert_true(check_proto_find("dns")->datagram);
	assert_ptr_equal(check_proto_for_port(53), check_proto_find("dns"));
}

static void test_dns_bad_names(void **state)
{
	(void)state;
	static const char *const bad[] = {"a..b", ".lead", "x.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
						       "aaaaaaaaaaaaaaaaaaaaaaaaaa.com"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct check_params p = params(bad[i], "", "", "");
		begin("dns", &p);
		assert_int_equal(dlg.tx_len, 0);
		assert_why("query name unusable");
		assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"x", 1), CHECK_DOWN);
		assert_why("query name unusable");
	}
	char longname[300];
	for (size_t i = 0; i < 299; i++)
		longname[i] = i % 10 == 9 ? '.' : 'a';
	longname[299] = '\0';
	struct check_params p = params(longname, "", "", "");
	begin("dns", &p);
	assert_int_equal(dlg.tx_len, 0);
	assert_why("longer than 255");
}

static void test_dns_answer_up(void **state)
{
	(void)state;
	struct check_params p = params("www.example.com", "", "", "");
	uint8_t q[300], resp[600];
	begin("dns", &p);
	size_t qlen = dns_question(q);
	/* answer with the name in other letter case, a CNAME and then an A record */
	uint8_t upper[300];
	memcpy(upper, q, qlen);
	upper[1] = 'W';
	upper[6] = 'X';
	static const uint8_t cname_then_a[] = {
		0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xc0, 0x10,
		0xc0, 0x21, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 12};
	size_t n = dns_response(resp, 0x1234, 0x8180, 1, 2, upper, qlen, cname_then_a,
				sizeof(cname_then_a));
	assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_UP);
}

static void test_dns_other_id_ignored(void **state)
{
	(void)state;
	struct check_params p = params("www.example.com", "", "", "");
	uint8_t q[300], resp[600];
	begin("dns", &p);
	size_t qlen = dns_question(q);
	size_t n = dns_response(resp, 0x4321, 0x8183, 1, 0, q, qlen, NULL, 0);
	assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_MORE);
	assert_int_equal(dlg.tx_len, 0);
	n = dns_response(resp, 0x1234, 0x8180, 1, 1, q, qlen, a_record, sizeof(a_record));
	assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_UP);
}

static void test_dns_wrong_answers(void **state)
{
	(void)state;
	struct check_params p = params("www.example.com", "", "", "");
	uint8_t q[300], resp[600];
	size_t n, qlen;
	static const struct {
		uint16_t flags, qd, an;
		const char *why;
	} cases[] = {
		{0x8183, 1, 0, "rcode 3 NXDOMAIN"},
		{0x8182, 1, 0, "rcode 2 SERVFAIL"},
		{0x8185, 1, 0, "rcode 5 REFUSED"},
		{0x818c, 1, 0, "rcode 12 unassigned"},
		{0x8180, 1, 0, "no answer records"},
		{0x8380, 1, 0, "truncated"},
		{0x0100, 1, 1, "QR bit clear"},
		{0x8980, 1, 1, "opcode 1"},
		{0x8180, 0, 1, "0 questions"},
		{0x8180, 2, 1, "2 questions"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		begin("dns", &p);
		qlen = dns_question(q);
		n = dns_response(resp, 0x1234, cases[i].flags, cases[i].qd, cases[i].an, q, qlen,
				 cases[i].an ? a_record : NULL, cases[i].an ? sizeof(a_record) : 0);
		assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_DOWN);
		assert_why(cases[i].why);
	}
	/* an answer to another question: other name, other type */
	begin("dns", &p);
	qlen = dns_question(q);
	q[2] = 'x';
	n = dns_response(resp, 0x1234, 0x8180, 1, 1, q, qlen, a_record, sizeof(a_record));
	assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_DOWN);
	assert_why("another question");
	begin("dns", &p);
	qlen = dns_question(q);
	q[qlen - 3] = 28;
	n = dns_response(resp, 0x1234, 0x8180, 1, 1, q, qlen, a_record, sizeof(a_record));
	assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_DOWN);
	assert_why("another question");
	/* too short to be DNS */
	begin("dns", &p);
	assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"\x12\x34\x81", 3), CHECK_DOWN);
	assert_why("not a DNS message");
}

static void test_dns_truncated_everywhere(void **state)
{
	(void)state;
	struct check_params p = params("www.example.com", "", "", "");
	uint8_t q[300], resp[600];
	begin("dns", &p);
	size_t qlen = dns_question(q);
	size_t n = dns_response(resp, 0x1234, 0x8180, 1, 1, q, qlen, a_record, sizeof(a_record));
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = malloc(cut + 1); /* exact size: ASan sees a read past it */
		memcpy(copy, resp, cut);
		begin("dns", &p);
		assert_int_equal(check_dialogue_feed(&dlg, copy, cut), CHECK_DOWN);
		free(copy);
	}
	begin("dns", &p);
	assert_int_equal(check_dialogue_feed(&dlg, resp, n), CHECK_UP);
}

static void test_dns_hostile_names(void **state)
{
	(void)state;
	struct check_params p = params("www.example.com", "", "", "");
	uint8_t q[300], resp[600];
	static const struct {
		uint8_t rec[20];
		size_t len;
		const char *why;
	} cases[] = {
		/* a pointer to itself (offset 12 + qlen is where the record starts: patched) */
		{{0xc0, 0xff}, 2, "loop"},
		/* a label then a pointer back to that label */
		{{1, 'a', 0xc0, 0xfe}, 4, "loop"},
		{{0xff, 0xff}, 2, "past the end"},
		{{0x40, 0}, 2, "unknown label type"},
		{{0x3f, 'a'}, 2, "runs past the end"},
		{{0xc0}, 1, "runs past the end"},
		/* a good name, a huge rdlength */
		{{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 1, 2}, 14, "truncated"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t rec[20];
		begin("dns", &p);
		size_t qlen = dns_question(q);
		memcpy(rec, cases[i].rec, cases[i].len);
		if (rec[0] == 0xc0 && rec[1] == 0xff)
			rec[1] = (uint8_t)(12 + qlen); /* points at itself */
		if (rec[0] == 1 && rec[3] == 0xfe)
			rec[3] = (uint8_t)(12 + qlen);
		size_t n = dns_response(resp, 0x1234, 0x8180, 1, 1, q, qlen, rec, cases[i].len);
		uint8_t *copy = malloc(n);
		memcpy(copy, resp, n);
		assert_int_equal(check_dialogue_feed(&dlg, copy, n), CHECK_DOWN);
		free(copy);
		assert_why(cases[i].why);
	}
	/* a name of more than 255 bytes made of pointers to 63-byte labels */
	uint8_t big[12 + 64 * 5 + 20] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t o = 12;
	for (int l = 0; l < 5; l++) {
		big[o++] = 63;
		memset(big + o, 'a', 63);
		o += 63;
	}
	big[o++] = 0;
	begin("dns", &p);
	assert_int_equal(check_dialogue_feed(&dlg, big, o), CHECK_DOWN);
	assert_why("longer than 255");
}

/* ---- ldap ---- */

static const uint8_t bind_ok[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07,
				  0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};

static void test_ldap_bind_requests(void **state)
{
	(void)state;
	struct check_params p = params("", "", "ignored without a name", "");
	static const uint8_t anon[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02,
				       0x01, 0x03, 0x04, 0x00, 0x80, 0x00};
	begin("ldap", &p);
	assert_int_equal(dlg.tx_len, sizeof(anon));
	assert_memory_equal(dlg.tx, anon, sizeof(anon));

	p = params("", "cn=admin,dc=example,dc=org", "secret", "");
	begin("ldap", &p);
	static const uint8_t simple_head[] = {0x30, 0x2c, 0x02, 0x01, 0x01, 0x60, 0x27, 0x02,
					      0x01, 0x03, 0x04, 0x1a};
	assert_int_equal(dlg.tx_len, 2 + 0x2c);
	assert_memory_equal(dlg.tx, simple_head, sizeof(simple_head));
	assert_memory_equal(dlg.tx + 12, "cn=admin,dc=example,dc=org", 26);
	assert_memory_equal(dlg.tx + 38, "\x80\x06secret", 8);

	/* long-form lengths: a 300-byte name */
	char name[301];
	memset(name, 'n', 300);
	name[300] = '\0';
	p = params("", name, "pw", "");
	begin("ldap", &p);
	/* name: 04 82 01 2c; bind: 3 + 4 + 300 + 4 = 311 = 0x137; message: 3 + 4 + 311 = 318 */
	static const uint8_t long_head[] = {0x30, 0x82, 0x01, 0x3e, 0x02, 0x01, 0x01, 0x60,
					    0x82, 0x01, 0x37, 0x02, 0x01, 0x03, 0x04, 0x82,
					    0x01, 0x2c};
	assert_int_equal(dlg.tx_len, 4 + 318);
	assert_memory_equal(dlg.tx, long_head, sizeof(long_head));

	/* too long for the check: down before anything is sent */
	char huge[CHECK_TX_MAX + 10];
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	p = params("", huge, "pw", "");
	begin("ldap", &p);
	assert_int_equal(dlg.tx_len, 0);
	assert_int_equal(check_dialogue_feed(&dlg, bind_ok, sizeof(bind_ok)), CHECK_DOWN);
	assert_why("too long");
}

static void test_ldap_bind_up(void **state)
{
	(void)state;
	struct check_params p = params("", "", "", "");
	static const uint8_t unbind[] = {0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00};
	begin("ldap", &p);
	assert_int_equal(check_dialogue_feed(&dlg, bind_ok, sizeof(bind_ok)), CHECK_UP);
	assert_int_equal(dlg.tx_len, sizeof(unbind));
	assert_memory_equal(dlg.tx, unbind, sizeof(unbind));
	begin("ldap", &p);
	assert_int_equal(feed_bytewise(bind_ok, sizeof(bind_ok)), CHECK_UP);
	/* long-form lengths and a referral-free result with text, as servers may send */
	static const uint8_t long_form[] = {0x30, 0x84, 0, 0, 0, 0x0f, 0x02, 0x01, 0x01, 0x61,
					    0x81, 0x09, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x02,
					    'o', 'k'};
	begin("ldap", &p);
	assert_int_equal(check_dialogue_feed(&dlg, long_form, sizeof(long_form)), CHECK_UP);
}

static void test_ldap_bind_refused(void **state)
{
	(void)state;
	struct check_params p = params("", "cn=admin,dc=example,dc=org", "wrong", "");
	static const uint8_t refused[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07,
					  0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00};
	begin("ldap", &p);
	assert_int_equal(feed_bytewise(refused, sizeof(refused)), CHECK_DOWN);
	assert_why("bind failed: 49 invalidCredentials");
	static const uint8_t with_text[] = {0x30, 0x13, 0x02, 0x01, 0x01, 0x61, 0x0e,
					    0x0a, 0x01, 0x35, 0x04, 0x00, 0x04, 0x07,
					    'n', 'o', ' ', 'a', 'n', 'o', 'n'};
	begin("ldap", &p);
	assert_int_equal(check_dialogue_feed(&dlg, with_text, sizeof(with_text)), CHECK_DOWN);
	assert_why("53 unwillingToPerform (no anon)");
	/* notice of disconnection (unsolicited, message id 0) */
	static const uint8_t notice[] = {0x30, 0x0c, 0x02, 0x01, 0x00, 0x78, 0x07,
					 0x0a, 0x01, 0x34, 0x04, 0x00, 0x04, 0x00};
	begin("ldap", &p);
	assert_int_equal(check_dialogue_feed(&dlg, notice, sizeof(notice)), CHECK_DOWN);
	assert_why("server disconnects: 52 unavailable");
}

static void test_ldap_wrong_and_hostile(void **state)
{
	(void)state;
	struct check_params p = params("", "", "", "");
	static const struct {
		uint8_t msg[24];
		size_t len;
		const char *why;
	} cases[] = {
		{{0x30, 0x80}, 2, "indefinite"},
		{{0x30, 0x85, 1, 1, 1, 1, 1}, 7, "more than 4 bytes"},
		{{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, 6, "too long"},
		{{0x1f, 0x01}, 2, "multi-byte"},
		{{0x48, 0x54, 0x54, 0x50}, 4, "tag 0x48"},
		/* the op claims more than the message holds */
		{{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x7f, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00},
		 14, "malformed"},
		/* the result's string claims more than the op holds */
		{{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x70, 0x04, 0x00},
		 14, "malformed"},
		/* a message id of 5 bytes */
		{{0x30, 0x10, 0x02, 0x05, 1, 1, 1, 1, 1, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00,
		  0x04, 0x00},
		 18, "malformed"},
		{{0x30, 0x0c, 0x02, 0x01, 0x02, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00},
		 14, "reply to message 2"},
		{{0x30, 0x0c, 0x02, 0x01, 0x01, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00},
		 14, "not a BindResponse"},
		{{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00},
		 14, "malformed LDAP result"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *copy = malloc(cases[i].len);
		memcpy(copy, cases[i].msg, cases[i].len);
		begin("ldap", &p);
		assert_int_equal(check_dialogue_feed(&dlg, copy, cases[i].len), CHECK_DOWN);
		free(copy);
		assert_why(cases[i].why);
	}
	/* cut anywhere, a good response is not complete: read more; the end of stream is down */
	for (size_t cut = 0; cut < sizeof(bind_ok); cut++) {
		uint8_t *copy = malloc(cut + 1);
		memcpy(copy, bind_ok, cut);
		begin("ldap", &p);
		assert_int_equal(check_dialogue_feed(&dlg, copy, cut), CHECK_MORE);
		assert_int_equal(check_dialogue_eof(&dlg), CHECK_DOWN);
		free(copy);
	}
}

/* ---- mysql ---- */

#define CAPS_MARIADB 0xf7fe /* low: PROTOCOL_41, SECURE_CONNECTION, CONNECT_WITH_DB, ... */
#define CAPS_HI_PLUGIN 0x81bf /* high: PLUGIN_AUTH (0x0008) and more */

static const uint8_t scramble[20] = "0123456789abcdefghij";

/* A MariaDB-like handshake v10 packet (sequence 0); returns its size. */
static size_t mysql_handshake(uint8_t *out, uint16_t caps_lo, uint16_t caps_hi)
{
	static const char version[] = "5.5.5-10.11.6-MariaDB-0+deb12u1";
	uint8_t *t = out + 4;

	*t++ = 10;
	memcpy(t, version, sizeof(version));
	t += sizeof(version);
	memcpy(t, "\x07\0\0\0", 4);
	t += 4;
	memcpy(t, scramble, 8);
	t += 8;
	*t++ = 0;
	*t++ = (uint8_t)caps_lo;
	*t++ = (uint8_t)(caps_lo >> 8);
	*t++ = 45;
	*t++ = 2;
	*t++ = 0;
	*t++ = (uint8_t)caps_hi;
	*t++ = (uint8_t)(caps_hi >> 8);
	*t++ = 21;
	memset(t, 0, 10);
	t[6] = 0x1d; /* MariaDB extended capabilities */
	t += 10;
	memcpy(t, scramble + 8, 12);
	t += 12;
	*t++ = 0;
	memcpy(t, "mysql_native_password", 22);
	t += 22;
	size_t len = (size_t)(t - out) - 4;
	out[0] = (uint8_t)len;
	out[1] = (uint8_t)(len >> 8);
	out[2] = 0;
	out[3] = 0;
	return len + 4;
}

static size_t mysql_packet(uint8_t *out, uint8_t seq, const void *payload, size_t len)
{
	out[0] = (uint8_t)len;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)(len >> 16);
	out[3] = seq;
	memcpy(out + 4, payload, len);
	return len + 4;
}

static void sha1(const void *p, size_t n, uint8_t *out)
{
	assert_true(EVP_Digest(p, n, out, NULL, EVP_sha1(), NULL));
}

/* Verifies a mysql_native_password answer the way the server does, from SHA1(SHA1(pw)). */
static void assert_native_auth(const uint8_t *answer, const char *password, const uint8_t *salt)
{
	uint8_t stage1[20], stage2[20], salted[40], mask[20], candidate[20], check[20];

	sha1(password, strlen(password), stage1);
	sha1(stage1, 20, stage2);
	memcpy(salted, salt, 20);
	memcpy(salted + 20, stage2, 20);
	sha1(salted, 40, mask);
	for (int i = 0; i < 20; i++)
		candidate[i] = answer[i] ^ mask[i];
	sha1(candidate, 20, check);
	assert_memory_equal(check, stage2, 20);
}

static const uint8_t com_quit[] = {1, 0, 0, 0, 1};
static const uint8_t ok_payload[] = {0, 0, 0, 2, 0, 0, 0};

static void test_mysql_handshake_without_login(void **state)
{
	(void)state;
	struct check_params p = params("", "", "", "");
	uint8_t hs[200];
	size_t n = mysql_handshake(hs, CAPS_MARIADB, CAPS_HI_PLUGIN);
	begin("mysql", &p);
	assert_int_equal(dlg.tx_len, 0);
	assert_int_equal(check_dialogue_feed(&dlg, hs, n), CHECK_UP);
	assert_int_equal(dlg.tx_len, sizeof(com_quit));
	assert_memory_equal(dlg.tx, com_quit, sizeof(com_quit));
	begin("mysql", &p);
	assert_int_equal(feed_bytewise(hs, n), CHECK_UP);
}

/* Runs the handshake with p (login bob) and checks the HandshakeResponse41 sent, field by field. */
static void login_as_bob(const struct check_params *p, bool with_db)
{
	uint8_t hs[200];
	size_t n = mysql_handshake(hs, CAPS_MARIADB, CAPS_HI_PLUGIN);

	begin("mysql", p);
	assert_int_equal(check_dialogue_feed(&dlg, hs, n), CHECK_MORE);
	const uint8_t *t = dlg.tx;
	size_t len = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16;
	assert_int_equal(len + 4, dlg.tx_len);
	assert_int_equal(t[3], 1);
	uint32_t caps = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
			(uint32_t)t[7] << 24;
	assert_true(caps & 0x200);   /* PROTOCOL_41 */
	assert_true(caps & 0x8000);  /* SECURE_CONNECTION */
	assert_true(caps & 0x80000); /* PLUGIN_AUTH */
	assert_int_equal(!!(caps & 0x8), with_db);
	t += 4 + 32;
	assert_string_equal((const char *)t, "bob");
	t += 4;
	assert_int_equal(t[0], 20);
	assert_native_auth(t + 1, p->password, scramble);
	t += 21;
	if (with_db) {
		assert_string_equal((const char *)t, p->database);
		t += strlen(p->database) + 1;
	}
	assert_string_equal((const char *)t, "mysql_native_password");
	assert_int_equal(t + 22 - dlg.tx, dlg.tx_len);
}

static void test_mysql_login_up(void **state)
{
	(void)state;
	struct check_params p = params("", "bob", "pw", "");
	uint8_t pkt[64];
	login_as_bob(&p, false);
	size_t n = mysql_packet(pkt, 2, ok_payload, sizeof(ok_payload));
	assert_int_equal(feed_bytewise(pkt, n), CHECK_UP);
	assert_memory_equal(dlg.tx, com_quit, sizeof(com_quit));

	p = params("", "bob", "pw", "appdb");
	login_as_bob(&p, true);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_UP);
}

static void test_mysql_login_refused(void **state)
{
	(void)state;
	struct check_params p = params("", "bob", "pw", "");
	static const char err[] = "\xff\x15\x04#28000Access denied for user 'bob'@'localhost' "
				  "(using password: YES)";
	uint8_t pkt[128];
	login_as_bob(&p, false);
	size_t n = mysql_packet(pkt, 2, err, sizeof(err) - 1);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("login refused: 1045 (28000) Access denied for user 'bob'");
	/* an unknown database */
	p = params("", "bob", "pw", "nodb");
	static const char nodb[] = "\xff\x19\x04#42000Unknown database 'nodb'";
	login_as_bob(&p, true);
	n = mysql_packet(pkt, 2, nodb, sizeof(nodb) - 1);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("1049 (42000) Unknown database 'nodb'");
}

static void test_mysql_auth_switch(void **state)
{
	(void)state;
	struct check_params p = params("", "bob", "pw", "");
	static const uint8_t fresh[20] = "ABCDEFGHIJKLMNOPQRST";
	uint8_t payload[64], pkt[80];
	size_t n;

	payload[0] = 0xfe;
	memcpy(payload + 1, "mysql_native_password", 22);
	memcpy(payload + 23, fresh, 20);
	payload[43] = 0;
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, payload, 44);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_MORE);
	assert_int_equal(dlg.tx_len, 24);
	assert_memory_equal(dlg.tx, "\x14\0\0\x03", 4);
	assert_native_auth(dlg.tx + 4, "pw", fresh);
	/* a second switch is refused */
	n = mysql_packet(pkt, 4, payload, 44);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("twice");
	/* then OK */
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, payload, 44);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_MORE);
	n = mysql_packet(pkt, 4, ok_payload, sizeof(ok_payload));
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_UP);
	/* a switch to a plugin this check does not speak */
	payload[0] = 0xfe;
	memcpy(payload + 1, "caching_sha2_password", 22);
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, payload, 44);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("caching_sha2_password");
	/* the pre-4.1 switch, a switch without scramble, more data */
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, "\xfe", 1);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("pre-4.1");
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, "\xfemysql_native_password\0abc", 26);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("without a scramble");
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, "\x01\x03", 2);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	login_as_bob(&p, false);
	n = mysql_packet(pkt, 2, "\xfemysql_native_passwo", 20);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("malformed");
}

static void test_mysql_wrong_servers(void **state)
{
	(void)state;
	struct check_params p = params("", "", "", "");
	uint8_t pkt[200];
	static const char refuse[] = "\xffj\x04Host '10.0.0.1' is not allowed to connect to this "
				     "MariaDB server";
	size_t n = mysql_packet(pkt, 0, refuse, sizeof(refuse) - 1);
	begin("mysql", &p);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("server refuses: 1130 Host '10.0.0.1' is not allowed");
	n = mysql_handshake(pkt, CAPS_MARIADB, CAPS_HI_PLUGIN);
	pkt[4] = 9;
	begin("mysql", &p);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("protocol 9");
	/* an SSH banner read as a packet header claims 0x485353 bytes: more than a check keeps */
	begin("mysql", &p);
	assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"SSH-2.0-OpenSSH\r\n", 17),
			 CHECK_DOWN);
	assert_why("too long");
	/* login wanted from a server without 4.1 authentication */
	p = params("", "bob", "pw", "");
	n = mysql_handshake(pkt, CAPS_MARIADB & ~0x8200, CAPS_HI_PLUGIN);
	begin("mysql", &p);
	assert_int_equal(check_dialogue_feed(&dlg, pkt, n), CHECK_DOWN);
	assert_why("4.1");
}

static void test_mysql_truncated_and_hostile(void **state)
{
	(void)state;
	struct check_params p = params("", "", "", "");
	uint8_t hs[200];
	size_t n = mysql_handshake(hs, CAPS_MARIADB, CAPS_HI_PLUGIN);
	size_t scramble_end = n - 23; /* before the NUL after the scramble and the plugin name */

	/* cut with the header still claiming the full length: incomplete */
	for (size_t cut = 0; cut < n; cut++) {
		begin("mysql", &p);
		assert_int_equal(check_dialogue_feed(&dlg, hs, cut), CHECK_MORE);
	}
	/* cut with the header claiming only what is there: a short handshake is down */
	for (size_t cut = 4; cut < scramble_end; cut++) {
		uint8_t *copy = malloc(cut);
		memcpy(copy, hs, cut);
		copy[0] = (uint8_t)(cut - 4);
		copy[1] = 0;
		begin("mysql", &p);
		assert_int_equal(check_dialogue_feed(&dlg, copy, cut), CHECK_DOWN);
		free(copy);
	}
	/* a server version without its NUL */
	uint8_t *nonul = malloc(4 + 20);
	memcpy(nonul, "\x14\0\0\0\x0a", 5);
	memset(nonul + 5, 'v', 19);
	begin("mysql", &p);
	assert_int_equal(check_dialogue_feed(&dlg, nonul, 24), CHECK_DOWN);
	assert_why("malformed");
	free(nonul);
	/* an ERR packet too short for its code */
	begin("mysql", &p);
	assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"\x02\0\0\0\xff\x01", 6),
			 CHECK_DOWN);
	assert_why("malformed error packet");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_query),
		cmocka_unit_test(test_dns_bad_names),
		cmocka_unit_test(test_dns_answer_up),
		cmocka_unit_test(test_dns_other_id_ignored),
		cmocka_unit_test(test_dns_wrong_answers),
		cmocka_unit_test(test_dns_truncated_everywhere),
		cmocka_unit_test(test_dns_hostile_names),
		cmocka_unit_test(test_ldap_bind_requests),
		cmocka_unit_test(test_ldap_bind_up),
		cmocka_unit_test(test_ldap_bind_refused),
		cmocka_unit_test(test_ldap_wrong_and_hostile),
		cmocka_unit_test(test_mysql_handshake_without_login),
		cmocka_unit_test(test_mysql_login_up),
		cmocka_unit_test(test_mysql_login_refused),
		cmocka_unit_test(test_mysql_auth_switch),
		cmocka_unit_test(test_mysql_wrong_servers),
		cmocka_unit_test(test_mysql_truncated_and_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
