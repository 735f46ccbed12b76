/* The failover pair's message codec (ha_wire.h, docs/ha.md "Wire format"). */
#include "ha_wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "forward_method.h"
#include "tcp_state.h"

#define PROTO_TCP 6
#define PROTO_UDP 17

/* Record field offsets (docs/ha.md, "Connection records"). */
enum {
	REC_KIND = 0, REC_EVENT = 1, REC_STATE = 2, REC_FORWARD = 3, REC_WORKER = 4, REC_FLAGS = 5,
	REC_FAMILY = 6, REC_PROTO = 7, REC_REAL_FAMILY = 8, REC_SVC_PROTO = 9, REC_SVC_PORT = 10,
	REC_TIMEOUT = 12, REC_REAL_ADDR = 16, REC_REAL_PORT = 32, REC_CLIENT_SPORT = 34,
	REC_CLIENT_DPORT = 36, REC_REPLY_SPORT = 38, REC_REPLY_DPORT = 40, REC_RESERVED = 42,
	REC_CLIENT_SRC = 44, REC_CLIENT_DST = 60, REC_REPLY_SRC = 76, REC_REPLY_DST = 92,
};
_Static_assert(REC_REPLY_DST + 16 == HA_CONN_RECORD_LEN, "record layout");
_Static_assert(HA_WIRE_MAX_RECORDS <= UINT16_MAX, "record count is 16 bits");

static int reject(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(char *err, size_t errlen, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int ha_wire_key_set(struct ha_wire_key *k, const void *bytes, size_t len)
{
	if (len < HA_WIRE_KEY_MIN || len > HA_WIRE_KEY_MAX)
		return -1;
	memset(k, 0, sizeof(*k));
	memcpy(k->bytes, bytes, len);
	k->len = len;
	return 0;
}

enum ha_channel ha_wire_channel(uint8_t type)
{
	return type == HA_MSG_ADVERT ? HA_CH_HEARTBEAT : HA_CH_SYNC;
}

size_t ha_wire_batch_capacity(size_t msg_size)
{
	size_t over = HA_WIRE_HEADER_LEN + HA_CONN_BATCH_HEAD_LEN + HA_WIRE_HMAC_LEN;

	if (msg_size > HA_WIRE_MSG_MAX)
		msg_size = HA_WIRE_MSG_MAX;
	return msg_size < over ? 0 : (msg_size - over) / HA_CONN_RECORD_LEN;
}

static bool hmac(const struct ha_wire_key *key, const uint8_t *p, size_t n,
		 uint8_t out[HA_WIRE_HMAC_LEN])
{
	unsigned int out_len = 0;

	return HMAC(EVP_sha256(), key->bytes, (int)key->len, p, n, out, &out_len) != NULL &&
	       out_len == HA_WIRE_HMAC_LEN;
}

/* ---- bodies: validation (shared by decode and encode) ---- */

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static int check_family(uint8_t family, const char *field, char *err, size_t errlen)
{
	if (family != 4 && family != 6)
		return reject(err, errlen, "%s: family %u is neither 4 nor 6", field, family);
	return 0;
}

/* An address field of family: an IPv4 address leaves its last 12 bytes zero. */
static int check_addr(uint8_t family, const uint8_t *a, const char *field, char *err,
		      size_t errlen)
{
	if (family == 4 && !zero(a + 4, 12))
		return reject(err, errlen, "%s: IPv4 address with non-zero bytes after the 4th",
			      field);
	return 0;
}

static int check_proto(uint8_t proto, const char *field, char *err, size_t errlen)
{
	if (proto != PROTO_TCP && proto != PROTO_UDP)
		return reject(err, errlen, "%s: protocol %u is neither TCP (6) nor UDP (17)", field,
			      proto);
	return 0;
}

/* The rules every record obeys, whatever its kind. */
static int check_record_common(const struct ha_conn_record *r, const uint8_t *raw, char *err,
			       size_t errlen)
{
	if (r->kind != HA_REC_CONN && r->kind != HA_REC_PERSIST)
		return reject(err, errlen, "kind %u is neither conn (1) nor persist (2)", r->kind);
	if (r->event < HA_EV_CREATED || r->event > HA_EV_REFRESH)
		return reject(err, errlen, "event %u outside 1-4", r->event);
	if (r->forward >= LB_FWD_COUNT)
		return reject(err, errlen, "forward %u is not a method", r->forward);
	if (r->flags & ~HA_REC_F_REPLY)
		return reject(err, errlen, "unknown flags 0x%02x", r->flags);
	if (check_family(r->family, "family", err, errlen) ||
	    check_family(r->real_family, "real_family", err, errlen) ||
	    check_proto(r->proto, "proto", err, errlen) ||
	    check_proto(r->svc_proto, "svc_proto", err, errlen))
		return -1;
	if (get16(raw + REC_RESERVED) != 0)
		return reject(err, errlen, "reserved bytes are not zero");
	if (r->kind == HA_REC_CONN && r->svc_port != 0 &&
	    (r->proto != r->svc_proto || r->client_dport != r->svc_port))
		return reject(err, errlen, "protocol or port differs from its service's (%u/%u)",
			      r->svc_proto, r->svc_port);
	if (r->event == HA_EV_ENDED && r->timeout_s != 0)
		return reject(err, errlen, "an ENDED record has timeout %u, not 0", r->timeout_s);
	if (check_addr(r->family, r->client_src, "client_src", err, errlen) ||
	    check_addr(r->family, r->client_dst, "client_dst", err, errlen) ||
	    check_addr(r->real_family, r->real_addr, "real_addr", err, errlen))
		return -1;
	return 0;
}

static int check_reply(const struct ha_conn_record *r, char *err, size_t errlen)
{
	bool has = r->flags & HA_REC_F_REPLY;
	const struct lb_forward_method *m = lb_forward_method_get(r->forward);

	if (has && !m->reply_key)
		return reject(err, errlen, "a %s connection has no reply key", m->name);
	if (!has && m->reply_key && r->event != HA_EV_ENDED)
		return reject(err, errlen, "a %s connection needs its reply key", m->name);
	if (!has)
		return zero(r->reply_src, 16) && zero(r->reply_dst, 16) && r->reply_sport == 0 &&
				       r->reply_dport == 0
			       ? 0
			       : reject(err, errlen, "reply key set without the reply flag");
	if (check_addr(r->real_family, r->reply_src, "reply_src", err, errlen) ||
	    check_addr(r->real_family, r->reply_dst, "reply_dst", err, errlen))
		return -1;
	return 0;
}

static int check_record(const struct ha_conn_record *r, const uint8_t *raw, char *err,
			size_t errlen)
{
	if (check_record_common(r, raw, err, errlen))
		return -1;
	if (r->kind == HA_REC_PERSIST) {
		if (r->event == HA_EV_STATE)
			return reject(err, errlen, "a template has no state to change");
		if (r->state != 0 || r->worker != 0 || r->flags != 0 || r->client_sport != 0 ||
		    r->client_dport != 0 || r->proto != r->svc_proto ||
		    !zero(raw + REC_REPLY_SPORT, 4) || !zero(raw + REC_REPLY_SRC, 32))
			return reject(err, errlen,
				      "a template sets only service, client, real and timeout");
		return 0;
	}
	if (r->proto == PROTO_UDP ? r->state != LB_UDP_STATE : r->state >= LB_TCP_STATE_COUNT)
		return reject(err, errlen, "state %u is not a %s state", r->state,
			      r->proto == PROTO_UDP ? "UDP" : "TCP");
	return check_reply(r, err, errlen);
}

static void record_read(struct ha_conn_record *r, const uint8_t *p)
{
	memset(r, 0, sizeof(*r)); /* padding too: callers may compare records whole */
	r->kind = p[REC_KIND];
	r->event = p[REC_EVENT];
	r->state = p[REC_STATE];
	r->forward = p[REC_FORWARD];
	r->worker = p[REC_WORKER];
	r->flags = p[REC_FLAGS];
	r->family = p[REC_FAMILY];
	r->proto = p[REC_PROTO];
	r->real_family = p[REC_REAL_FAMILY];
	r->svc_proto = p[REC_SVC_PROTO];
	r->svc_port = get16(p + REC_SVC_PORT);
	r->timeout_s = get32(p + REC_TIMEOUT);
	memcpy(r->real_addr, p + REC_REAL_ADDR, 16);
	r->real_port = get16(p + REC_REAL_PORT);
	r->client_sport = get16(p + REC_CLIENT_SPORT);
	r->client_dport = get16(p + REC_CLIENT_DPORT);
	r->reply_sport = get16(p + REC_REPLY_SPORT);
	r->reply_dport = get16(p + REC_REPLY_DPORT);
	memcpy(r->client_src, p + REC_CLIENT_SRC, 16);
	memcpy(r->client_dst, p + REC_CLIENT_DST, 16);
	memcpy(r->reply_src, p + REC_REPLY_SRC, 16);
	memcpy(r->reply_dst, p + REC_REPLY_DST, 16);
}

static void record_write(uint8_t *p, const struct ha_conn_record *r)
{
	p[REC_KIND] = r->kind;
	p[REC_EVENT] = r->event;
	p[REC_STATE] = r->state;
	p[REC_FORWARD] = r->forward;
	p[REC_WORKER] = r->worker;
	p[REC_FLAGS] = r->flags;
	p[REC_FAMILY] = r->family;
	p[REC_PROTO] = r->proto;
	p[REC_REAL_FAMILY] = r->real_family;
	p[REC_SVC_PROTO] = r->svc_proto;
	put16(p + REC_SVC_PORT, r->svc_port);
	put32(p + REC_TIMEOUT, r->timeout_s);
	memcpy(p + REC_REAL_ADDR, r->real_addr, 16);
	put16(p + REC_REAL_PORT, r->real_port);
	put16(p + REC_CLIENT_SPORT, r->client_sport);
	put16(p + REC_CLIENT_DPORT, r->client_dport);
	put16(p + REC_REPLY_SPORT, r->reply_sport);
	put16(p + REC_REPLY_DPORT, r->reply_dport);
	put16(p + REC_RESERVED, 0);
	memcpy(p + REC_CLIENT_SRC, r->client_src, 16);
	memcpy(p + REC_CLIENT_DST, r->client_dst, 16);
	memcpy(p + REC_REPLY_SRC, r->reply_src, 16);
	memcpy(p + REC_REPLY_DST, r->reply_dst, 16);
}

static int body_advert(const uint8_t *b, size_t n, struct ha_advert *a, char *err,
		       size_t errlen)
{
	if (n != HA_ADVERT_BODY_LEN)
		return reject(err, errlen, "advert body is %zu bytes, not %d", n,
			      HA_ADVERT_BODY_LEN);
	memset(a, 0, sizeof(*a));
	a->priority = b[0];
	a->state = b[1];
	a->flags = b[2];
	a->interval_ms = get32(b + 4);
	a->config_generation = get64(b + 8);
	a->workers = get16(b + 16);
	a->fnat_port_min = get16(b + 18);
	a->fnat_port_max = get16(b + 20);
	a->capabilities = get32(b + 24);
	if (a->priority == 0)
		return reject(err, errlen, "advert priority 0 (1-255)");
	if (a->state >= HA_STATE_COUNT)
		return reject(err, errlen, "advert state %u unknown", a->state);
	if (a->flags & ~HA_ADVERT_F_PREEMPT)
		return reject(err, errlen, "advert flags 0x%02x unknown", a->flags);
	if (b[3] != 0 || get16(b + 22) != 0)
		return reject(err, errlen, "advert reserved bytes are not zero");
	if (a->interval_ms < HA_ADVERT_INTERVAL_MIN_MS || a->interval_ms > HA_ADVERT_INTERVAL_MAX_MS)
		return reject(err, errlen, "advert interval %u ms outside %d-%d", a->interval_ms,
			      HA_ADVERT_INTERVAL_MIN_MS, HA_ADVERT_INTERVAL_MAX_MS);
	if (a->workers == 0)
		return reject(err, errlen, "advert worker count 0");
	if (a->fnat_port_min == 0 || a->fnat_port_min > a->fnat_port_max)
		return reject(err, errlen, "advert fnat port range %u-%u is not 1-65535 ascending",
			      a->fnat_port_min, a->fnat_port_max);
	return 0;
}

static int body_batch(const uint8_t *b, size_t n, struct ha_conn_batch *batch, char *err,
		      size_t errlen)
{
	if (n < HA_CONN_BATCH_HEAD_LEN)
		return reject(err, errlen, "batch body of %zu bytes has no count", n);
	batch->count = get16(b);
	if (get16(b + 2) != 0)
		return reject(err, errlen, "batch reserved bytes are not zero");
	if (batch->count == 0)
		return reject(err, errlen, "batch of 0 records");
	if (n != HA_CONN_BATCH_HEAD_LEN + (size_t)batch->count * HA_CONN_RECORD_LEN)
		return reject(err, errlen, "batch of %u records needs %zu body bytes, has %zu",
			      batch->count,
			      HA_CONN_BATCH_HEAD_LEN + (size_t)batch->count * HA_CONN_RECORD_LEN, n);
	for (uint16_t i = 0; i < batch->count; i++) {
		const uint8_t *raw = b + HA_CONN_BATCH_HEAD_LEN + (size_t)i * HA_CONN_RECORD_LEN;
		char why[HA_WIRE_ERR_LEN - 24];

		record_read(&batch->rec[i], raw);
		if (check_record(&batch->rec[i], raw, why, sizeof(why)))
			return reject(err, errlen, "record %u: %s", i, why);
	}
	return 0;
}

static int body_config(const uint8_t *b, size_t n, struct ha_config_chunk *c, char *err,
		       size_t errlen)
{
	if (n < HA_CONFIG_HEAD_LEN)
		return reject(err, errlen, "config body of %zu bytes is shorter than its %d-byte head",
			      n, HA_CONFIG_HEAD_LEN);
	c->generation = get64(b);
	c->total_len = get32(b + 8);
	c->offset = get32(b + 12);
	c->len = get16(b + 16);
	c->data = b + HA_CONFIG_HEAD_LEN;
	if (get16(b + 18) != 0)
		return reject(err, errlen, "config reserved bytes are not zero");
	if (c->len == 0 || n != HA_CONFIG_HEAD_LEN + (size_t)c->len)
		return reject(err, errlen, "config chunk says %u bytes, body carries %zu", c->len,
			      n - HA_CONFIG_HEAD_LEN);
	if (c->total_len == 0 || c->total_len > HA_CONFIG_TOTAL_MAX)
		return reject(err, errlen, "config total length %u outside 1-%u", c->total_len,
			      HA_CONFIG_TOTAL_MAX);
	if (c->offset > c->total_len || c->len > c->total_len - c->offset)
		return reject(err, errlen, "config chunk %u+%u runs past the total %u", c->offset,
			      c->len, c->total_len);
	return 0;
}

static int body_full_sync(uint8_t type, const uint8_t *b, size_t n, struct ha_full_sync *f,
			  char *err, size_t errlen)
{
	if (n != HA_FULL_SYNC_BODY_LEN)
		return reject(err, errlen, "full-sync body is %zu bytes, not %d", n,
			      HA_FULL_SYNC_BODY_LEN);
	f->what = get32(b);
	f->records = get32(b + 4);
	f->generation = get64(b + 8);
	if (f->what == 0 || (f->what & ~(uint32_t)HA_SYNC_ALL))
		return reject(err, errlen, "full-sync parts 0x%x: not a non-empty set of 0x%x",
			      f->what, HA_SYNC_ALL);
	if (type == HA_MSG_FULL_SYNC_REQUEST && f->records != 0)
		return reject(err, errlen, "a full-sync request counts no records");
	return 0;
}

static int check_body(const uint8_t *hdr, struct ha_msg *m, char *err, size_t errlen)
{
	const uint8_t *b = hdr + HA_WIRE_HEADER_LEN;
	size_t n = get16(hdr + 20);

	m->type = hdr[5];
	m->flags = get16(hdr + 6);
	m->sender_id = get32(hdr + 8);
	m->seq = get64(hdr + 12);
	if (m->type < HA_MSG_ADVERT || m->type > HA_MSG_FULL_SYNC_END)
		return reject(err, errlen, "unknown message type %u", m->type);
	if (m->flags & ~HA_WIRE_F_ALL)
		return reject(err, errlen, "unknown header flags 0x%04x", m->flags);
	if ((m->flags & HA_WIRE_F_FULL_SYNC) && m->type != HA_MSG_CONN_BATCH &&
	    m->type != HA_MSG_CONFIG)
		return reject(err, errlen, "full-sync flag on a type %u message", m->type);
	if (m->seq == 0)
		return reject(err, errlen, "sequence 0 (senders start at 1)");
	switch (m->type) {
	case HA_MSG_ADVERT:
		return body_advert(b, n, &m->advert, err, errlen);
	case HA_MSG_CONN_BATCH:
		return body_batch(b, n, &m->batch, err, errlen);
	case HA_MSG_CONFIG:
		return body_config(b, n, &m->config, err, errlen);
	default:
		return body_full_sync(m->type, b, n, &m->full_sync, err, errlen);
	}
}

int ha_wire_decode(const uint8_t *buf, size_t len, const struct ha_wire_key *key,
		   struct ha_msg *m, char *err, size_t errlen)
{
	const size_t overhead = HA_WIRE_HEADER_LEN + HA_WIRE_HMAC_LEN;
	uint8_t mac[HA_WIRE_HMAC_LEN];

	if (len < overhead)
		return reject(err, errlen, "truncated: %zu bytes, a message has at least %zu", len,
			      overhead);
	if (len > HA_WIRE_MSG_MAX)
		return reject(err, errlen, "%zu bytes, more than the %d a message may have", len,
			      HA_WIRE_MSG_MAX);
	if (get32(buf) != HA_WIRE_MAGIC)
		return reject(err, errlen, "bad magic 0x%08x (not a dpdk-lb peer message)",
			      get32(buf));
	if (buf[4] != HA_WIRE_VERSION)
		return reject(err, errlen, "version %u, this node speaks %d", buf[4],
			      HA_WIRE_VERSION);
	if (get16(buf + 20) + overhead != len)
		return reject(err, errlen, "length: the header says a %u-byte body, the datagram "
			      "carries %zu", get16(buf + 20), len - overhead);
	if (get16(buf + 22) != 0)
		return reject(err, errlen, "header reserved bytes are not zero");
	if (key == NULL || key->len < HA_WIRE_KEY_MIN || key->len > HA_WIRE_KEY_MAX)
		return reject(err, errlen, "no valid key to check the message with");
	if (!hmac(key, buf, len - HA_WIRE_HMAC_LEN, mac))
		return reject(err, errlen, "HMAC computation failed");
	if (CRYPTO_memcmp(mac, buf + len - HA_WIRE_HMAC_LEN, HA_WIRE_HMAC_LEN) != 0)
		return reject(err, errlen, "authentication failed: wrong key or altered message");
	return check_body(buf, m, err, errlen);
}

/* Writes m's body at b (room for HA_WIRE_BODY_MAX bytes); its length, or -1. */
static int write_body(uint8_t *b, const struct ha_msg *m, char *err, size_t errlen)
{
	switch (m->type) {
	case HA_MSG_ADVERT: {
		const struct ha_advert *a = &m->advert;
		memset(b, 0, HA_ADVERT_BODY_LEN);
		b[0] = a->priority;
		b[1] = a->state;
		b[2] = a->flags;
		put32(b + 4, a->interval_ms);
		put64(b + 8, a->config_generation);
		put16(b + 16, a->workers);
		put16(b + 18, a->fnat_port_min);
		put16(b + 20, a->fnat_port_max);
		put32(b + 24, a->capabilities);
		return HA_ADVERT_BODY_LEN;
	}
	case HA_MSG_CONN_BATCH:
		if (m->batch.count > HA_WIRE_MAX_RECORDS)
			return reject(err, errlen, "batch of %u records, at most %d", m->batch.count,
				      (int)HA_WIRE_MAX_RECORDS);
		put16(b, m->batch.count);
		put16(b + 2, 0);
		for (uint16_t i = 0; i < m->batch.count; i++)
			record_write(b + HA_CONN_BATCH_HEAD_LEN + (size_t)i * HA_CONN_RECORD_LEN,
				     &m->batch.rec[i]);
		return HA_CONN_BATCH_HEAD_LEN + m->batch.count * HA_CONN_RECORD_LEN;
	case HA_MSG_CONFIG:
		if (m->config.len > HA_WIRE_BODY_MAX - HA_CONFIG_HEAD_LEN || m->config.data == NULL)
			return reject(err, errlen, "config chunk of %u bytes does not fit",
				      m->config.len);
		put64(b, m->config.generation);
		put32(b + 8, m->config.total_len);
		put32(b + 12, m->config.offset);
		put16(b + 16, m->config.len);
		put16(b + 18, 0);
		memcpy(b + HA_CONFIG_HEAD_LEN, m->config.data, m->config.len);
		return HA_CONFIG_HEAD_LEN + m->config.len;
	case HA_MSG_FULL_SYNC_REQUEST:
	case HA_MSG_FULL_SYNC_END:
		put32(b, m->full_sync.what);
		put32(b + 4, m->full_sync.records);
		put64(b + 8, m->full_sync.generation);
		return HA_FULL_SYNC_BODY_LEN;
	default:
		return reject(err, errlen, "unknown message type %u", m->type);
	}
}

int ha_wire_encode(uint8_t *buf, size_t cap, const struct ha_wire_key *key,
		   const struct ha_msg *m, char *err, size_t errlen)
{
	static _Thread_local uint8_t scratch[HA_WIRE_MSG_MAX];
	struct ha_msg check;

	if (key == NULL || key->len < HA_WIRE_KEY_MIN || key->len > HA_WIRE_KEY_MAX)
		return reject(err, errlen, "no valid key to sign the message with");
	int body = write_body(scratch + HA_WIRE_HEADER_LEN, m, err, errlen);
	if (body < 0)
		return -1;
	size_t len = HA_WIRE_HEADER_LEN + (size_t)body + HA_WIRE_HMAC_LEN;
	if (len > cap)
		return reject(err, errlen, "a %zu-byte message does not fit in %zu bytes", len, cap);
	put32(scratch, HA_WIRE_MAGIC);
	scratch[4] = HA_WIRE_VERSION;
	scratch[5] = m->type;
	put16(scratch + 6, m->flags);
	put32(scratch + 8, m->sender_id);
	put64(scratch + 12, m->seq);
	put16(scratch + 20, (uint16_t)body);
	put16(scratch + 22, 0);
	if (!hmac(key, scratch, len - HA_WIRE_HMAC_LEN, scratch + len - HA_WIRE_HMAC_LEN))
		return reject(err, errlen, "HMAC computation failed");
	/* the same checks as a receiver's: never send what the peer would refuse */
	if (check_body(scratch, &check, err, errlen) != 0)
		return -1;
	memcpy(buf, scratch, len);
	return (int)len;
}

/* ---- replay window ---- */

void ha_replay_init(struct ha_replay *r)
{
	memset(r, 0, sizeof(*r));
}

static struct ha_replay_slot *replay_slot(struct ha_replay *r, uint32_t sender, bool create)
{
	struct ha_replay_slot *free_slot = NULL;

	for (size_t i = 0; i < HA_REPLAY_MAX_SENDERS; i++) {
		if (r->slot[i].used && r->slot[i].sender_id == sender)
			return &r->slot[i];
		if (!r->slot[i].used && free_slot == NULL)
			free_slot = &r->slot[i];
	}
	if (!create || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->sender_id = sender;
	return free_slot;
}

bool ha_replay_accept(struct ha_replay *r, uint32_t sender, enum ha_channel channel,
		      uint64_t seq, const char **why)
{
	const char *ignored;

	why = why ? why : &ignored;
	if ((unsigned)channel >= HA_CH_COUNT) {
		*why = "unknown channel";
		return false;
	}
	if (seq == 0) {
		*why = "sequence 0";
		return false;
	}
	struct ha_replay_slot *s = replay_slot(r, sender, true);
	if (s == NULL) {
		*why = "too many senders";
		return false;
	}
	uint64_t *top = &s->top[channel], *win = &s->window[channel];
	if (seq > *top) {
		uint64_t shift = seq - *top;
		*win = shift >= HA_REPLAY_WINDOW ? 1 : (*win << shift) | 1;
		*top = seq;
		return true;
	}
	uint64_t back = *top - seq;
	if (back >= HA_REPLAY_WINDOW) {
		*why = "sequence older than the replay window";
		return false;
	}
	if (*win & (1ull << back)) {
		*why = "sequence already accepted (replay)";
		return false;
	}
	*win |= 1ull << back;
	return true;
}

void ha_replay_forget(struct ha_replay *r, uint32_t sender)
{
	struct ha_replay_slot *s = replay_slot(r, sender, false);

	if (s != NULL)
		memset(s, 0, sizeof(*s));
}
