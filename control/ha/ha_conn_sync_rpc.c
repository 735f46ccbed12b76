/*
 * Test hooks of connection sync (docs/api.md, "ha.sync.test_*"), answered only by a daemon
 * started with DPDK_LB_TEST_HOOKS=1: they drive connection sync without a peer, so that one
 * daemon's records (as a master sends them) can be fed to another (as a backup receives them).
 * Messages cross as hex of the wire format, signed with a key the caller gives, and go through
 * the same decoder as the transport's.
 */
#include <stdio.h>
#include <string.h>

#include "ha_conn_sync.h"
#include "rpc_methods.h"

#define TEST_SENDER_ID 0x7e57 /* what captured messages say they come from */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex string `s` into buf; its length, or -1 when not hex or longer than cap. */
static long from_hex(const char *s, uint8_t *buf, size_t cap)
{
	size_t n = strlen(s);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static int key_param(json_t *params, struct ha_wire_key *key, struct rpc_error *err)
{
	uint8_t raw[HA_WIRE_KEY_MAX];
	json_t *k = json_object_get(params, "key");
	long n = json_is_string(k) ? from_hex(json_string_value(k), raw, sizeof(raw)) : -1;

	if (n < 0 || ha_wire_key_set(key, raw, (size_t)n) != 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS,
			 "key: must be a hex string of %d to %d bytes", HA_WIRE_KEY_MIN, HA_WIRE_KEY_MAX);
		return -1;
	}
	return 0;
}

static json_t *test_role(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {"role", "period_s", NULL};
	static const char *const names[HA_STATE_COUNT] = {"init", "backup", "master", "fault"};
	char msg[128];

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0)
		return NULL;
	const char *role = json_string_value(json_object_get(params, "role"));
	json_t *period = json_object_get(params, "period_s");
	if (period != NULL && (!json_is_integer(period) || json_integer_value(period) < 0 ||
			       json_integer_value(period) > 3600))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "period_s: must be an integer 0-3600");
	for (uint8_t st = 0; role != NULL && st < HA_STATE_COUNT; st++) {
		if (strcmp(role, names[st]) != 0)
			continue;
		if (ha_conn_sync_test_start(st, msg, sizeof(msg)) != 0)
			return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "%s", msg);
		if (period != NULL)
			ha_conn_sync_set_params(&(struct ha_conn_sync_params){
				.period_s = (uint32_t)json_integer_value(period)});
		return json_pack("{s:s}", "role", names[st]);
	}
	return rpc_fail(err, JSONRPC_INVALID_PARAMS, "role: must be init, backup, master or fault");
}

static json_t *test_inject(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {"key", "messages", NULL};
	static uint8_t buf[HA_WIRE_MSG_MAX];
	static struct ha_msg m; /* large: not on the stack */
	struct ha_wire_key key;
	char why[HA_WIRE_ERR_LEN];
	size_t i;
	json_t *v, *msgs = json_object_get(params, "messages");
	json_int_t batches = 0, ends = 0;

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0 ||
	    key_param(params, &key, err) != 0)
		return NULL;
	if (!json_is_array(msgs))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "messages: must be an array of hex strings");
	json_array_foreach(msgs, i, v) {
		long n = json_is_string(v) ? from_hex(json_string_value(v), buf, sizeof(buf)) : -1;
		if (n < 0)
			return rpc_fail(err, JSONRPC_INVALID_PARAMS,
					"messages[%zu]: must be hex of at most %d bytes", i, HA_WIRE_MSG_MAX);
		if (ha_wire_decode(buf, (size_t)n, &key, &m, why, sizeof(why)) != 0)
			return rpc_fail(err, JSONRPC_INVALID_PARAMS, "messages[%zu]: %s", i, why);
		if (m.type == HA_MSG_CONN_BATCH) {
			ha_conn_sync_on_batch(&m);
			batches++;
		} else if (m.type == HA_MSG_FULL_SYNC_END) {
			ha_conn_sync_on_full_sync_end(&m);
			ends++;
		}
	}
	return json_pack("{s:I,s:I}", "batches", batches, "full_sync_ends", ends);
}

static json_t *test_capture(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {"key", NULL};
	static uint64_t seq;
	static uint8_t buf[HA_WIRE_MSG_MAX];
	static char hex[2 * HA_WIRE_MSG_MAX + 1];
	struct ha_wire_key key;
	const struct ha_msg *msgs;
	char why[HA_WIRE_ERR_LEN];

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0 ||
	    key_param(params, &key, err) != 0)
		return NULL;
	size_t n = ha_conn_sync_test_take(&msgs);
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		struct ha_msg m = msgs[i];
		m.sender_id = TEST_SENDER_ID;
		m.seq = ++seq;
		int len = ha_wire_encode(buf, sizeof(buf), &key, &m, why, sizeof(why));
		if (len < 0) {
			json_decref(out);
			return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "message %zu does not encode: %s", i, why);
		}
		for (int b = 0; b < len; b++)
			snprintf(hex + 2 * b, 3, "%02x", buf[b]);
		json_array_append_new(out, json_string(hex));
	}
	return json_pack("{s:o}", "messages", out);
}

static json_t *test_full_sync(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {NULL};

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0)
		return NULL;
	ha_conn_sync_full_start();
	return json_pack("{s:b}", "started", 1);
}

static json_t *test_stats(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {NULL};
	struct ha_conn_sync_stats st;

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0)
		return NULL;
	ha_conn_sync_stats(&st);
	json_t *refused = json_object();
	for (int r = 0; r < HA_REFUSE_COUNT; r++)
		json_object_set_new(refused, ha_conn_refuse_names[r], json_integer((json_int_t)st.refused[r]));
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:b}",
			 "records_sent", (json_int_t)st.records_sent, "batches_sent",
			 (json_int_t)st.batches_sent, "send_failures", (json_int_t)st.send_failures,
			 "refresh_records", (json_int_t)st.refresh_records, "full_syncs_sent",
			 (json_int_t)st.full_syncs_sent, "events_unmapped", (json_int_t)st.events_unmapped,
			 "records_received", (json_int_t)st.records_received, "batches_received",
			 (json_int_t)st.batches_received, "posted", (json_int_t)st.posted, "installed",
			 (json_int_t)st.installed, "updated", (json_int_t)st.updated, "removed",
			 (json_int_t)st.removed, "templates_stored", (json_int_t)st.templates_stored,
			 "hops_learned", (json_int_t)st.hops_learned, "full_syncs_received",
			 (json_int_t)st.full_syncs_received, "synced", (json_int_t)st.synced, "refused",
			 refused, "full_sync_running", st.full_sync_running);
}

const struct rpc_method rpc_ha_sync_test_methods[] = {
	{"ha.sync.test_role", test_role},
	{"ha.sync.test_inject", test_inject},
	{"ha.sync.test_capture", test_capture},
	{"ha.sync.test_full_sync", test_full_sync},
	{"ha.sync.test_stats", test_stats},
	{NULL, NULL},
};
