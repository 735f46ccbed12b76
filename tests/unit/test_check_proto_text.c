/*
 * Unit tests for the text-protocol dialogues of lib/check_proto_*.c: http, https, simpletcp, sip
 * and nntp, and the protocol table in check_dialogue.c. Each server answer is fed whole and cut
 * into 1- and 3-byte reads (stream protocols): the verdict and its reason must not depend on the
 * cuts. Good answers are up; wrong ones are down with a reason that names what failed.
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

static struct check_dialogue D; /* 80 KiB: not on the stack */
static struct check_params P;
static regex_t RE;
static bool re_used;

static int setup(void **state)
{
	(void)state;
	P = (struct check_params){.host = "", .request = "", .method = "", .login = "",
				  .password = "", .database = "", .receive = "", .local_addr = ""};
	re_used = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (re_used)
		regfree(&RE);
	return 0;
}

static void use_regex(const char *pattern, int flags)
{
	if (re_used)
		regfree(&RE);
	assert_int_equal(regcomp(&RE, pattern, REG_EXTENDED | flags), 0);
	re_used = true;
	P.receive_re = &RE;
}

static const struct check_proto *proto(const char *name)
{
	const struct check_proto *p = check_proto_find(name);

	if (p == NULL)
		fail_msg("no protocol %s", name);
	return p;
}

/* Begins the dialogue and returns what it sends first. */
static const char *begin(const char *name)
{
	check_dialogue_begin(&D, proto(name), &P);
	D.tx[D.tx_len < CHECK_TX_MAX ? D.tx_len : CHECK_TX_MAX - 1] = '\0';
	return (const char *)D.tx;
}

/* Feeds the server's text in reads of cut bytes (0 = whole) until a verdict, then EOF if asked. */
static enum check_verdict talk(const char *name, const char *text, size_t cut, bool eof)
{
	size_t len = strlen(text), pos = 0;
	enum check_verdict v = CHECK_MORE;

	begin(name);
	while (pos < len && v == CHECK_MORE) {
		size_t n = cut == 0 || len - pos < cut ? len - pos : cut;
		v = check_dialogue_feed(&D, (const uint8_t *)text + pos, n);
		pos += n;
	}
	if (v == CHECK_MORE && eof)
		v = check_dialogue_eof(&D);
	return v;
}

/* Expects the verdict want for every cut; why_part: words the reason must contain (down). */
static void expect(const char *name, const char *text, bool eof, enum check_verdict want,
		   const char *why_part)
{
	static const size_t cuts[] = {0, 1, 3};

	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		if (proto(name)->datagram && cuts[c] != 0)
			continue; /* a datagram arrives whole */
		enum check_verdict v = talk(name, text, cuts[c], eof);
		if (v != want)
			fail_msg("%s, cut %zu: verdict %d, want %d (why: %s)", name, cuts[c], v, want,
				 D.why);
		if (want == CHECK_DOWN && strstr(D.why, why_part) == NULL)
			fail_msg("%s, cut %zu: why \"%s\" does not say \"%s\"", name, cuts[c], D.why,
				 why_part);
	}
}

static void test_table(void **state)
{
	(void)state;
	assert_ptr_equal(check_proto_for_port(80), proto("http"));
	assert_ptr_equal(check_proto_for_port(443), proto("https"));
	assert_ptr_equal(check_proto_for_port(5060), proto("sip"));
	assert_ptr_equal(check_proto_for_port(119), proto("nntp"));
	assert_null(check_proto_for_port(0));
	assert_null(check_proto_for_port(22));
	assert_null(check_proto_find("gopher"));
	assert_true(proto("https")->tls);
	assert_false(proto("http")->tls);
	assert_true(proto("sip")->datagram);
	assert_false(proto("simpletcp")->datagram);
	const char *names = check_proto_names();
	for (const char *const *n = (const char *const[]){"http", "https", "nntp", "simpletcp",
							   "sip", NULL};
	     *n != NULL; n++)
		assert_non_null(strstr(names, *n));
}

static void test_http_request(void **state)
{
	(void)state;
	P.host = "www.example.com";
	P.request = "/health";
	assert_string_equal(begin("http"), "GET /health HTTP/1.1\r\nHost: www.example.com\r\n"
					   "User-Agent: dpdk-lb-check\r\nAccept: */*\r\n"
					   "Connection: close\r\n\r\n");
	P.method = "HEAD";
	P.request = "";
	assert_string_equal(begin("https"), "HEAD / HTTP/1.1\r\nHost: www.example.com\r\n"
					    "User-Agent: dpdk-lb-check\r\nAccept: */*\r\n"
					    "Connection: close\r\n\r\n");
	/* ldirectord's relative request, an IPv6 literal host, a host with a port */
	P.method = "get";
	P.request = "index.html?a=b";
	P.host = "2001:db8::1";
	assert_non_null(strstr(begin("http"), "GET /index.html?a=b HTTP/1.1\r\nHost: [2001:db8::1]\r\n"));
	P.host = "10.0.0.1:8080";
	assert_non_null(strstr(begin("http"), "Host: 10.0.0.1:8080\r\n"));
	/* nothing can break the request line or add a header */
	P.request = "/a b\r\nX-Evil: 1";
	P.host = "h\r\nX-Evil: 2";
	const char *tx = begin("http");
	assert_non_null(strstr(tx, "GET /a%20b%0D%0AX-Evil:%201 HTTP/1.1\r\nHost: hX-Evil:2\r\n"));
	assert_null(strstr(tx, "\r\nX-Evil"));
	/* no host to name: HTTP/1.0 without Host */
	P.host = "";
	P.request = "/";
	assert_string_equal(begin("http"), "GET / HTTP/1.0\r\nUser-Agent: dpdk-lb-check\r\n"
					   "Accept: */*\r\nConnection: close\r\n\r\n");
	/* a request too long to send is down at once */
	static char longpath[CHECK_TX_MAX + 10];
	memset(longpath, 'a', sizeof(longpath) - 1);
	P.request = longpath;
	begin("http");
	assert_int_equal(D.tx_len, 0);
	assert_int_equal(check_dialogue_feed(&D, (const uint8_t *)"x", 1), CHECK_DOWN);
	assert_non_null(strstr(D.why, "too long"));
	assert_int_equal(check_dialogue_eof(&D), CHECK_DOWN);
}

static void test_http_status(void **state)
{
	(void)state;
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, CHECK_UP, NULL);
	expect("https", "HTTP/1.0 204 No Content\r\n\r\n", false, CHECK_UP, NULL);
	expect("http", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false,
	       CHECK_DOWN, "status 503 not in 200-299");
	expect("http", "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n", false, CHECK_DOWN,
	       "status 301 not in 200-299");
	/* a 1xx interim response is not the answer */
	expect("http", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	       false, CHECK_UP, NULL);
	/* configured ranges */
	P.n_status = 2;
	P.status_lo[0] = 200, P.status_hi[0] = 299;
	P.status_lo[1] = 301, P.status_hi[1] = 301;
	expect("http", "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n", false, CHECK_UP, NULL);
	expect("http", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false, CHECK_DOWN,
	       "status 404 not in 200-299,301");
}

static void test_http_body(void **state)
{
	(void)state;
	P.receive = "ok";
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nstatus: ok\n", false, CHECK_UP,
	       NULL);
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nerror", false, CHECK_DOWN,
	       "body does not contain \"ok\"");
	/* the status is judged first */
	expect("http", "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nok", false, CHECK_DOWN,
	       "status 500");
	/* chunked and to-EOF bodies */
	expect("http", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\no\r\n1\r\nk\r\n"
		       "0\r\n\r\n",
	       false, CHECK_UP, NULL);
	expect("http", "HTTP/1.0 200 OK\r\n\r\nall ok", true, CHECK_UP, NULL);
	expect("http", "HTTP/1.0 200 OK\r\n\r\nall fine", true, CHECK_DOWN,
	       "body does not contain \"ok\"");
	/* regex on the body */
	P.receive = "";
	use_regex("^up [0-9]+$", REG_NEWLINE | REG_NOSUB);
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nload\nup 42\n", false, CHECK_UP,
	       NULL);
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nup xx\n", false, CHECK_DOWN,
	       "body does not match receive_regex");
	/* both must hold */
	P.receive = "load";
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nup 42\n", false, CHECK_DOWN,
	       "body does not contain \"load\"");
	/* a HEAD response has nothing to match */
	P.method = "HEAD";
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", false, CHECK_DOWN,
	       "HEAD response has no body");
}

static void test_http_wrong_answers(void **state)
{
	(void)state;
	expect("http", "SSH-2.0-OpenSSH_9.2\r\n", false, CHECK_DOWN,
	       "bad HTTP response: bad status line \"SSH-2.0-OpenSSH_9.2\"");
	expect("http", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, CHECK_DOWN,
	       "closed after 3 of 10 body bytes");
	expect("http", "", true, CHECK_DOWN, "connection closed before a response");
	/* a complete answer is needed: up only after the whole body */
	assert_int_equal(talk("http", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, false),
			 CHECK_MORE);
}

static void test_simpletcp(void **state)
{
	(void)state;
	P.request = "PING\r\n";
	use_regex("^\\+PONG", REG_NOSUB);
	assert_string_equal(begin("simpletcp"), "PING\r\n");
	expect("simpletcp", "+PONG\r\n", false, CHECK_UP, NULL);
	/* decided as soon as what arrived matches, before the line ends */
	assert_int_equal(talk("simpletcp", "+PONG and more", 1, false), CHECK_UP);
	assert_int_equal(D.rx_len, 5);
	/* no match yet: wait; no match at the end: down, quoting the answer */
	assert_int_equal(talk("simpletcp", "-ERR unknown command\r\n", 0, false), CHECK_MORE);
	expect("simpletcp", "-ERR unknown command\r\n", true, CHECK_DOWN,
	       "answer \"-ERR unknown command\" does not match receive_regex");
	expect("simpletcp", "", true, CHECK_DOWN, "connection closed without an answer");
	/* without a regex any answer is up; without a request the server speaks first */
	P.request = "";
	P.receive_re = NULL;
	assert_int_equal(strlen(begin("simpletcp")), 0);
	expect("simpletcp", "x", false, CHECK_UP, NULL);
	expect("simpletcp", "", true, CHECK_DOWN, "without an answer");
	/* a regex over data with NUL bytes sees all of it */
	use_regex("b$", 0);
	begin("simpletcp");
	assert_int_equal(check_dialogue_feed(&D, (const uint8_t *)"a\0b", 3), CHECK_UP);
}

static void test_simpletcp_answer_too_long(void **state)
{
	static uint8_t junk[4096];

	(void)state;
	use_regex("never", REG_NOSUB);
	memset(junk, 'j', sizeof(junk));
	begin("simpletcp");
	enum check_verdict v = CHECK_MORE;
	size_t fed = 0;
	while (v == CHECK_MORE && fed <= CHECK_RX_MAX) {
		v = check_dialogue_feed(&D, junk, sizeof(junk));
		fed += sizeof(junk);
	}
	assert_int_equal(v, CHECK_DOWN);
	assert_non_null(strstr(D.why, "answer too long"));
}

/* The value of header name in the request, or NULL. */
static const char *header(const char *msg, const char *name, char *out, size_t outlen)
{
	char key[64];
	snprintf(key, sizeof(key), "\r\n%s: ", name);
	const char *h = strstr(msg, key);
	if (h == NULL)
		return NULL;
	h += strlen(key);
	size_t n = (size_t)(strstr(h, "\r\n") - h);
	snprintf(out, outlen, "%.*s", (int)n, h);
	return out;
}

static void test_sip_request(void **state)
{
	char v[256];

	(void)state;
	P.host = "10.0.0.11";
	P.local_addr = "10.0.0.1";
	P.local_port = 40123;
	P.id = 4242;
	const char *tx = begin("sip");
	/* the request line and every header kamailio's sanity_check("17895", "7") wants */
	assert_memory_equal(tx, "OPTIONS sip:10.0.0.11 SIP/2.0\r\n", 31);
	assert_string_equal(header(tx, "Via", v, sizeof(v)),
			    "SIP/2.0/UDP 10.0.0.1:40123;branch=z9hG4bK-dpdk-lb-4242;rport");
	assert_string_equal(header(tx, "Max-Forwards", v, sizeof(v)), "70");
	assert_string_equal(header(tx, "From", v, sizeof(v)), "<sip:dpdk-lb-check@10.0.0.1>;tag=4242");
	assert_string_equal(header(tx, "To", v, sizeof(v)), "<sip:10.0.0.11>");
	assert_string_equal(header(tx, "Call-ID", v, sizeof(v)), "dpdk-lb-check-4242@10.0.0.1");
	assert_string_equal(header(tx, "CSeq", v, sizeof(v)), "1 OPTIONS");
	assert_string_equal(header(tx, "Contact", v, sizeof(v)),
			    "<sip:dpdk-lb-check@10.0.0.1:40123>");
	assert_string_equal(header(tx, "Content-Length", v, sizeof(v)), "0");
	assert_string_equal(tx + strlen(tx) - 4, "\r\n\r\n");
	/* IPv6 addresses in brackets */
	P.host = "fd00::11";
	P.local_addr = "fd00::1";
	tx = begin("sip");
	assert_memory_equal(tx, "OPTIONS sip:[fd00::11] SIP/2.0\r\n", 32);
	assert_string_equal(header(tx, "Via", v, sizeof(v)),
			    "SIP/2.0/UDP [fd00::1]:40123;branch=z9hG4bK-dpdk-lb-4242;rport");
}

static void test_sip_answers(void **state)
{
	(void)state;
	P.host = "10.0.0.11";
	P.local_addr = "10.0.0.1";
	P.local_port = 5062;
	P.id = 7;
	const char *ours = "Call-ID: dpdk-lb-check-7@10.0.0.1\r\n";
	char msg[512];

	snprintf(msg, sizeof(msg), "SIP/2.0 200 Keepalive\r\nVia: x\r\n%sCSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n", ours);
	expect("sip", msg, false, CHECK_UP, NULL);
	/* any final status: the server is there and answering */
	snprintf(msg, sizeof(msg), "SIP/2.0 404 Not Found\r\n%s\r\n", ours);
	expect("sip", msg, false, CHECK_UP, NULL);
	snprintf(msg, sizeof(msg), "sip/2.0 503 Busy\r\n%s\r\n", ours);
	expect("sip", msg, false, CHECK_UP, NULL);
	/* the compact form of Call-ID */
	expect("sip", "SIP/2.0 200 OK\r\ni: dpdk-lb-check-7@10.0.0.1 \r\n\r\n", false, CHECK_UP,
	       NULL);
	/* provisional: keep waiting for the final answer (each feed is one datagram) */
	begin("sip");
	snprintf(msg, sizeof(msg), "SIP/2.0 100 Trying\r\n%s\r\n", ours);
	assert_int_equal(check_dialogue_feed(&D, (const uint8_t *)msg, strlen(msg)), CHECK_MORE);
	snprintf(msg, sizeof(msg), "SIP/2.0 200 OK\r\n%s\r\n", ours);
	assert_int_equal(check_dialogue_feed(&D, (const uint8_t *)msg, strlen(msg)), CHECK_UP);
	/* an answer to another check is ignored */
	expect("sip", "SIP/2.0 200 OK\r\nCall-ID: dpdk-lb-check-6@10.0.0.1\r\n\r\n", false,
	       CHECK_MORE, NULL);
	/* not SIP */
	expect("sip", "HTTP/1.1 200 OK\r\n\r\n", false, CHECK_DOWN,
	       "not a SIP response: \"HTTP/1.1 200 OK\"");
	expect("sip", "SIP/2.0 2000 OK\r\n\r\n", false, CHECK_DOWN, "not a SIP response");
	expect("sip", "SIP/2.0 099 x\r\n\r\n", false, CHECK_DOWN, "not a SIP response");
	expect("sip", "SIP/2.0 700 x\r\n\r\n", false, CHECK_DOWN, "not a SIP response");
	expect("sip", "OPTIONS sip:x SIP/2.0\r\n\r\n", false, CHECK_DOWN, "not a SIP response");
	expect("sip", "SIP", false, CHECK_DOWN, "not a SIP response: \"SIP\"");
}

static void test_nntp(void **state)
{
	(void)state;
	assert_int_equal(strlen(begin("nntp")), 0); /* the server speaks first */
	expect("nntp", "200 news.example.com InterNetNews server ready\r\n", false, CHECK_UP, NULL);
	expect("nntp", "201 NNTP Service Ready, posting prohibited\r\n", false, CHECK_UP, NULL);
	expect("nntp", "200\n", false, CHECK_UP, NULL);
	expect("nntp", "502 Service permanently unavailable\r\n", false, CHECK_DOWN,
	       "greeting \"502 Service permanently unavailable\" is not 200 or 201");
	expect("nntp", "400 Service temporarily unavailable\r\n", false, CHECK_DOWN,
	       "is not 200 or 201");
	expect("nntp", "2001 odd\r\n", false, CHECK_DOWN, "is not 200 or 201");
	expect("nntp", "220 smtp.example.com ESMTP\r\n", false, CHECK_DOWN, "is not 200 or 201");
	/* no verdict before the line ends */
	assert_int_equal(talk("nntp", "200 ready", 0, false), CHECK_MORE);
	expect("nntp", "200 ready", true, CHECK_DOWN, "connection closed in the greeting \"200 ready\"");
	expect("nntp", "", true, CHECK_DOWN, "connection closed before the greeting");
}

static void test_helpers(void **state)
{
	char out[16];

	(void)state;
	assert_string_equal(check_dialogue_quote((const uint8_t *)"a\x01\xff" "b\r\n", 6, out,
						 sizeof(out)),
			    "a??b");
	assert_string_equal(check_dialogue_quote((const uint8_t *)"0123456789abcdefgh", 18, out,
						 sizeof(out)),
			    "0123456789abcde");
	assert_string_equal(check_dialogue_uri_host("::1", out, sizeof(out)), "[::1]");
	assert_string_equal(check_dialogue_uri_host("[::1]:80", out, sizeof(out)), "[::1]:80");
	assert_string_equal(check_dialogue_uri_host("a b\tc", out, sizeof(out)), "abc");
	assert_string_equal(check_dialogue_uri_host("", out, sizeof(out)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_wrong_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simpletcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simpletcp_answer_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sip_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sip_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nntp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
