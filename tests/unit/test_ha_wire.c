/* lib/ha_wire.h: round trips of every message, every rejection, the replay window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "forward_method.h"
#include "ha_wire.h"
#include "tcp_state.h"

static struct ha_wire_key key;
static char err[HA_WIRE_ERR_LEN];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(ha_wire_key_set(&key, "0123456789abcdef0123456789abcdef", 32), 0);
	return 0;
}

static void head(struct ha_msg *m, uint8_t type, uint64_t seq)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->sender_id = 7;
	m->seq = seq;
}

static void advert(struct ha_msg *m)
{
	head(m, HA_MSG_ADVERT, 42);
	m->advert = (struct ha_advert){.priority = 150, .state = HA_STATE_MASTER,
				       .flags = HA_ADVERT_F_PREEMPT, .interval_ms = 200,
				       .config_generation = 0x0102030405060708ull, .workers = 4,
				       .fnat_port_min = 1024, .fnat_port_max = 65535,
				       .capabilities = HA_CAP_CONN_SYNC | HA_CAP_CONFIG_SYNC | 0x80};
}

/* An IPv4 fnat connection: client 192.0.2.1:40000 -> VIP 10.0.0.100:80, real 10.1.0.5:8080,
 * local address 10.1.0.254:5000. */
static struct ha_conn_record fnat_conn(void)
{
	struct ha_conn_record r = {.kind = HA_REC_CONN, .event = HA_EV_CREATED,
				   .state = LB_TCP_ESTABLISHED, .forward = LB_FWD_FNAT,
				   .worker = 2, .flags = HA_REC_F_REPLY, .family = 4, .proto = 6,
				   .real_family = 4, .svc_proto = 6, .svc_port = 80,
				   .timeout_s = 900, .real_port = 8080, .client_sport = 40000,
				   .client_dport = 80, .reply_sport = 8080, .reply_dport = 5000};
	memcpy(r.client_src, (uint8_t[]){192, 0, 2, 1}, 4);
	memcpy(r.client_dst, (uint8_t[]){10, 0, 0, 100}, 4);
	memcpy(r.real_addr, (uint8_t[]){10, 1, 0, 5}, 4);
	memcpy(r.reply_src, r.real_addr, 4);
	memcpy(r.reply_dst, (uint8_t[]){10, 1, 0, 254}, 4);
	return r;
}

/* An IPv6 dr UDP connection of a service group (port 0). */
static struct ha_conn_record dr6_udp(void)
{
	struct ha_conn_record r = {.kind = HA_REC_CONN, .event = HA_EV_REFRESH,
				   .state = LB_UDP_STATE, .forward = LB_FWD_DR, .family = 6,
				   .proto = 17, .real_family = 6, .svc_proto = 17, .svc_port = 0,
				   .timeout_s = 300, .real_port = 53, .client_sport = 5353,
				   .client_dport = 53};
	r.client_src[0] = 0x20, r.client_src[15] = 1;
	r.client_dst[0] = 0x20, r.client_dst[15] = 0x64;
	r.real_addr[0] = 0xfd, r.real_addr[15] = 5;
	return r;
}

/* A persistence template: clients of 192.0.2.0/24 on 10.0.0.100:443 go to 10.1.0.6:443. */
static struct ha_conn_record template(void)
{
	struct ha_conn_record r = {.kind = HA_REC_PERSIST, .event = HA_EV_CREATED,
				   .forward = LB_FWD_NAT, .family = 4, .proto = 6,
				   .real_family = 4, .svc_proto = 6, .svc_port = 443,
				   .timeout_s = 360, .real_port = 443};
	memcpy(r.client_src, (uint8_t[]){192, 0, 2, 0}, 4);
	memcpy(r.client_dst, (uint8_t[]){10, 0, 0, 100}, 4);
	memcpy(r.real_addr, (uint8_t[]){10, 1, 0, 6}, 4);
	return r;
}

static void batch(struct ha_msg *m)
{
	head(m, HA_MSG_CONN_BATCH, 9);
	m->flags = HA_WIRE_F_FULL_SYNC;
	m->batch.count = 3;
	m->batch.rec[0] = fnat_conn();
	m->batch.rec[1] = dr6_udp();
	m->batch.rec[2] = template();
}

static const char config_text[] = "{\"services\": []}";

static void config(struct ha_msg *m)
{
	head(m, HA_MSG_CONFIG, 10);
	m->config = (struct ha_config_chunk){.generation = 12, .total_len = 100, .offset = 80,
					     .len = (uint16_t)strlen(config_text),
					     .data = (const uint8_t *)config_text};
}

static void full_sync(struct ha_msg *m, uint8_t type)
{
	head(m, type, 11);
	m->full_sync = (struct ha_full_sync){.what = HA_SYNC_ALL,
					     .records = type == HA_MSG_FULL_SYNC_END ? 5000 : 0,
					     .generation = 12};
}

/* Field by field: the structs have padding, which memcmp would compare too. */
static void assert_record_equal(const struct ha_conn_record *a, const struct ha_conn_record *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->event, b->event);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->forward, b->forward);
	assert_int_equal(a->worker, b->worker);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->real_family, b->real_family);
	assert_int_equal(a->svc_proto, b->svc_proto);
	assert_int_equal(a->svc_port, b->svc_port);
	assert_int_equal(a->timeout_s, b->timeout_s);
	assert_memory_equal(a->real_addr, b->real_addr, 16);
	assert_int_equal(a->real_port, b->real_port);
	assert_int_equal(a->client_sport, b->client_sport);
	assert_int_equal(a->client_dport, b->client_dport);
	assert_int_equal(a->reply_sport, b->reply_sport);
	assert_int_equal(a->reply_dport, b->reply_dport);
	assert_memory_equal(a->client_src, b->client_src, 16);
	assert_memory_equal(a->client_dst, b->client_dst, 16);
	assert_memory_equal(a->reply_src, b->reply_src, 16);
	assert_memory_equal(a->reply_dst, b->reply_dst, 16);
}

static void assert_advert_equal(const struct ha_advert *a, const struct ha_advert *b)
{
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->interval_ms, b->interval_ms);
	assert_int_equal(a->config_generation, b->config_generation);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->fnat_port_min, b->fnat_port_min);
	assert_int_equal(a->fnat_port_max, b->fnat_port_max);
	assert_int_equal(a->capabilities, b->capabilities);
}

static int encode(const struct ha_msg *m, uint8_t *buf, size_t cap)
{
	int n = ha_wire_encode(buf, cap, &key, m, err, sizeof(err));
	if (n < 0)
		fail_msg("encode refused: %s", err);
	return n < 0 ? 0 : n;
}

/* Decodes buf and expects a refusal whose reason contains `reason`. */
static void expect_reject(const uint8_t *buf, size_t len, const struct ha_wire_key *k,
			  const char *reason)
{
	struct ha_msg m;

	err[0] = '\0';
	assert_int_equal(ha_wire_decode(buf, len, k, &m, err, sizeof(err)), -1);
	if (strstr(err, reason) == NULL)
		fail_msg("reason \"%s\" does not contain \"%s\"", err, reason);
}

/* Re-signs a message after an edit (HMAC-SHA256 of all but the tag, as docs/ha.md says), so
 * that the body's checks, not the HMAC, are what refuse it: a peer holding the key but sending
 * nonsense. */
static void resign(uint8_t *buf, size_t len)
{
	unsigned int tag_len = 0;

	assert_non_null(HMAC(EVP_sha256(), key.bytes, (int)key.len, buf, len - HA_WIRE_HMAC_LEN,
			     buf + len - HA_WIRE_HMAC_LEN, &tag_len));
	assert_int_equal(tag_len, HA_WIRE_HMAC_LEN);
}

static void test_advert_round_trip(void **state)
{
	struct ha_msg m, out;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];

	(void)state;
	advert(&m);
	int n = encode(&m, buf, sizeof(buf));
	assert_int_equal(n, HA_WIRE_HEADER_LEN + HA_ADVERT_BODY_LEN + HA_WIRE_HMAC_LEN);
	/* the documented layout: magic, version, type, big-endian sequence */
	assert_memory_equal(buf, "DLBH\x01\x01\x00\x00\x00\x00\x00\x07", 12);
	assert_memory_equal(buf + 12, "\0\0\0\0\0\0\0\x2a\x00\x1c\x00\x00", 12);
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.type, HA_MSG_ADVERT);
	assert_int_equal(out.sender_id, 7);
	assert_int_equal(out.seq, 42);
	assert_advert_equal(&out.advert, &m.advert);
	assert_int_equal(ha_wire_channel(out.type), HA_CH_HEARTBEAT);
}

static void test_batch_round_trip(void **state)
{
	struct ha_msg m, out;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];

	(void)state;
	batch(&m);
	int n = encode(&m, buf, sizeof(buf));
	assert_int_equal(n, HA_WIRE_HEADER_LEN + 4 + 3 * HA_CONN_RECORD_LEN + HA_WIRE_HMAC_LEN);
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.flags, HA_WIRE_F_FULL_SYNC);
	assert_int_equal(out.batch.count, 3);
	for (int i = 0; i < 3; i++)
		assert_record_equal(&out.batch.rec[i], &m.batch.rec[i]);
	/* ports are network order on the wire: the first record's client port 40000 = 0x9c40 */
	const uint8_t *rec = buf + HA_WIRE_HEADER_LEN + 4;
	assert_int_equal(rec[34], 0x9c);
	assert_int_equal(rec[35], 0x40);
	assert_int_equal(ha_wire_channel(out.type), HA_CH_SYNC);
}

static void test_batch_capacity(void **state)
{
	struct ha_msg m;
	uint8_t buf[HA_WIRE_MSG_MAX];

	(void)state;
	size_t cap = ha_wire_batch_capacity(HA_WIRE_MSG_DEFAULT);
	assert_int_equal(cap, (1400 - 24 - 4 - 32) / HA_CONN_RECORD_LEN);
	assert_int_equal(ha_wire_batch_capacity(1 << 20), HA_WIRE_MAX_RECORDS);
	head(&m, HA_MSG_CONN_BATCH, 1);
	m.batch.count = (uint16_t)cap;
	for (size_t i = 0; i < cap; i++)
		m.batch.rec[i] = fnat_conn();
	int n = encode(&m, buf, HA_WIRE_MSG_DEFAULT);
	assert_true(n <= HA_WIRE_MSG_DEFAULT);
	m.batch.count++;
	m.batch.rec[cap] = fnat_conn();
	assert_int_equal(ha_wire_encode(buf, HA_WIRE_MSG_DEFAULT, &key, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
	m.batch.count = HA_WIRE_MAX_RECORDS;
	for (size_t i = 0; i < HA_WIRE_MAX_RECORDS; i++)
		m.batch.rec[i] = fnat_conn();
	n = encode(&m, buf, sizeof(buf));
	struct ha_msg out;
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.batch.count, HA_WIRE_MAX_RECORDS);
}

static void test_config_round_trip(void **state)
{
	struct ha_msg m, out;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];

	(void)state;
	config(&m);
	int n = encode(&m, buf, sizeof(buf));
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.config.generation, 12);
	assert_int_equal(out.config.total_len, 100);
	assert_int_equal(out.config.offset, 80);
	assert_int_equal(out.config.len, strlen(config_text));
	assert_memory_equal(out.config.data, config_text, strlen(config_text));
	assert_ptr_equal(out.config.data, buf + HA_WIRE_HEADER_LEN + HA_CONFIG_HEAD_LEN);
}

static void test_full_sync_round_trip(void **state)
{
	uint8_t types[] = {HA_MSG_FULL_SYNC_REQUEST, HA_MSG_FULL_SYNC_END};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct ha_msg m, out;
		uint8_t buf[HA_WIRE_MSG_DEFAULT];
		full_sync(&m, types[i]);
		int n = encode(&m, buf, sizeof(buf));
		assert_int_equal(n, HA_WIRE_HEADER_LEN + HA_FULL_SYNC_BODY_LEN + HA_WIRE_HMAC_LEN);
		assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
		assert_int_equal(out.type, types[i]);
		assert_memory_equal(&out.full_sync, &m.full_sync, sizeof(m.full_sync));
	}
}

/* The bytes tests/fuzz/gen_ha_wire_corpus.py wrote for batch_fnat.bin, an encoder of docs/ha.md
 * written apart from lib/ha_wire.c, signed with the fuzz key: the C codec agrees byte for byte. */
static void test_matches_independent_encoder(void **state)
{
	static const uint8_t expected[] =
		"\x44\x4c\x42\x48\x01\x02\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x05\x00\x70\x00\x00\x00\x01\x00\x00\x01\x01\x01\x03"
		"\x01\x01\x04\x06\x04\x06\x00\x50\x00\x00\x03\x84\x0a\x01\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1f\x90\x9c\x40"
		"\x00\x50\x1f\x90\x13\x88\x00\x00\xc0\x00\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x64\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x0a\x01\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0a\x01\x00\xfe\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\xa3\x87\x00\x60\x22\x99\xc3\x35\x30\x41\x5f\xea\x75\x27\x76\xbc\x07\xce\xcc\xa3\x4b\x14\x4a\x20"
		"\xcd\x8f\xf6\xf4\x07\xca\x04\x27";
	struct ha_wire_key fuzz_key;
	struct ha_msg m, out;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];

	(void)state;
	assert_int_equal(ha_wire_key_set(&fuzz_key, "dpdk-lb-ha-wire-fuzz-key-32bytes", 32), 0);
	head(&m, HA_MSG_CONN_BATCH, 5);
	m.batch.count = 1;
	m.batch.rec[0] = fnat_conn();
	m.batch.rec[0].worker = 1;
	int n = ha_wire_encode(buf, sizeof(buf), &fuzz_key, &m, err, sizeof(err));
	assert_int_equal(n, sizeof(expected) - 1);
	assert_memory_equal(buf, expected, (size_t)n);
	assert_int_equal(ha_wire_decode(expected, sizeof(expected) - 1, &fuzz_key, &out, err,
					sizeof(err)), 0);
	assert_record_equal(&out.batch.rec[0], &m.batch.rec[0]);
}

static void test_header_rejections(void **state)
{
	struct ha_msg m;
	uint8_t buf[HA_WIRE_MSG_MAX + 8], bad[HA_WIRE_MSG_MAX + 8];

	(void)state;
	advert(&m);
	size_t n = (size_t)encode(&m, buf, sizeof(buf));
	memcpy(bad, buf, n);
	bad[0] ^= 1;
	expect_reject(bad, n, &key, "bad magic");
	memcpy(bad, buf, n);
	bad[4] = 2;
	expect_reject(bad, n, &key, "version 2");
	/* truncated anywhere: the header's body length no longer matches, or no header at all */
	for (size_t cut = 0; cut < n; cut++)
		expect_reject(buf, cut, &key, cut < 56 ? "truncated" : "length");
	/* trailing bytes */
	memcpy(bad, buf, n);
	bad[n] = 0;
	expect_reject(bad, n + 1, &key, "length");
	/* longer than any datagram we take */
	memset(bad, 0, sizeof(bad));
	expect_reject(bad, HA_WIRE_MSG_MAX + 1, &key, "more than");
	/* wrong key */
	struct ha_wire_key other;
	assert_int_equal(ha_wire_key_set(&other, "0123456789abcdef0123456789abcdeF", 32), 0);
	expect_reject(buf, n, &other, "authentication failed");
	/* a key of the wrong size is refused, both ways */
	assert_int_equal(ha_wire_key_set(&other, "short", 5), -1);
	other.len = 3;
	expect_reject(buf, n, &other, "no valid key");
	assert_int_equal(ha_wire_encode(bad, sizeof(bad), &other, &m, err, sizeof(err)), -1);
}

/* Flipping any bit of any byte (header, body or tag) is refused. */
static void test_tamper_every_byte(void **state)
{
	struct ha_msg m;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];

	(void)state;
	batch(&m);
	size_t n = (size_t)encode(&m, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct ha_msg out;
			buf[i] ^= (uint8_t)(1 << bit);
			assert_int_equal(ha_wire_decode(buf, n, &key, &out, err, sizeof(err)), -1);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	struct ha_msg out;
	assert_int_equal(ha_wire_decode(buf, n, &key, &out, err, sizeof(err)), 0);
}

/* The encoder refuses what the decoder would: each broken rule, with its reason. */
static void expect_encode_refused(const struct ha_msg *m, const char *reason)
{
	uint8_t buf[HA_WIRE_MSG_MAX];

	err[0] = '\0';
	assert_int_equal(ha_wire_encode(buf, sizeof(buf), &key, m, err, sizeof(err)), -1);
	if (strstr(err, reason) == NULL)
		fail_msg("reason \"%s\" does not contain \"%s\"", err, reason);
}

static void test_header_rules(void **state)
{
	struct ha_msg m;

	(void)state;
	advert(&m);
	m.type = 9;
	expect_encode_refused(&m, "unknown message type 9");
	advert(&m);
	m.flags = 0x8000;
	expect_encode_refused(&m, "unknown header flags");
	advert(&m);
	m.flags = HA_WIRE_F_FULL_SYNC;
	expect_encode_refused(&m, "full-sync flag on a type 1");
	advert(&m);
	m.seq = 0;
	expect_encode_refused(&m, "sequence 0");
}

static void test_advert_rules(void **state)
{
	struct ha_msg m;

	(void)state;
	advert(&m);
	m.advert.priority = 0;
	expect_encode_refused(&m, "priority 0");
	advert(&m);
	m.advert.state = HA_STATE_COUNT;
	expect_encode_refused(&m, "state 4 unknown");
	advert(&m);
	m.advert.flags = 0x02;
	expect_encode_refused(&m, "advert flags");
	advert(&m);
	m.advert.interval_ms = 9;
	expect_encode_refused(&m, "interval 9 ms");
	advert(&m);
	m.advert.interval_ms = HA_ADVERT_INTERVAL_MAX_MS + 1;
	expect_encode_refused(&m, "interval 40951 ms");
	advert(&m);
	m.advert.workers = 0;
	expect_encode_refused(&m, "worker count 0");
	advert(&m);
	m.advert.fnat_port_min = 2000, m.advert.fnat_port_max = 1999;
	expect_encode_refused(&m, "fnat port range");
}

/* Breaks record 1 of a valid batch with edit and expects reason. */
static void expect_record_refused(void (*edit)(struct ha_conn_record *), const char *reason)
{
	struct ha_msg m;

	batch(&m);
	edit(&m.batch.rec[1]);
	expect_encode_refused(&m, "record 1: ");
	expect_encode_refused(&m, reason);
}

static void bad_kind(struct ha_conn_record *r) { r->kind = 3; }
static void bad_event(struct ha_conn_record *r) { r->event = 5; }
static void bad_forward(struct ha_conn_record *r) { r->forward = LB_FWD_COUNT; }
static void bad_flags(struct ha_conn_record *r) { r->flags = 0x80; }
static void bad_family(struct ha_conn_record *r) { r->family = 10; }
static void bad_real_family(struct ha_conn_record *r) { r->real_family = 2; }
static void bad_proto(struct ha_conn_record *r) { r->proto = 1; }
static void bad_udp_state(struct ha_conn_record *r) { r->state = LB_TCP_ESTABLISHED; }
static void bad_port(struct ha_conn_record *r) { r->svc_port = 54; }
static void bad_ended(struct ha_conn_record *r) { r->event = HA_EV_ENDED, r->timeout_s = 1; }
static void bad_v4_pad(struct ha_conn_record *r)
{
	*r = fnat_conn();
	r->client_src[4] = 1;
}
static void reply_on_dr(struct ha_conn_record *r) { r->flags = HA_REC_F_REPLY; }
static void stray_reply(struct ha_conn_record *r) { r->reply_sport = 1; }
static void fnat_without_reply(struct ha_conn_record *r)
{
	*r = fnat_conn();
	r->flags = 0;
	memset(r->reply_src, 0, 16), memset(r->reply_dst, 0, 16);
	r->reply_sport = r->reply_dport = 0;
}
static void tcp_state(struct ha_conn_record *r)
{
	*r = fnat_conn();
	r->state = LB_UDP_STATE;
}
static void template_state(struct ha_conn_record *r)
{
	*r = template();
	r->event = HA_EV_STATE;
}
static void template_worker(struct ha_conn_record *r)
{
	*r = template();
	r->worker = 1;
}

static void test_record_rules(void **state)
{
	(void)state;
	expect_record_refused(bad_kind, "kind 3");
	expect_record_refused(bad_event, "event 5");
	expect_record_refused(bad_forward, "forward 5");
	expect_record_refused(bad_flags, "unknown flags");
	expect_record_refused(bad_family, "family: family 10");
	expect_record_refused(bad_real_family, "real_family: family 2");
	expect_record_refused(bad_proto, "protocol 1");
	expect_record_refused(bad_udp_state, "not a UDP state");
	expect_record_refused(bad_port, "differs from its service");
	expect_record_refused(bad_ended, "ENDED record has timeout 1");
	expect_record_refused(bad_v4_pad, "client_src: IPv4 address");
	expect_record_refused(reply_on_dr, "a dr connection has no reply key");
	expect_record_refused(stray_reply, "reply key set without");
	expect_record_refused(fnat_without_reply, "fnat connection needs its reply key");
	expect_record_refused(tcp_state, "not a TCP state");
	expect_record_refused(template_state, "template has no state");
	expect_record_refused(template_worker, "a template sets only");

	/* an ENDED nat/fnat record may leave its reply key out */
	struct ha_msg m;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];
	batch(&m);
	fnat_without_reply(&m.batch.rec[0]);
	m.batch.rec[0].event = HA_EV_ENDED, m.batch.rec[0].timeout_s = 0;
	encode(&m, buf, sizeof(buf));
}

static void test_batch_and_config_rules(void **state)
{
	struct ha_msg m;

	(void)state;
	head(&m, HA_MSG_CONN_BATCH, 1);
	expect_encode_refused(&m, "batch of 0 records");
	head(&m, HA_MSG_CONN_BATCH, 1);
	m.batch.count = HA_WIRE_MAX_RECORDS + 1;
	expect_encode_refused(&m, "at most");
	config(&m);
	m.config.len = 0;
	expect_encode_refused(&m, "config chunk says 0 bytes");
	config(&m);
	m.config.offset = 90;
	expect_encode_refused(&m, "runs past the total");
	config(&m);
	m.config.offset = UINT32_MAX; /* offset + len overflows 32 bits: still refused */
	expect_encode_refused(&m, "runs past the total");
	config(&m);
	m.config.total_len = HA_CONFIG_TOTAL_MAX + 1;
	m.config.offset = 0;
	expect_encode_refused(&m, "total length");
	full_sync(&m, HA_MSG_FULL_SYNC_REQUEST);
	m.full_sync.what = 0;
	expect_encode_refused(&m, "full-sync parts 0x0");
	full_sync(&m, HA_MSG_FULL_SYNC_END);
	m.full_sync.what = 0x4;
	expect_encode_refused(&m, "full-sync parts 0x4");
	full_sync(&m, HA_MSG_FULL_SYNC_REQUEST);
	m.full_sync.records = 1;
	expect_encode_refused(&m, "counts no records");
}

/* A peer with the key but a wrong count, body length or field: the checks run under a valid
 * HMAC too, and the decoder refuses with the same reasons the encoder gives. */
static void test_signed_nonsense(void **state)
{
	struct ha_msg m;
	uint8_t buf[HA_WIRE_MSG_DEFAULT];

	(void)state;
	batch(&m);
	int n = encode(&m, buf, sizeof(buf));
	buf[HA_WIRE_HEADER_LEN + 1] = 4; /* claims 4 records, carries 3: the HMAC catches it */
	expect_reject(buf, (size_t)n, &key, "authentication failed");
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "batch of 4 records needs");
	buf[HA_WIRE_HEADER_LEN + 1] = 3;
	buf[HA_WIRE_HEADER_LEN + 4 + HA_CONN_RECORD_LEN + 6] = 5; /* record 1's family */
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "record 1: family: family 5");
	buf[HA_WIRE_HEADER_LEN + 4 + HA_CONN_RECORD_LEN + 6] = 6;
	buf[HA_WIRE_HEADER_LEN + 4 + HA_CONN_RECORD_LEN + 42] = 1; /* record 1's reserved */
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "record 1: reserved");
	buf[HA_WIRE_HEADER_LEN + 4 + HA_CONN_RECORD_LEN + 42] = 0;
	resign(buf, (size_t)n);
	struct ha_msg out;
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);

	/* an advert one byte short, its header saying so: the body length is wrong for the type */
	advert(&m);
	n = encode(&m, buf, sizeof(buf));
	buf[21] = HA_ADVERT_BODY_LEN - 1;
	memmove(buf + n - HA_WIRE_HMAC_LEN - 1, buf + n - HA_WIRE_HMAC_LEN, HA_WIRE_HMAC_LEN);
	resign(buf, (size_t)n - 1);
	expect_reject(buf, (size_t)n - 1, &key, "advert body is 27 bytes, not 28");
	/* an unknown type, reserved header bytes, sequence 0 */
	n = encode(&m, buf, sizeof(buf));
	buf[5] = 6;
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "unknown message type 6");
	buf[5] = HA_MSG_ADVERT;
	buf[23] = 1;
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "header reserved");
	buf[23] = 0;
	buf[19] = 0; /* sequence 42 -> 0 */
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "sequence 0");
	/* reserved bytes of the advert body */
	buf[19] = 42;
	buf[HA_WIRE_HEADER_LEN + 3] = 1;
	resign(buf, (size_t)n);
	expect_reject(buf, (size_t)n, &key, "advert reserved");
}

static void test_replay_window(void **state)
{
	struct ha_replay r;
	const char *why = NULL;

	(void)state;
	ha_replay_init(&r);
	assert_false(ha_replay_accept(&r, 7, HA_CH_SYNC, 0, &why));
	assert_string_equal(why, "sequence 0");
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 100, &why));
	assert_false(ha_replay_accept(&r, 7, HA_CH_SYNC, 100, &why)); /* replayed */
	assert_non_null(strstr(why, "replay"));
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 101, &why));
	/* reordered within the window: taken once */
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 99, &why));
	assert_false(ha_replay_accept(&r, 7, HA_CH_SYNC, 99, &why));
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 101 - 63, &why));
	assert_false(ha_replay_accept(&r, 7, HA_CH_SYNC, 101 - 64, &why)); /* older than it */
	assert_non_null(strstr(why, "older"));
	/* a jump past the window forgets the old bits, but never goes back */
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 1000, &why));
	assert_false(ha_replay_accept(&r, 7, HA_CH_SYNC, 101, &why));
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 999, &why));
	/* channels and senders are numbered on their own */
	assert_true(ha_replay_accept(&r, 7, HA_CH_HEARTBEAT, 5, &why));
	assert_true(ha_replay_accept(&r, 8, HA_CH_SYNC, 5, &why));
	assert_false(ha_replay_accept(&r, 7, HA_CH_COUNT, 6000, &why));
	/* a full table refuses newcomers; forgetting one frees its slot and its history */
	for (uint32_t s = 100; s < 100 + HA_REPLAY_MAX_SENDERS - 2; s++)
		assert_true(ha_replay_accept(&r, s, HA_CH_SYNC, 1, &why));
	assert_false(ha_replay_accept(&r, 999, HA_CH_SYNC, 1, &why));
	assert_string_equal(why, "too many senders");
	ha_replay_forget(&r, 7);
	assert_true(ha_replay_accept(&r, 999, HA_CH_SYNC, 1, &why));
	assert_true(ha_replay_accept(&r, 7, HA_CH_SYNC, 1, NULL) == false); /* table full again */
}

/* A captured message sent again is refused by the replay check after it decodes. */
static void test_replayed_message(void **state)
{
	struct ha_msg m, out;
	struct ha_replay r;
	uint8_t buf[HA_WIRE_MSG_DEFAULT], old[HA_WIRE_MSG_DEFAULT];
	const char *why;

	(void)state;
	ha_replay_init(&r);
	advert(&m);
	int n_old = encode(&m, old, sizeof(old));
	m.seq = 43;
	int n = encode(&m, buf, sizeof(buf));
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
	assert_true(ha_replay_accept(&r, out.sender_id, ha_wire_channel(out.type), out.seq, &why));
	assert_int_equal(ha_wire_decode(buf, (size_t)n, &key, &out, err, sizeof(err)), 0);
	assert_false(ha_replay_accept(&r, out.sender_id, ha_wire_channel(out.type), out.seq, &why));
	/* the older message, first seen now, is inside the window: taken once, then refused */
	assert_int_equal(ha_wire_decode(old, (size_t)n_old, &key, &out, err, sizeof(err)), 0);
	assert_true(ha_replay_accept(&r, out.sender_id, ha_wire_channel(out.type), out.seq, &why));
	assert_false(ha_replay_accept(&r, out.sender_id, ha_wire_channel(out.type), out.seq, &why));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advert_round_trip),
		cmocka_unit_test(test_batch_round_trip),
		cmocka_unit_test(test_batch_capacity),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_full_sync_round_trip),
		cmocka_unit_test(test_matches_independent_encoder),
		cmocka_unit_test(test_header_rejections),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_advert_rules),
		cmocka_unit_test(test_record_rules),
		cmocka_unit_test(test_batch_and_config_rules),
		cmocka_unit_test(test_signed_nonsense),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_replayed_message),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
