/* lib/ha_election.h: the VRRP-like election with exact times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ha_election.h"

#define MS(x) ((uint64_t)(x) * 1000000ull)
#define SEC(x) MS((uint64_t)(x) * 1000)

static void make(struct ha_election *e, uint32_t id, uint8_t prio, uint32_t interval_ms)
{
	struct ha_election_config c;
	char err[64];

	ha_election_config_default(&c, id);
	c.priority = prio;
	c.advert_interval_ms = interval_ms;
	assert_int_equal(ha_election_init(e, &c, err, sizeof(err)), 0);
}

static struct ha_peer_advert advert_of(const struct ha_election *e)
{
	return (struct ha_peer_advert){.node_id = e->cfg.node_id, .priority = e->cfg.priority,
				       .state = e->state,
				       .interval_ms = e->cfg.advert_interval_ms};
}

static struct ha_peer_advert master(uint32_t id, uint8_t prio, uint32_t interval_ms)
{
	return (struct ha_peer_advert){.node_id = id, .priority = prio, .state = HA_STATE_MASTER,
				       .interval_ms = interval_ms};
}

static void test_config_checked(void **state)
{
	struct ha_election e;
	struct ha_election_config c;
	char err[64];

	(void)state;
	ha_election_config_default(&c, 1);
	assert_int_equal(c.priority, 100);
	assert_int_equal(c.advert_interval_ms, 1000);
	assert_int_equal(c.garp_count, 5);
	assert_int_equal(c.garp_repeat_ms, 5000);
	c.priority = 0;
	assert_int_equal(ha_election_init(&e, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "priority: 1-255");
	c.priority = 1;
	c.advert_interval_ms = 9;
	assert_int_equal(ha_election_init(&e, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "advert_interval_ms"));
	c.advert_interval_ms = 10;
	c.node_id = 0;
	assert_int_equal(ha_election_init(&e, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "node_id"));
	assert_string_equal(ha_state_name(HA_STATE_FAULT), "FAULT");
	assert_string_equal(ha_state_name(9), "?");
}

static void test_timers(void **state)
{
	(void)state;
	/* RFC 5798: skew = (256 - priority) * interval / 256; down = 3 * interval + skew */
	assert_int_equal(ha_skew_ns(100, 1000), 609375000);
	assert_int_equal(ha_master_down_ns(100, 1000), SEC(3) + 609375000);
	assert_int_equal(ha_master_down_ns(255, 1000), SEC(3) + 3906250);
	assert_int_equal(ha_master_down_ns(100, 200), MS(600) + 121875000);
}

/* A backup takes over exactly 3 adverts plus its skew after the last advert, then sends
 * adverts every interval and gratuitous ARPs 5 at once and 5 more after 5 s. */
static void test_backup_takes_over_exactly(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 1, 100, 1000);
	ha_election_start(&e, SEC(1), &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_int_equal(a.next_wake_ns, SEC(1) + ha_master_down_ns(100, 1000));
	struct ha_peer_advert m = master(2, 200, 1000);
	ha_election_advert(&e, &m, SEC(10), &a);
	uint64_t down = SEC(10) + SEC(3) + 609375000;
	assert_int_equal(a.next_wake_ns, down);
	assert_int_equal(e.master_id, 2);
	ha_election_tick(&e, down - 1, &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_false(a.send_advert || a.take_vips || a.garp_burst);
	ha_election_tick(&e, down, &a);
	assert_int_equal(a.old_state, HA_STATE_BACKUP);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	assert_true(a.send_advert && a.take_vips && !a.release_vips);
	assert_int_equal(a.garp_burst, 5);
	assert_int_equal(e.state_since_ns, down);
	assert_int_equal(a.next_wake_ns, down + SEC(1));
	/* adverts every second; the second burst at exactly +5 s; then nothing more */
	int adverts = 0, garps = 0;
	for (uint64_t t = down + SEC(1); t <= down + SEC(10); t = a.next_wake_ns) {
		ha_election_tick(&e, t, &a);
		adverts += a.send_advert;
		if (a.garp_burst) {
			assert_int_equal(t, down + SEC(5));
			garps += a.garp_burst;
		}
	}
	assert_int_equal(adverts, 10);
	assert_int_equal(garps, 5);
}

/* The backup uses the master's advertised interval: a 200 ms master is declared down after
 * 600 ms + the skew of 200 ms, whatever the backup's own interval. */
static void test_sub_second_interval(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 1, 100, 1000);
	ha_election_start(&e, 0, &a);
	struct ha_peer_advert m = master(2, 200, 200);
	ha_election_advert(&e, &m, MS(500), &a);
	assert_int_equal(a.next_wake_ns, MS(500) + MS(600) + 121875000);
	ha_election_tick(&e, a.next_wake_ns, &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
}

/* Adverts late by less than an interval never let the backup take over. */
static void test_no_flap_on_late_adverts(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 1, 100, 200);
	ha_election_start(&e, 0, &a);
	struct ha_peer_advert m = master(2, 200, 200);
	uint64_t t = MS(100);
	for (int i = 0; i < 1000; i++) {
		ha_election_advert(&e, &m, t, &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
		uint64_t next = t + MS(200) + MS(199); /* 199 ms late */
		/* the timer fires when asked, before the late advert comes, and changes nothing */
		if (a.next_wake_ns <= next) {
			ha_election_tick(&e, a.next_wake_ns, &a);
			assert_int_equal(a.new_state, HA_STATE_BACKUP);
		}
		ha_election_tick(&e, next - 1, &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
		t = next;
	}
	assert_int_equal(e.state_since_ns, 0);
}

/* Two masters (the heartbeat path was cut, then restored): the lower priority steps down on the
 * first advert it sees; the higher one answers with an advert and gratuitous ARPs at once and
 * stays. */
static void test_split_brain(void **state)
{
	struct ha_election lo, hi;
	struct ha_actions a;

	(void)state;
	make(&lo, 1, 100, 1000);
	make(&hi, 2, 200, 1000);
	ha_election_start(&lo, 0, &a);
	ha_election_start(&hi, 0, &a);
	ha_election_tick(&lo, SEC(4), &a);
	ha_election_tick(&hi, SEC(4), &a);
	assert_int_equal(lo.state, HA_STATE_MASTER);
	assert_int_equal(hi.state, HA_STATE_MASTER);
	struct ha_peer_advert from_lo = advert_of(&lo), from_hi = advert_of(&hi);
	ha_election_advert(&hi, &from_lo, SEC(5), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	assert_true(a.send_advert);
	assert_false(a.release_vips);
	/* and announces itself again: clients and switches learned lo's MAC during the cut */
	assert_int_equal(a.garp_burst, 5);
	ha_election_advert(&lo, &from_hi, SEC(5), &a);
	assert_int_equal(a.old_state, HA_STATE_MASTER);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_true(a.release_vips);
	assert_false(a.take_vips);
	/* it says so once (an advert saying BACKUP), so that hi announces the VIPs again */
	assert_true(a.send_advert);
	assert_int_equal(lo.state, HA_STATE_BACKUP);
	assert_int_equal(a.next_wake_ns, SEC(5) + ha_master_down_ns(100, 1000));
	/* and it stays there while hi keeps advertising (no flapping) */
	for (uint64_t t = SEC(6); t < SEC(60); t += SEC(1)) {
		ha_election_advert(&lo, &from_hi, t, &a);
		ha_election_tick(&lo, t + MS(999), &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
	}
}

/*
 * The healed split brain where the lower-ranked master hears the other first: it steps down
 * and its one advert says BACKUP; the winner, which never heard it as MASTER, announces the
 * VIPs again on that advert (the segment learned the loser's MAC during the cut).
 */
static void test_split_brain_loser_hears_first(void **state)
{
	struct ha_election lo, hi;
	struct ha_actions a;

	(void)state;
	make(&lo, 1, 100, 1000);
	make(&hi, 2, 200, 1000);
	ha_election_start(&lo, 0, &a);
	ha_election_start(&hi, 0, &a);
	ha_election_tick(&lo, SEC(4), &a);
	ha_election_tick(&hi, SEC(4), &a);
	struct ha_peer_advert from_hi = advert_of(&hi);
	ha_election_advert(&lo, &from_hi, SEC(5), &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_true(a.send_advert);
	struct ha_peer_advert from_lo = advert_of(&lo);
	assert_int_equal(from_lo.state, HA_STATE_BACKUP);
	ha_election_advert(&hi, &from_lo, SEC(5) + MS(1), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	assert_int_equal(a.garp_burst, 5);
	assert_false(a.release_vips || a.take_vips);
	/* a backup that hears another node's BACKUP advert does nothing */
	ha_election_advert(&lo, &from_lo, SEC(6), &a);
	struct ha_peer_advert other = {.node_id = 3, .priority = 50, .state = HA_STATE_BACKUP,
				       .interval_ms = 1000};
	ha_election_advert(&lo, &other, SEC(6), &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_int_equal(a.garp_burst, 0);
	assert_false(a.send_advert);
}

/* Equal priorities: the higher node id wins, both ways round. */
static void test_equal_priority_higher_id_wins(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 5, 100, 1000);
	ha_election_start(&e, 0, &a);
	ha_election_tick(&e, SEC(4), &a);
	assert_int_equal(e.state, HA_STATE_MASTER);
	struct ha_peer_advert m = master(4, 100, 1000);
	ha_election_advert(&e, &m, SEC(5), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	m.node_id = 6;
	ha_election_advert(&e, &m, SEC(6), &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_true(a.release_vips);
}

/* Preempt: a higher-priority backup takes over from a lower master once the delay has run
 * since it first saw it; without delay at its first advert; with preempt off, never. */
static void test_preempt_with_delay(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 1, 200, 1000);
	ha_election_set_preempt(&e, true, 2500, 0, &a);
	ha_election_start(&e, 0, &a);
	struct ha_peer_advert m = master(2, 100, 1000);
	ha_election_advert(&e, &m, SEC(1), &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_int_equal(a.next_wake_ns, SEC(1) + MS(2500));
	ha_election_advert(&e, &m, SEC(2), &a);
	assert_int_equal(a.next_wake_ns, SEC(1) + MS(2500)); /* the delay does not restart */
	ha_election_advert(&e, &m, SEC(3), &a);
	ha_election_tick(&e, SEC(1) + MS(2500) - 1, &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	ha_election_tick(&e, SEC(1) + MS(2500), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	assert_true(a.take_vips && a.send_advert);
	assert_int_equal(a.garp_burst, 5);

	/* no delay: at the first advert of the lower master */
	make(&e, 1, 200, 1000);
	ha_election_start(&e, 0, &a);
	ha_election_advert(&e, &m, SEC(1), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);

	/* preempt off: it follows the lower master for as long as it advertises */
	make(&e, 1, 200, 1000);
	ha_election_set_preempt(&e, false, 0, 0, &a);
	ha_election_start(&e, 0, &a);
	for (uint64_t t = SEC(1); t < SEC(100); t += SEC(1)) {
		ha_election_advert(&e, &m, t, &a);
		ha_election_tick(&e, t + MS(999), &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
	}
	/* ... and still takes over when it stops */
	ha_election_tick(&e, SEC(99) + ha_master_down_ns(200, 1000), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
}

/* A held preemption (the backup lacks the master's connections) waits, sets no timer in the
 * past, and happens at the first advert or tick after the hold is lifted; a master that stops
 * advertising is taken over from even while held. */
static void test_preempt_hold(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 1, 200, 1000);
	ha_election_start(&e, 0, &a);
	struct ha_peer_advert m = master(2, 100, 1000);
	e.preempt_hold = true;
	for (uint64_t t = SEC(1); t <= SEC(5); t += SEC(1)) {
		ha_election_advert(&e, &m, t, &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
		assert_true(a.next_wake_ns > t); /* the master-down timer, not the due preemption */
		ha_election_tick(&e, t + MS(500), &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
	}
	e.preempt_hold = false;
	ha_election_tick(&e, SEC(5) + MS(600), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	assert_true(a.take_vips);

	/* held, but the master goes silent: taken over at the master-down time */
	make(&e, 1, 200, 1000);
	ha_election_start(&e, 0, &a);
	e.preempt_hold = true;
	ha_election_advert(&e, &m, SEC(1), &a);
	ha_election_tick(&e, SEC(1) + ha_master_down_ns(200, 1000), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
}

/* A lower-priority backup never preempts a higher master, preempt or not. */
static void test_lower_backup_does_not_preempt(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 9, 50, 1000);
	ha_election_start(&e, 0, &a);
	struct ha_peer_advert m = master(2, 100, 1000);
	for (uint64_t t = SEC(1); t < SEC(30); t += SEC(1)) {
		ha_election_advert(&e, &m, t, &a);
		ha_election_tick(&e, t + MS(999), &a);
		assert_int_equal(a.new_state, HA_STATE_BACKUP);
	}
}

/* A master that loses its ping node goes FAULT at once, releases the VIPs and says so in an
 * advert; its backup then takes over after only its skew. Back in reach, it is a backup again
 * and preempts the lower master. */
static void test_ping_node_loss(void **state)
{
	struct ha_election hi, lo;
	struct ha_actions a;

	(void)state;
	make(&hi, 2, 200, 1000);
	make(&lo, 1, 100, 1000);
	ha_election_start(&hi, 0, &a);
	ha_election_start(&lo, 0, &a);
	ha_election_tick(&hi, ha_master_down_ns(200, 1000), &a);
	assert_int_equal(hi.state, HA_STATE_MASTER);
	struct ha_peer_advert from_hi = advert_of(&hi);
	ha_election_advert(&lo, &from_hi, SEC(4), &a);
	assert_int_equal(lo.state, HA_STATE_BACKUP);

	ha_election_ping(&hi, false, SEC(5), &a);
	assert_int_equal(a.old_state, HA_STATE_MASTER);
	assert_int_equal(a.new_state, HA_STATE_FAULT);
	assert_true(a.release_vips && a.send_advert);
	assert_int_equal(a.next_wake_ns, UINT64_MAX);
	from_hi = advert_of(&hi);
	assert_int_equal(from_hi.state, HA_STATE_FAULT);
	ha_election_advert(&lo, &from_hi, SEC(5), &a);
	assert_int_equal(a.next_wake_ns, SEC(5) + ha_skew_ns(100, 1000));
	ha_election_tick(&lo, SEC(5) + ha_skew_ns(100, 1000), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);

	/* FAULT ignores adverts and timers */
	struct ha_peer_advert from_lo = advert_of(&lo);
	ha_election_advert(&hi, &from_lo, SEC(6), &a);
	ha_election_tick(&hi, SEC(100), &a);
	assert_int_equal(a.new_state, HA_STATE_FAULT);
	/* reachable again: BACKUP, and it preempts the lower master at its next advert */
	ha_election_ping(&hi, true, SEC(101), &a);
	assert_int_equal(a.new_state, HA_STATE_BACKUP);
	assert_false(a.take_vips);
	ha_election_advert(&hi, &from_lo, SEC(101) + MS(300), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	/* a node started while its ping node is down starts in FAULT */
	make(&lo, 1, 100, 1000);
	ha_election_ping(&lo, false, 0, &a);
	assert_int_equal(a.new_state, HA_STATE_INIT);
	ha_election_start(&lo, 0, &a);
	assert_int_equal(a.new_state, HA_STATE_FAULT);
	assert_false(a.send_advert || a.release_vips);
}

/* A master whose priority changes tells the peer at once; the master's timer keeps a fixed
 * rate when the caller is late (one advert, not a burst). */
static void test_priority_change_and_late_ticks(void **state)
{
	struct ha_election e;
	struct ha_actions a;

	(void)state;
	make(&e, 1, 100, 1000);
	ha_election_start(&e, 0, &a);
	uint64_t up = ha_master_down_ns(100, 1000);
	ha_election_tick(&e, up, &a);
	assert_int_equal(e.state, HA_STATE_MASTER);
	ha_election_set_priority(&e, 20, up + MS(10), &a);
	assert_true(a.send_advert);
	assert_int_equal(e.cfg.priority, 20);
	ha_election_set_priority(&e, 20, up + MS(20), &a);
	assert_false(a.send_advert);
	ha_election_set_priority(&e, 0, up + MS(20), &a);
	assert_int_equal(e.cfg.priority, 20);
	ha_election_tick(&e, up + MS(3500), &a); /* 2.5 intervals late */
	assert_true(a.send_advert);
	assert_int_equal(a.next_wake_ns, up + SEC(4));
	/* adverts carrying our own id (looped back) are counted and ignored */
	struct ha_peer_advert self = master(1, 255, 1000);
	ha_election_advert(&e, &self, up + SEC(4), &a);
	assert_int_equal(a.new_state, HA_STATE_MASTER);
	assert_int_equal(e.own_id_adverts, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_checked),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_backup_takes_over_exactly),
		cmocka_unit_test(test_sub_second_interval),
		cmocka_unit_test(test_no_flap_on_late_adverts),
		cmocka_unit_test(test_split_brain),
		cmocka_unit_test(test_split_brain_loser_hears_first),
		cmocka_unit_test(test_equal_priority_higher_id_wins),
		cmocka_unit_test(test_preempt_with_delay),
		cmocka_unit_test(test_preempt_hold),
		cmocka_unit_test(test_lower_backup_does_not_preempt),
		cmocka_unit_test(test_ping_node_loss),
		cmocka_unit_test(test_priority_change_and_late_ticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
