/*
 * Unit tests for the text-protocol check dialogues (lib/check_proto_smtp.c, _ftp, _pop3, _imap):
 * good conversations fed whole and byte by byte, multi-line replies, wrong banners, failed
 * logins, arguments that would inject a command, and the table lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_dialogue.h"

/* One exchange: what the server sends, and what the dialogue must send after it. */
struct exchange {
	const char *server;
	const char *client; /* "" = nothing */
};

static struct check_dialogue dlg; /* 64 KiB of buffer: not on the stack */

static struct check_params params_with(const char *login, const char *password, const char *host)
{
	return (struct check_params){.host = host, .request = "", .method = "GET", .login = login,
				     .password = password, .database = "", .receive = "",
				     .local_addr = ""};
}

static const struct check_params no_login = {
	.host = "", .request = "", .method = "", .login = "", .password = "", .database = "",
	.receive = "", .local_addr = "",
};

/* Feeds text whole or a byte at a time; every byte but the last must leave the check open. */
static enum check_verdict feed_text(const char *text, bool bytewise)
{
	size_t n = strlen(text);

	if (!bytewise)
		return check_dialogue_feed(&dlg, (const uint8_t *)text, n);
	for (size_t i = 0; i + 1 < n; i++) {
		enum check_verdict v = check_dialogue_feed(&dlg, (const uint8_t *)text + i, 1);
		if (v != CHECK_MORE)
			return v;
		assert_int_equal(dlg.tx_len, 0);
	}
	return check_dialogue_feed(&dlg, (const uint8_t *)text + n - 1, 1);
}

static void assert_tx(const char *want)
{
	if (dlg.tx_len != strlen(want) || memcmp(dlg.tx, want, dlg.tx_len) != 0)
		fail_msg("sent \"%.*s\", want \"%s\"", (int)dlg.tx_len, (const char *)dlg.tx, want);
}

/*
 * Plays the exchanges: every one but the last must leave the check open and send its client
 * text; the last one's verdict is returned (its client text checked too).
 */
static enum check_verdict play(const char *proto, const struct check_params *p,
			       const struct exchange *ex, size_t n, bool bytewise)
{
	const struct check_proto *cp = check_proto_find(proto);
	enum check_verdict v = CHECK_MORE;

	assert_non_null(cp);
	check_dialogue_begin(&dlg, cp, p);
	assert_int_equal(dlg.tx_len, 0); /* the server speaks first */
	for (size_t i = 0; i < n; i++) {
		v = feed_text(ex[i].server, bytewise);
		if (i + 1 < n && v != CHECK_MORE)
			fail_msg("exchange %zu ended the check early: %s", i, dlg.why);
		if (v != CHECK_DOWN)
			assert_tx(ex[i].client);
	}
	return v;
}

#define PLAY(proto, p, ex, bw) play(proto, p, ex, sizeof(ex) / sizeof(ex[0]), bw)

static void assert_why(const char *part)
{
	if (strstr(dlg.why, part) == NULL)
		fail_msg("why \"%s\" lacks \"%s\"", dlg.why, part);
}

/* ---- smtp ---- */

static void test_smtp_up(void **state)
{
	(void)state;
	static const struct exchange ex[] = {
		{"220 mail.example ESMTP Postfix (Debian/GNU)\r\n", "EHLO dpdk-lb\r\n"},
		{"250-mail.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 CHUNKING\r\n",
		 "QUIT\r\n"},
	};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("smtp", &no_login, ex, bw), CHECK_UP);
}

static void test_smtp_multiline_banner_and_host(void **state)
{
	(void)state;
	struct check_params p = params_with("", "", "lb.example.org");
	static const struct exchange ex[] = {
		{"220-mail.example welcome\n220-no spam\n220 ready\n", "EHLO lb.example.org\r\n"},
		{"250 mail.example\n", "QUIT\r\n"},
	};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("smtp", &p, ex, bw), CHECK_UP);
	/* a reply that is only the code ends a multi-line reply too */
	static const struct exchange bare[] = {{"220-a\r\n220\r\n", "EHLO dpdk-lb\r\n"},
					       {"250\r\n", "QUIT\r\n"}};
	assert_int_equal(PLAY("smtp", &no_login, bare, false), CHECK_UP);
}

static void test_smtp_wrong_banner(void **state)
{
	(void)state;
	static const struct exchange busy[] = {{"554 5.3.2 no service here\r\n", ""}};
	assert_int_equal(PLAY("smtp", &no_login, busy, false), CHECK_DOWN);
	assert_why("554");
	assert_why("no service here");
	static const struct exchange ssh[] = {{"SSH-2.0-OpenSSH_9.2p1\r\n", ""}};
	for (int bw = 0; bw < 2; bw++) {
		assert_int_equal(PLAY("smtp", &no_login, ssh, bw), CHECK_DOWN);
		assert_why("not an SMTP reply");
	}
	static const struct exchange four_digits[] = {{"2200 x\r\n", ""}};
	assert_int_equal(PLAY("smtp", &no_login, four_digits, false), CHECK_DOWN);
}

static void test_smtp_ehlo_refused(void **state)
{
	(void)state;
	static const struct exchange ex[] = {{"220 x\r\n", "EHLO dpdk-lb\r\n"},
					     {"502 5.5.2 Error: command not recognized\r\n", ""}};
	for (int bw = 0; bw < 2; bw++) {
		assert_int_equal(PLAY("smtp", &no_login, ex, bw), CHECK_DOWN);
		assert_why("EHLO answered 502");
	}
}

static void test_smtp_eof_and_injection(void **state)
{
	(void)state;
	check_dialogue_begin(&dlg, check_proto_find("smtp"), &no_login);
	assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"220-half", 8), CHECK_MORE);
	assert_int_equal(check_dialogue_eof(&dlg), CHECK_DOWN);
	assert_why("closed");

	struct check_params p = params_with("", "", "x\r\nRCPT TO:<a@b>");
	static const struct exchange ex[] = {{"220 x\r\n", ""}};
	assert_int_equal(PLAY("smtp", &p, ex, false), CHECK_DOWN);
	assert_why("control characters");
}

/* A long multi-line reply in small reads is found once complete, not before. */
static void test_smtp_long_reply_in_pieces(void **state)
{
	(void)state;
	check_dialogue_begin(&dlg, check_proto_find("smtp"), &no_login);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"220-line\r\n", 10),
				 CHECK_MORE);
	assert_int_equal(check_dialogue_feed(&dlg, (const uint8_t *)"220 end\r\n", 9), CHECK_MORE);
	assert_tx("EHLO dpdk-lb\r\n");
	assert_int_equal(dlg.rx_len, 0);
}

/* ---- ftp ---- */

static void test_ftp_anonymous_up(void **state)
{
	(void)state;
	static const struct exchange ex[] = {
		{"220 (vsFTPd 3.0.3)\r\n", "USER anonymous\r\n"},
		{"331 Please specify the password.\r\n", "PASS dpdk-lb@\r\n"},
		{"230 Login successful.\r\n", "QUIT\r\n"},
	};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("ftp", &no_login, ex, bw), CHECK_UP);
}

static void test_ftp_login_multiline_and_preliminary(void **state)
{
	(void)state;
	struct check_params p = params_with("bob", "s3cret", "");
	static const struct exchange ex[] = {
		{"120 ready in 1 minute\r\n220-Welcome\r\n  to the\r\n220x not the end\r\n220 ready\r\n",
		 "USER bob\r\n"},
		{"331-Password\r\n331 please\r\n", "PASS s3cret\r\n"},
		{"230-Welcome bob\r\n230 Logged in\r\n", "QUIT\r\n"},
	};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("ftp", &p, ex, bw), CHECK_UP);
	/* 230 right after USER (no password needed) */
	static const struct exchange direct[] = {{"220 x\r\n", "USER bob\r\n"},
						 {"230 ok\r\n", "QUIT\r\n"}};
	assert_int_equal(PLAY("ftp", &p, direct, false), CHECK_UP);
}

static void test_ftp_login_refused(void **state)
{
	(void)state;
	struct check_params p = params_with("bob", "wrong", "");
	static const struct exchange ex[] = {{"220 x\r\n", "USER bob\r\n"},
					     {"331 Password\r\n", "PASS wrong\r\n"},
					     {"530 Login incorrect.\r\n", ""}};
	for (int bw = 0; bw < 2; bw++) {
		assert_int_equal(PLAY("ftp", &p, ex, bw), CHECK_DOWN);
		assert_why("login refused: 530 Login incorrect.");
	}
	static const struct exchange user_refused[] = {{"220 x\r\n", "USER bob\r\n"},
						       {"530 This FTP server is anonymous only.\r\n", ""}};
	assert_int_equal(PLAY("ftp", &p, user_refused, false), CHECK_DOWN);
	assert_why("530");
}

static void test_ftp_wrong_banner(void **state)
{
	(void)state;
	static const struct exchange busy[] = {{"421 Too many connections\r\n", ""}};
	assert_int_equal(PLAY("ftp", &no_login, busy, false), CHECK_DOWN);
	assert_why("421 Too many connections");
	static const struct exchange http[] = {{"HTTP/1.1 400 Bad Request\r\n", ""}};
	assert_int_equal(PLAY("ftp", &no_login, http, false), CHECK_DOWN);
	assert_why("not an FTP reply");
	struct check_params p = params_with("bob\r\nDELE x", "", "");
	static const struct exchange ex[] = {{"220 x\r\n", ""}};
	assert_int_equal(PLAY("ftp", &p, ex, false), CHECK_DOWN);
	assert_why("control characters");
}

/* ---- pop3 ---- */

static void test_pop3_greeting_is_enough(void **state)
{
	(void)state;
	static const struct exchange ex[] = {{"+OK Dovecot (Debian) ready.\r\n", "QUIT\r\n"}};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("pop3", &no_login, ex, bw), CHECK_UP);
	static const struct exchange bare[] = {{"+OK\n", "QUIT\r\n"}};
	assert_int_equal(PLAY("pop3", &no_login, bare, false), CHECK_UP);
}

static void test_pop3_login(void **state)
{
	(void)state;
	struct check_params p = params_with("alice", "pw", "");
	static const struct exchange ex[] = {{"+OK ready\r\n", "USER alice\r\n"},
					     {"+OK\r\n", "PASS pw\r\n"},
					     {"+OK Logged in.\r\n", "QUIT\r\n"}};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("pop3", &p, ex, bw), CHECK_UP);
	static const struct exchange bad[] = {{"+OK ready\r\n", "USER alice\r\n"},
					      {"+OK\r\n", "PASS pw\r\n"},
					      {"-ERR [AUTH] Authentication failed.\r\n", ""}};
	for (int bw = 0; bw < 2; bw++) {
		assert_int_equal(PLAY("pop3", &p, bad, bw), CHECK_DOWN);
		assert_why("login refused: -ERR [AUTH] Authentication failed.");
	}
}

static void test_pop3_wrong_greeting(void **state)
{
	(void)state;
	static const struct exchange err[] = {{"-ERR too busy\r\n", ""}};
	assert_int_equal(PLAY("pop3", &no_login, err, false), CHECK_DOWN);
	assert_why("greeting -ERR too busy");
	static const struct exchange imap[] = {{"* OK IMAP4rev1\r\n", ""}};
	for (int bw = 0; bw < 2; bw++) {
		assert_int_equal(PLAY("pop3", &no_login, imap, bw), CHECK_DOWN);
		assert_why("not a POP3 reply");
	}
	static const struct exchange okay[] = {{"+OKAY\r\n", ""}};
	assert_int_equal(PLAY("pop3", &no_login, okay, false), CHECK_DOWN);
}

/* ---- imap ---- */

static void test_imap_greeting_is_enough(void **state)
{
	(void)state;
	static const struct exchange ex[] = {
		{"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS] Dovecot (Debian) ready.\r\n",
		 "a2 LOGOUT\r\n"}};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("imap", &no_login, ex, bw), CHECK_UP);
	static const struct exchange pre[] = {{"* PREAUTH welcome\r\n", "a2 LOGOUT\r\n"}};
	assert_int_equal(PLAY("imap", &no_login, pre, false), CHECK_UP);
}

static void test_imap_login_quoted(void **state)
{
	(void)state;
	struct check_params p = params_with("bo\"b", "p\\ss word", "");
	static const struct exchange ex[] = {
		{"* OK ready\r\n", "a1 LOGIN \"bo\\\"b\" \"p\\\\ss word\"\r\n"},
		{"* CAPABILITY IMAP4rev1 IDLE\r\n* 3 EXISTS\r\na1 OK [CAPABILITY IMAP4rev1] Logged in\r\n",
		 "a2 LOGOUT\r\n"},
	};
	for (int bw = 0; bw < 2; bw++)
		assert_int_equal(PLAY("imap", &p, ex, bw), CHECK_UP);
}

static void test_imap_login_refused(void **state)
{
	(void)state;
	struct check_params p = params_with("bob", "bad", "");
	static const struct exchange no[] = {
		{"* OK ready\r\n", "a1 LOGIN \"bob\" \"bad\"\r\n"},
		{"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", ""}};
	for (int bw = 0; bw < 2; bw++) {
		assert_int_equal(PLAY("imap", &p, no, bw), CHECK_DOWN);
		assert_why("login refused: a1 NO [AUTHENTICATIONFAILED]");
	}
	static const struct exchange bad[] = {{"* OK ready\r\n", "a1 LOGIN \"bob\" \"bad\"\r\n"},
					      {"a1 BAD Error in IMAP command\r\n", ""}};
	assert_int_equal(PLAY("imap", &p, bad, false), CHECK_DOWN);
	assert_why("BAD");
	static const struct exchange other[] = {{"* OK ready\r\n", "a1 LOGIN \"bob\" \"bad\"\r\n"},
						{"+ go ahead\r\n", ""}};
	assert_int_equal(PLAY("imap", &p, other, false), CHECK_DOWN);
	assert_why("unexpected reply");
}

static void test_imap_wrong_greeting_and_unquotable(void **state)
{
	(void)state;
	static const struct exchange bye[] = {{"* BYE too many connections\r\n", ""}};
	assert_int_equal(PLAY("imap", &no_login, bye, false), CHECK_DOWN);
	assert_why("* BYE too many connections");
	static const struct exchange okay[] = {{"* OKAY\r\n", ""}};
	assert_int_equal(PLAY("imap", &no_login, okay, false), CHECK_DOWN);
	struct check_params p = params_with("b\xc3\xb6" "b", "x", "");
	static const struct exchange ex[] = {{"* OK ready\r\n", ""}};
	assert_int_equal(PLAY("imap", &p, ex, false), CHECK_DOWN);
	assert_why("cannot quote");
	struct check_params q = params_with("bob", "a\r\nb", "");
	assert_int_equal(PLAY("imap", &q, ex, false), CHECK_DOWN);
	assert_why("password");
}

/* ---- table ---- */

static void test_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint16_t port;
	} rows[] = {{"smtp", 25}, {"ftp", 21}, {"pop3", 110}, {"imap", 143}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct check_proto *p = check_proto_find(rows[i].name);
		assert_non_null(p);
		assert_ptr_equal(check_proto_for_port(rows[i].port), p);
		assert_false(p->datagram);
		assert_non_null(strstr(check_proto_names(), rows[i].name));
	}
	assert_null(check_proto_find("gopher"));
	assert_null(check_proto_for_port(7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_up),
		cmocka_unit_test(test_smtp_multiline_banner_and_host),
		cmocka_unit_test(test_smtp_wrong_banner),
		cmocka_unit_test(test_smtp_ehlo_refused),
		cmocka_unit_test(test_smtp_eof_and_injection),
		cmocka_unit_test(test_smtp_long_reply_in_pieces),
		cmocka_unit_test(test_ftp_anonymous_up),
		cmocka_unit_test(test_ftp_login_multiline_and_preliminary),
		cmocka_unit_test(test_ftp_login_refused),
		cmocka_unit_test(test_ftp_wrong_banner),
		cmocka_unit_test(test_pop3_greeting_is_enough),
		cmocka_unit_test(test_pop3_login),
		cmocka_unit_test(test_pop3_wrong_greeting),
		cmocka_unit_test(test_imap_greeting_is_enough),
		cmocka_unit_test(test_imap_login_quoted),
		cmocka_unit_test(test_imap_login_refused),
		cmocka_unit_test(test_imap_wrong_greeting_and_unquotable),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
