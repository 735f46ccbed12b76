/*
 * Replays the server sides captured from real servers (tests/fuzz/corpus/check_dialogue, made by
 * tests/fuzz/gen_corpus.py; the encoding is fuzz_check_dialogue.c's) and checks each verdict:
 * the dialogues agree with vsftpd, dovecot, slapd, MariaDB, dnsmasq and postfix, not only with the
 * exchanges written by hand in the other tests. The corpus directory is argv[1].
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

static const char *corpus_dir;
static struct check_dialogue dlg;

/* The fixed params of fuzz_check_dialogue.c: flags bit 0 picks the one with a login. */
static const struct check_params with_login = {
	.host = "lb.example", .request = "www.example.com", .method = "GET", .login = "bob",
	.password = "pw", .database = "db", .receive = "", .dns_type = 1, .id = 0x1234,
	.local_addr = "127.0.0.1", .local_port = 5060};
static const struct check_params anonymous = {
	.host = "", .request = "/", .method = "HEAD", .login = "", .password = "", .database = "",
	.receive = "", .dns_type = 28, .id = 0x1234, .local_addr = "::1", .local_port = 5060};

static const char *const proto_names[] = {"dns",  "ftp",  "imap", "ldap",      "mysql", "pop3",
					  "smtp", "http", "https", "simpletcp", "sip",   "nntp"};

static const struct {
	const char *file;
	enum check_verdict verdict;
	const char *why;
} expected[] = {
	{"dns_dnsmasq_a.bin", CHECK_UP, ""},
	{"dns_dnsmasq_refused.bin", CHECK_DOWN, "rcode 5 REFUSED"},
	{"ftp_vsftpd_anonymous.bin", CHECK_UP, ""},
	{"ftp_vsftpd_login_refused.bin", CHECK_DOWN, "login refused: 530 Login incorrect."},
	{"imap_dovecot_greeting.bin", CHECK_UP, ""},
	{"imap_dovecot_login.bin", CHECK_UP, ""},
	{"imap_dovecot_login_refused.bin", CHECK_DOWN, "login refused: a1 NO [AUTHENTICATIONFAILED]"},
	{"ldap_slapd_anonymous.bin", CHECK_UP, ""},
	{"ldap_slapd_bind.bin", CHECK_UP, ""},
	{"ldap_slapd_bind_refused.bin", CHECK_DOWN, "bind failed: 49 invalidCredentials"},
	{"mysql_mariadb_handshake.bin", CHECK_UP, ""},
	{"mysql_mariadb_login.bin", CHECK_UP, ""},
	{"mysql_mariadb_login_refused.bin", CHECK_DOWN, "1045 (28000) Access denied for user 'bob'"},
	{"mysql_mariadb_unknown_db.bin", CHECK_DOWN, "1044 (42000) Access denied"},
	{"mysql_mariadb_switch_native.bin", CHECK_UP, ""},
	{"mysql_mariadb_switch_ed25519.bin", CHECK_DOWN, "auth plugin client_ed25519"},
	{"pop3_dovecot_greeting.bin", CHECK_UP, ""},
	{"pop3_dovecot_login.bin", CHECK_UP, ""},
	{"pop3_dovecot_login_refused.bin", CHECK_DOWN, "login refused: -ERR [AUTH]"},
	{"smtp_postfix.bin", CHECK_UP, ""},
	{"smtp_postfix_rejected.bin", CHECK_DOWN, "greeting 554 5.7.1"},
	{"smtp_python_smtpd.bin", CHECK_UP, ""},
};

static enum check_verdict replay(const uint8_t *b, size_t n)
{
	const struct check_proto *proto;
	enum check_verdict v = CHECK_MORE;

	assert_true(n >= 2);
	proto = check_proto_find(proto_names[b[0] % 12]);
	assert_non_null(proto);
	check_dialogue_begin(&dlg, proto, b[1] & 1 ? &with_login : &anonymous);
	for (size_t o = 2; o < n && v == CHECK_MORE;) {
		size_t len = b[o++];
		if (len == 255) {
			assert_true(n - o >= 2);
			len = (size_t)b[o] << 8 | b[o + 1];
			o += 2;
		}
		assert_true(len <= n - o);
		v = check_dialogue_feed(&dlg, b + o, len);
		o += len;
	}
	if (v == CHECK_MORE && (b[1] & 2))
		v = check_dialogue_eof(&dlg);
	return v;
}

static void test_captured(void **state)
{
	(void)state;
	static uint8_t buf[CHECK_RX_MAX * 2];

	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", corpus_dir, expected[i].file);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			fail_msg("cannot open %s", path);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		enum check_verdict v = replay(buf, n);
		if (v != expected[i].verdict || strstr(dlg.why, expected[i].why) == NULL)
			fail_msg("%s: verdict %d (%s), want %d (%s)", expected[i].file, v, dlg.why,
				 expected[i].verdict, expected[i].why);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured),
	};
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	corpus_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
