/*
 * Unit tests for lib/agent_reply: the LVS appliance agent's idle integer, the "http" variant,
 * HAProxy's agent-check grammar (every word, case, separators, last of each kind wins, free
 * text, incomplete lines, bad numbers) and the weight that results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_reply.h"

static struct agent_reply reply;
static char why[AGENT_WHY_LEN];

static int haproxy(const char *line)
{
	why[0] = '\0';
	return agent_reply_parse_haproxy(line, strlen(line), &reply, why, sizeof(why));
}

static int lvs(const char *text)
{
	why[0] = '\0';
	return agent_reply_parse_lvs(text, strlen(text), &reply, why, sizeof(why));
}

static int http(const char *text)
{
	why[0] = '\0';
	return agent_reply_parse_http(text, strlen(text), &reply, why, sizeof(why));
}

static void expect_refused(int rc, const char *words)
{
	assert_int_equal(rc, -1);
	if (strstr(why, words) == NULL)
		fail_msg("why \"%s\" does not say \"%s\"", why, words);
}

static void expect_unset(void)
{
	assert_int_equal(reply.state, AGENT_STATE_UNSET);
	assert_int_equal(reply.admin, AGENT_ADMIN_UNSET);
	assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET);
	assert_int_equal(reply.weight_abs, AGENT_WEIGHT_UNSET);
	assert_int_equal(reply.maxconn, 0);
	assert_string_equal(reply.text, "");
}

/* The issue's examples, as typical agents send them. */
static void test_issue_examples(void **state)
{
	(void)state;
	assert_int_equal(haproxy("50%\n"), 0);
	assert_int_equal(reply.weight_pct, 50);
	assert_int_equal(reply.state, AGENT_STATE_UNSET);
	assert_int_equal(agent_reply_weight(&reply, 10), 5);

	assert_int_equal(haproxy("drain\n"), 0);
	assert_int_equal(reply.admin, AGENT_ADMIN_DRAIN);
	assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET);
	assert_int_equal(agent_reply_weight(&reply, 10), 10); /* drain is applied by the caller */

	assert_int_equal(haproxy("down\r\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_DOWN);

	assert_int_equal(haproxy("up ready 75%\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UP);
	assert_int_equal(reply.admin, AGENT_ADMIN_READY);
	assert_int_equal(reply.weight_pct, 75);
	assert_int_equal(agent_reply_weight(&reply, 100), 75);

	/* the LVS appliance agent: idle 20 % -> 2 x, idle 90 % -> 9 x the configured weight */
	assert_int_equal(lvs("20\n"), 0);
	assert_int_equal(reply.weight_pct, 200);
	assert_int_equal(agent_reply_weight(&reply, 5), 10);
	assert_int_equal(lvs("90"), 0);
	assert_int_equal(reply.weight_pct, 900);
	assert_int_equal(agent_reply_weight(&reply, 5), 45);
}

static void test_every_word(void **state)
{
	static const struct {
		const char *line;
		uint8_t state, admin;
	} cases[] = {
		{"up\n", AGENT_STATE_UP, AGENT_ADMIN_UNSET},
		{"down\n", AGENT_STATE_DOWN, AGENT_ADMIN_UNSET},
		{"stopped\n", AGENT_STATE_DOWN, AGENT_ADMIN_UNSET},
		{"fail\n", AGENT_STATE_DOWN, AGENT_ADMIN_UNSET},
		{"ready\n", AGENT_STATE_UNSET, AGENT_ADMIN_READY},
		{"drain\n", AGENT_STATE_UNSET, AGENT_ADMIN_DRAIN},
		{"maint\n", AGENT_STATE_UNSET, AGENT_ADMIN_MAINT},
		/* any case */
		{"UP\n", AGENT_STATE_UP, AGENT_ADMIN_UNSET},
		{"Stopped\n", AGENT_STATE_DOWN, AGENT_ADMIN_UNSET},
		{"FaIl\n", AGENT_STATE_DOWN, AGENT_ADMIN_UNSET},
		{"READY\n", AGENT_STATE_UNSET, AGENT_ADMIN_READY},
		{"dRaIn\n", AGENT_STATE_UNSET, AGENT_ADMIN_DRAIN},
		{"MAINT\n", AGENT_STATE_UNSET, AGENT_ADMIN_MAINT},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (haproxy(cases[i].line) != 0)
			fail_msg("\"%s\" refused: %s", cases[i].line, why);
		assert_int_equal(reply.state, cases[i].state);
		assert_int_equal(reply.admin, cases[i].admin);
		assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET);
		assert_int_equal(reply.weight_abs, AGENT_WEIGHT_UNSET);
	}
}

static void test_weights_and_maxconn(void **state)
{
	(void)state;
	assert_int_equal(haproxy("0%\n"), 0);
	assert_int_equal(reply.weight_pct, 0);
	assert_int_equal(agent_reply_weight(&reply, 100), 0);
	assert_int_equal(haproxy("25600%\n"), 0);
	assert_int_equal(reply.weight_pct, 25600);
	assert_int_equal(agent_reply_weight(&reply, 1000), 65535); /* capped */
	assert_int_equal(haproxy("weight:7\n"), 0);
	assert_int_equal(reply.weight_abs, 7);
	assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET);
	assert_int_equal(agent_reply_weight(&reply, 100), 7);
	assert_int_equal(haproxy("WEIGHT:150%\n"), 0);
	assert_int_equal(reply.weight_pct, 150);
	assert_int_equal(reply.weight_abs, AGENT_WEIGHT_UNSET);
	assert_int_equal(agent_reply_weight(&reply, 10), 15);
	assert_int_equal(haproxy("weight:65535\n"), 0);
	assert_int_equal(reply.weight_abs, 65535);
	assert_int_equal(haproxy("maxconn:30\n"), 0);
	assert_int_equal(reply.maxconn, 30);
	assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET);
	assert_int_equal(agent_reply_weight(&reply, 12), 12); /* no weight: unchanged */
	assert_int_equal(haproxy("MaxConn:4294967294\n"), 0);
	assert_int_equal(reply.maxconn, 4294967294u);
	/* leading zeros are digits like any other */
	assert_int_equal(haproxy("007%\n"), 0);
	assert_int_equal(reply.weight_pct, 7);
}

static void test_separators(void **state)
{
	(void)state;
	assert_int_equal(haproxy("up,ready,75%\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UP);
	assert_int_equal(reply.admin, AGENT_ADMIN_READY);
	assert_int_equal(reply.weight_pct, 75);
	assert_int_equal(haproxy(" \t,up ,\t, drain\t75%,, \r\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UP);
	assert_int_equal(reply.admin, AGENT_ADMIN_DRAIN);
	assert_int_equal(reply.weight_pct, 75);
	/* an empty line (or only separators) asks for nothing */
	assert_int_equal(haproxy("\n"), 0);
	expect_unset();
	assert_int_equal(haproxy(" , \t\r\n"), 0);
	expect_unset();
	/* the line ends at the first CR or LF: what follows is not parsed */
	assert_int_equal(haproxy("up\rgarbage words\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UP);
	assert_int_equal(haproxy("50%\nbogus\n"), 0);
	assert_int_equal(reply.weight_pct, 50);
}

static void test_last_of_each_kind_wins(void **state)
{
	(void)state;
	assert_int_equal(haproxy("down up\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UP);
	assert_int_equal(haproxy("up fail\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_DOWN);
	assert_int_equal(haproxy("drain maint ready\n"), 0);
	assert_int_equal(reply.admin, AGENT_ADMIN_READY);
	assert_int_equal(haproxy("ready drain\n"), 0);
	assert_int_equal(reply.admin, AGENT_ADMIN_DRAIN);
	assert_int_equal(haproxy("10% 20%\n"), 0);
	assert_int_equal(reply.weight_pct, 20);
	/* a percentage and an absolute weight are one kind */
	assert_int_equal(haproxy("10% weight:3\n"), 0);
	assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET);
	assert_int_equal(reply.weight_abs, 3);
	assert_int_equal(agent_reply_weight(&reply, 100), 3);
	assert_int_equal(haproxy("weight:3 weight:40%\n"), 0);
	assert_int_equal(reply.weight_abs, AGENT_WEIGHT_UNSET);
	assert_int_equal(reply.weight_pct, 40);
	assert_int_equal(haproxy("maxconn:1 maxconn:2\n"), 0);
	assert_int_equal(reply.maxconn, 2);
	/* kinds are independent */
	assert_int_equal(haproxy("down 30% maint up\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UP);
	assert_int_equal(reply.admin, AGENT_ADMIN_MAINT);
	assert_int_equal(reply.weight_pct, 30);
}

static void test_free_text(void **state)
{
	(void)state;
	assert_int_equal(haproxy("down #disk full, 98%\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_DOWN);
	assert_string_equal(reply.text, "disk full, 98%");
	assert_int_equal(reply.weight_pct, AGENT_WEIGHT_UNSET); /* the text is not parsed */
	assert_int_equal(haproxy("#only text\n"), 0);
	assert_int_equal(reply.state, AGENT_STATE_UNSET);
	assert_string_equal(reply.text, "only text");
	assert_int_equal(haproxy("stopped,#maintenance window\r\n"), 0);
	assert_string_equal(reply.text, "maintenance window");
	/* control bytes made printable; long text cut */
	assert_int_equal(haproxy("up # a\x01z\n"), 0);
	assert_string_equal(reply.text, "a?z");
	char line[300];
	memset(line, 'x', sizeof(line));
	line[0] = '#';
	line[298] = '\n';
	line[299] = '\0';
	assert_int_equal(haproxy(line), 0);
	assert_int_equal(strlen(reply.text), AGENT_WHY_LEN - 1);
	/* a fresh parse clears what an earlier one set */
	assert_int_equal(haproxy("up\n"), 0);
	assert_string_equal(reply.text, "");
}

static void test_incomplete_line(void **state)
{
	(void)state;
	expect_refused(haproxy("up ready 75%"), "incomplete");
	expect_refused(haproxy(""), "incomplete");
	expect_refused(haproxy("drain"), "incomplete");
	/* an incomplete line sets nothing */
	expect_unset();
}

static void test_bad_words_and_numbers(void **state)
{
	(void)state;
	expect_refused(haproxy("upp\n"), "unknown word \"upp\"");
	expect_refused(haproxy("up bogus\n"), "unknown word \"bogus\"");
	expect_refused(haproxy("75\n"), "unknown word \"75\"");
	expect_refused(haproxy("%\n"), "bad weight \"%\"");
	expect_refused(haproxy("-5%\n"), "bad weight");
	expect_refused(haproxy("+5%\n"), "bad weight");
	expect_refused(haproxy("7.5%\n"), "bad weight");
	expect_refused(haproxy("25601%\n"), "bad weight \"25601%\" (0-25600%)");
	expect_refused(haproxy("99999999999999999999%\n"), "bad weight");
	expect_refused(haproxy("weight:\n"), "bad weight");
	expect_refused(haproxy("weight:65536\n"), "bad weight \"weight:65536\" (0-65535)");
	expect_refused(haproxy("weight:x\n"), "bad weight");
	expect_refused(haproxy("weight:5%%\n"), "bad weight");
	expect_refused(haproxy("maxconn:\n"), "bad number");
	expect_refused(haproxy("maxconn:-1\n"), "bad number");
	expect_refused(haproxy("maxconn:4294967295\n"), "bad number");
	expect_refused(haproxy("maxconn:10%\n"), "bad number");
	/* non-printable bytes in a quoted word */
	expect_refused(haproxy("u\x7fp\n"), "unknown word \"u?p\"");
	/* a NULL why is allowed */
	assert_int_equal(agent_reply_parse_haproxy("bad\n", 4, &reply, NULL, 0), -1);
}

static void test_lvs(void **state)
{
	(void)state;
	assert_int_equal(lvs("0"), 0);
	assert_int_equal(reply.weight_pct, 0);
	assert_int_equal(agent_reply_weight(&reply, 50), 0);
	assert_int_equal(lvs("100\r\n"), 0);
	assert_int_equal(reply.weight_pct, 1000);
	assert_int_equal(agent_reply_weight(&reply, 3), 30);
	assert_int_equal(agent_reply_weight(&reply, 60000), 65535);
	assert_int_equal(lvs("  \t42 \n\n"), 0);
	assert_int_equal(reply.weight_pct, 420);
	assert_int_equal(reply.state, AGENT_STATE_UNSET);
	assert_int_equal(reply.admin, AGENT_ADMIN_UNSET);
	expect_refused(lvs(""), "empty");
	expect_refused(lvs(" \r\n"), "empty");
	expect_refused(lvs("101"), "\"101\" is not an idle percentage 0-100");
	expect_refused(lvs("-1"), "not an idle percentage");
	expect_refused(lvs("50%"), "not an idle percentage");
	expect_refused(lvs("4x"), "not an idle percentage");
	expect_refused(lvs("99999999999999999999"), "not an idle percentage");
	expect_refused(lvs("20 30"), "followed by more text");
	expect_refused(lvs("20\nup"), "followed by more text");
}

static void test_http_variant(void **state)
{
	(void)state;
	/* no headers at all: the bare integer */
	assert_int_equal(http("75\n"), 0);
	assert_int_equal(reply.weight_pct, 750);
	/* an HTTP response whose body is the integer */
	assert_int_equal(http("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n30\n"), 0);
	assert_int_equal(reply.weight_pct, 300);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n15"), 0);
	assert_int_equal(reply.weight_pct, 150);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "1\r\n8\r\n1\r\n0\r\n0\r\n\r\n"),
			 0);
	assert_int_equal(reply.weight_pct, 800);
	expect_refused(http("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n15"),
		       "status 404");
	expect_refused(http("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n15"), "bad HTTP agent reply");
	expect_refused(http("HTTP/1.1 200 OK\r\n\r\nbusy"), "not an idle percentage");
	expect_refused(http("HTTP/1.1 200 OK\r\n"), "bad HTTP agent reply");
	expect_refused(http("nonsense"), "not an idle percentage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_examples),
		cmocka_unit_test(test_every_word),
		cmocka_unit_test(test_weights_and_maxconn),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_last_of_each_kind_wins),
		cmocka_unit_test(test_free_text),
		cmocka_unit_test(test_incomplete_line),
		cmocka_unit_test(test_bad_words_and_numbers),
		cmocka_unit_test(test_lvs),
		cmocka_unit_test(test_http_variant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
