/* Unit tests for lib/tcp_state: IPVS transitions, flag priority, names and default timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt_parse.h"
#include "tcp_state.h"

#define SYN PKT_TCP_SYN
#define ACK PKT_TCP_ACK
#define FIN PKT_TCP_FIN
#define RST PKT_TCP_RST
#define PSH PKT_TCP_PSH

static void expect_next(uint8_t from, enum lb_tcp_dir dir, uint8_t flags, uint8_t want)
{
	uint8_t got = lb_tcp_state_next(from, dir, flags);

	if (got != want)
		fail_msg("dir %d, %s + flags 0x%02x: got %s, want %s", (int)dir,
			 lb_conn_state_name(from), flags, lb_conn_state_name(got),
			 lb_conn_state_name(want));
}

static void test_input_only_lifecycle(void **state)
{
	(void)state;
	/* the direct-routing path: the appliance only sees client -> server */
	expect_next(LB_TCP_NONE, LB_TCP_DIR_INPUT_ONLY, SYN, LB_TCP_SYN_RECV);
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_INPUT_ONLY, ACK, LB_TCP_ESTABLISHED);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, ACK | PSH, LB_TCP_ESTABLISHED);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, FIN | ACK, LB_TCP_FIN_WAIT);
	expect_next(LB_TCP_FIN_WAIT, LB_TCP_DIR_INPUT_ONLY, ACK, LB_TCP_FIN_WAIT);
	expect_next(LB_TCP_FIN_WAIT, LB_TCP_DIR_INPUT_ONLY, RST, LB_TCP_CLOSE);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, RST, LB_TCP_CLOSE);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, RST | ACK, LB_TCP_CLOSE);

	/* the whole walk, one segment after the other */
	uint8_t s = LB_TCP_NONE;
	const uint8_t segments[] = {SYN, ACK, ACK | PSH, FIN | ACK, RST};
	const uint8_t states[] = {LB_TCP_SYN_RECV, LB_TCP_ESTABLISHED, LB_TCP_ESTABLISHED,
				  LB_TCP_FIN_WAIT, LB_TCP_CLOSE};
	for (size_t i = 0; i < sizeof(segments); i++) {
		s = lb_tcp_state_next(s, LB_TCP_DIR_INPUT_ONLY, segments[i]);
		assert_int_equal(s, states[i]);
	}
}

static void test_input_only_more(void **state)
{
	(void)state;
	/* a SYN retransmitted in SYN_RECV stays there; RST in SYN_RECV keeps SYN_RECV (IPVS) */
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_INPUT_ONLY, SYN, LB_TCP_SYN_RECV);
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_INPUT_ONLY, RST, LB_TCP_SYN_RECV);
	/* a new SYN on a closed or timed-wait connection starts over */
	expect_next(LB_TCP_CLOSE, LB_TCP_DIR_INPUT_ONLY, SYN, LB_TCP_SYN_RECV);
	expect_next(LB_TCP_TIME_WAIT, LB_TCP_DIR_INPUT_ONLY, SYN, LB_TCP_SYN_RECV);
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_INPUT_ONLY, FIN, LB_TCP_TIME_WAIT);
	expect_next(LB_TCP_FIN_WAIT, LB_TCP_DIR_INPUT_ONLY, FIN, LB_TCP_FIN_WAIT);
	expect_next(LB_TCP_CLOSE, LB_TCP_DIR_INPUT_ONLY, ACK, LB_TCP_CLOSE);
	expect_next(LB_TCP_LAST_ACK, LB_TCP_DIR_INPUT_ONLY, ACK, LB_TCP_CLOSE);
}

static void test_input_output_tables(void **state)
{
	(void)state;
	/* INPUT (client -> server, replies seen too) */
	expect_next(LB_TCP_NONE, LB_TCP_DIR_INPUT, SYN, LB_TCP_SYN_RECV);
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_INPUT, ACK, LB_TCP_ESTABLISHED);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT, FIN, LB_TCP_CLOSE_WAIT);
	expect_next(LB_TCP_FIN_WAIT, LB_TCP_DIR_INPUT, FIN, LB_TCP_TIME_WAIT);
	expect_next(LB_TCP_LAST_ACK, LB_TCP_DIR_INPUT, ACK, LB_TCP_CLOSE);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT, RST, LB_TCP_CLOSE);
	expect_next(LB_TCP_SYNACK, LB_TCP_DIR_INPUT, RST, LB_TCP_SYN_RECV);

	/* OUTPUT (server -> client) */
	expect_next(LB_TCP_NONE, LB_TCP_DIR_OUTPUT, SYN, LB_TCP_SYN_SENT);
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_OUTPUT, SYN | ACK, LB_TCP_SYN_RECV);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_OUTPUT, FIN, LB_TCP_FIN_WAIT);
	expect_next(LB_TCP_CLOSE_WAIT, LB_TCP_DIR_OUTPUT, FIN, LB_TCP_TIME_WAIT);
	expect_next(LB_TCP_LISTEN, LB_TCP_DIR_OUTPUT, ACK, LB_TCP_ESTABLISHED);
	expect_next(LB_TCP_SYN_SENT, LB_TCP_DIR_OUTPUT, RST, LB_TCP_SYN_SENT);
	expect_next(LB_TCP_TIME_WAIT, LB_TCP_DIR_OUTPUT, RST, LB_TCP_TIME_WAIT);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_OUTPUT, RST, LB_TCP_CLOSE);

	/* the direction matters: the same segment in the same state differs */
	assert_int_not_equal(lb_tcp_state_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT, FIN),
			     lb_tcp_state_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, FIN));
}

static void test_flag_priority(void **state)
{
	(void)state;
	/* RST wins over SYN, FIN and ACK */
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, RST | SYN, LB_TCP_CLOSE);
	expect_next(LB_TCP_NONE, LB_TCP_DIR_INPUT_ONLY, RST | SYN, LB_TCP_CLOSE);
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, RST | FIN | ACK, LB_TCP_CLOSE);
	/* SYN wins over FIN and ACK: SYN in ESTABLISHED stays ESTABLISHED, FIN would not */
	expect_next(LB_TCP_ESTABLISHED, LB_TCP_DIR_INPUT_ONLY, SYN | FIN, LB_TCP_ESTABLISHED);
	expect_next(LB_TCP_NONE, LB_TCP_DIR_INPUT_ONLY, SYN | ACK, LB_TCP_SYN_RECV);
	/* FIN wins over ACK */
	expect_next(LB_TCP_SYN_RECV, LB_TCP_DIR_INPUT_ONLY, FIN | ACK, LB_TCP_TIME_WAIT);
}

static void test_no_flags_keeps_state(void **state)
{
	(void)state;
	for (uint8_t s = 0; s < LB_TCP_STATE_COUNT; s++) {
		for (int dir = LB_TCP_DIR_INPUT; dir <= LB_TCP_DIR_INPUT_ONLY; dir++) {
			expect_next(s, (enum lb_tcp_dir)dir, 0, s);
			expect_next(s, (enum lb_tcp_dir)dir, PSH, s);
			expect_next(s, (enum lb_tcp_dir)dir, 0x20 /* URG */ | 0x40 | 0x80, s);
		}
	}
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_next(LB_TCP_STATE_COUNT, LB_TCP_DIR_INPUT_ONLY, ACK, LB_TCP_CLOSE);
	expect_next(LB_UDP_STATE, LB_TCP_DIR_INPUT, SYN, LB_TCP_CLOSE);
	expect_next(200, LB_TCP_DIR_INPUT_ONLY, 0, LB_TCP_CLOSE);
	expect_next(255, LB_TCP_DIR_OUTPUT, RST, LB_TCP_CLOSE);
	expect_next(LB_TCP_ESTABLISHED, (enum lb_tcp_dir)3, ACK, LB_TCP_CLOSE);
}

static void test_results_in_range(void **state)
{
	(void)state;
	/* every transition lands on a valid TCP state: the result indexes timeout tables */
	for (unsigned int s = 0; s < 256; s++)
		for (int dir = LB_TCP_DIR_INPUT; dir <= LB_TCP_DIR_INPUT_ONLY; dir++)
			for (unsigned int flags = 0; flags < 256; flags++) {
				uint8_t n = lb_tcp_state_next((uint8_t)s, (enum lb_tcp_dir)dir,
							      (uint8_t)flags);
				assert_true(n < LB_TCP_STATE_COUNT);
			}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(lb_conn_state_name(LB_TCP_NONE), "NONE");
	assert_string_equal(lb_conn_state_name(LB_TCP_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(lb_conn_state_name(LB_TCP_SYN_SENT), "SYN_SENT");
	assert_string_equal(lb_conn_state_name(LB_TCP_SYN_RECV), "SYN_RECV");
	assert_string_equal(lb_conn_state_name(LB_TCP_FIN_WAIT), "FIN_WAIT");
	assert_string_equal(lb_conn_state_name(LB_TCP_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(lb_conn_state_name(LB_TCP_CLOSE), "CLOSE");
	assert_string_equal(lb_conn_state_name(LB_TCP_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(lb_conn_state_name(LB_TCP_LAST_ACK), "LAST_ACK");
	assert_string_equal(lb_conn_state_name(LB_TCP_LISTEN), "LISTEN");
	assert_string_equal(lb_conn_state_name(LB_TCP_SYNACK), "SYNACK");
	assert_string_equal(lb_conn_state_name(LB_UDP_STATE), "UDP");
	assert_string_equal(lb_conn_state_name(LB_CONN_STATE_COUNT), "?");
	assert_string_equal(lb_conn_state_name(255), "?");
}

static void test_default_timeouts(void **state)
{
	struct lb_timeouts t;

	(void)state;
	memset(&t, 0, sizeof(t));
	lb_timeouts_default(&t);
	assert_int_equal(t.by_state[LB_TCP_ESTABLISHED], 900);
	assert_int_equal(t.by_state[LB_TCP_FIN_WAIT], 120);
	assert_int_equal(t.by_state[LB_TCP_SYN_RECV], 60);
	assert_int_equal(t.by_state[LB_TCP_TIME_WAIT], 120);
	assert_int_equal(t.by_state[LB_TCP_CLOSE], 10);
	assert_int_equal(t.by_state[LB_TCP_CLOSE_WAIT], 60);
	assert_int_equal(t.by_state[LB_TCP_LAST_ACK], 30);
	assert_int_equal(t.by_state[LB_TCP_LISTEN], 120);
	assert_int_equal(t.by_state[LB_TCP_SYN_SENT], 120);
	assert_int_equal(t.by_state[LB_UDP_STATE], 300);
	/* every state has a timeout, so no flow lives forever */
	for (int s = 0; s < LB_CONN_STATE_COUNT; s++)
		assert_true(t.by_state[s] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input_only_lifecycle),
		cmocka_unit_test(test_input_only_more),
		cmocka_unit_test(test_input_output_tables),
		cmocka_unit_test(test_flag_priority),
		cmocka_unit_test(test_no_flags_keeps_state),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_results_in_range),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_default_timeouts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
