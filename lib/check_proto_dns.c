/*
 * dns negotiate check (RFC 1035, over UDP): one query for params->request with type
 * params->dns_type (0 = A) and recursion desired; up when the response carries our id, RCODE 0,
 * the question echoed and at least one answer record. Every name is read bounds-checked with a
 * limit on compression pointers, so a hostile answer cannot loop or read outside the datagram.
 * Datagrams with another id are ignored (a late answer to an earlier check).
 */
#include <string.h>

#include "byte_reader.h"
#include "check_dialogue.h"

#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX 255   /* wire form, final zero label included */
#define DNS_LABEL_MAX 63
#define DNS_MAX_POINTERS 32 /* more compression jumps in one name is a loop */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_CLASS_IN 1
#define DNS_TYPE_A 1

enum dns_step { DNS_SENT = 0, DNS_BAD_NAME };

/* Encodes a dotted name ("" or "." = the root) in wire form; NULL or the reason it is bad. */
static const char *dns_encode_name(const char *name, uint8_t *out, size_t *len)
{
	size_t o = 0;
	const char *p = name;

	if (strcmp(name, ".") == 0)
		p = "";
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0)
			return "empty label";
		if (n > DNS_LABEL_MAX)
			return "label longer than 63 bytes";
		if (o + 1 + n + 1 > DNS_NAME_MAX)
			return "name longer than 255 bytes";
		out[o++] = (uint8_t)n;
		memcpy(out + o, p, n);
		o += n;
		p += n;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	*len = o;
	return NULL;
}

static uint16_t dns_qtype(const struct check_params *p)
{
	return p->dns_type != 0 ? p->dns_type : DNS_TYPE_A;
}

static void dns_start(struct check_dialogue *d)
{
	uint8_t qname[DNS_NAME_MAX];
	size_t qlen = 0;
	const char *bad = dns_encode_name(d->params->request, qname, &qlen);
	uint16_t qtype = dns_qtype(d->params);
	uint8_t *t = d->tx;

	if (bad != NULL) {
		/* the checker finds nothing to send and why set: down without asking the server */
		check_dialogue_down(d, "query name unusable: %s", bad);
		d->step = DNS_BAD_NAME;
		return;
	}
	t[0] = (uint8_t)(d->params->id >> 8);
	t[1] = (uint8_t)d->params->id;
	t[2] = DNS_FLAG_RD >> 8;
	t[3] = 0;
	memset(t + 4, 0, 8);
	t[5] = 1; /* QDCOUNT */
	memcpy(t + DNS_HEADER_LEN, qname, qlen);
	t += DNS_HEADER_LEN + qlen;
	t[0] = (uint8_t)(qtype >> 8);
	t[1] = (uint8_t)qtype;
	t[2] = 0;
	t[3] = DNS_CLASS_IN;
	d->tx_len = DNS_HEADER_LEN + qlen + 4;
}

/*
 * Reads the name at r's position: its uncompressed wire form goes to out (DNS_NAME_MAX bytes)
 * and *out_len; r advances past the name as it is stored (up to the first pointer). NULL, or
 * what is wrong with it.
 */
static const char *dns_read_name(struct byte_reader *r, uint8_t *out, size_t *out_len)
{
	size_t pos = r->off, total = 0;
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= r->len)
			return "name runs past the end";
		uint8_t c = r->p[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= r->len)
				return "name runs past the end";
			size_t target = (size_t)(c & 0x3f) << 8 | r->p[pos + 1];
			if (!jumped)
				r->off = pos + 2;
			jumped = true;
			if (++hops > DNS_MAX_POINTERS)
				return "compression pointer loop";
			if (target >= r->len)
				return "compression pointer past the end";
			pos = target;
			continue;
		}
		if (c & 0xc0)
			return "unknown label type";
		if (c > r->len - pos - 1)
			return "name runs past the end";
		if (total + 1 + c > DNS_NAME_MAX)
			return "name longer than 255 bytes";
		memcpy(out + total, r->p + pos, 1 + (size_t)c);
		total += 1 + (size_t)c;
		pos += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	if (!jumped)
		r->off = pos;
	*out_len = total;
	return NULL;
}

/* Wire-form names compare without regard to ASCII case (length bytes are < 'A'). */
static bool dns_same_name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		uint8_t x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		uint8_t y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
		if (x != y)
			return false;
	}
	return true;
}

static const char *dns_rcode_name(unsigned rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR",  "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED",  "YXDOMAIN", "YXRRSET",
					    "NXRRSET", "NOTAUTH",  "NOTZONE"};

	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : "unassigned";
}

/* The question section must be ours: our name (any case), type and class IN. */
static enum check_verdict dns_check_question(struct check_dialogue *d, struct byte_reader *r,
					     uint16_t qdcount)
{
	uint8_t ours[DNS_NAME_MAX], theirs[DNS_NAME_MAX];
	size_t olen = 0, tlen = 0;
	const char *bad;

	if (qdcount != 1)
		return check_dialogue_down(d, "response has %u questions (1 expected)", qdcount);
	bad = dns_read_name(r, theirs, &tlen);
	if (bad != NULL)
		return check_dialogue_down(d, "malformed question: %s", bad);
	uint16_t qtype = byte_reader_be16(r), qclass = byte_reader_be16(r);
	if (!r->ok)
		return check_dialogue_down(d, "malformed question: truncated");
	dns_encode_name(d->params->request, ours, &olen);
	if (!dns_same_name(ours, olen, theirs, tlen) || qtype != dns_qtype(d->params) ||
	    qclass != DNS_CLASS_IN)
		return check_dialogue_down(d, "response is for another question");
	return CHECK_MORE;
}

/* Walks every answer record, bounds-checked. */
static enum check_verdict dns_check_answers(struct check_dialogue *d, struct byte_reader *r,
					    uint16_t ancount)
{
	for (unsigned i = 0; i < ancount; i++) {
		uint8_t name[DNS_NAME_MAX];
		size_t nlen = 0;
		const char *bad = dns_read_name(r, name, &nlen);
		if (bad != NULL)
			return check_dialogue_down(d, "malformed answer record %u: %s", i + 1, bad);
		byte_reader_skip(r, 8); /* type, class, ttl */
		uint16_t rdlength = byte_reader_be16(r);
		if (!byte_reader_skip(r, rdlength))
			return check_dialogue_down(d, "malformed answer record %u: truncated", i + 1);
	}
	return CHECK_MORE;
}

static enum check_verdict dns_advance(struct check_dialogue *d)
{
	struct byte_reader r = byte_reader_make(d->rx, d->rx_len);
	enum check_verdict v;

	if (d->step == DNS_BAD_NAME)
		return CHECK_DOWN; /* why was set by dns_start */
	uint16_t id = byte_reader_be16(&r), flags = byte_reader_be16(&r);
	uint16_t qdcount = byte_reader_be16(&r), ancount = byte_reader_be16(&r);
	byte_reader_skip(&r, 4); /* NSCOUNT, ARCOUNT */
	if (!r.ok)
		return check_dialogue_down(d, "datagram of %zu bytes is not a DNS message",
					   d->rx_len);
	if (id != d->params->id)
		return CHECK_MORE;
	if (!(flags & DNS_FLAG_QR))
		return check_dialogue_down(d, "not a DNS response (QR bit clear)");
	if ((flags >> 11 & 0xf) != 0)
		return check_dialogue_down(d, "response with opcode %u", flags >> 11 & 0xf);
	if ((flags & 0xf) != 0)
		return check_dialogue_down(d, "rcode %u %s", flags & 0xf, dns_rcode_name(flags & 0xf));
	v = dns_check_question(d, &r, qdcount);
	if (v == CHECK_MORE)
		v = dns_check_answers(d, &r, ancount);
	if (v != CHECK_MORE)
		return v;
	if (ancount == 0)
		return check_dialogue_down(d, "no answer records%s",
					   flags & DNS_FLAG_TC ? " (truncated response)" : "");
	return CHECK_UP;
}

const struct check_proto check_proto_dns = {
	.name = "dns",
	.default_port = 53,
	.datagram = true,
	.start = dns_start,
	.advance = dns_advance,
};
