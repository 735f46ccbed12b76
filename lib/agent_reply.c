/* Feedback-agent reply parsers: the LVS appliance's idle-CPU integer and HAProxy's agent-check
 * line (REFERENCE.md, "Feedback agents"). */
#include "agent_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_response.h"

#define AGENT_PCT_MAX 25600   /* HAProxy: 256 x 100 % */
#define AGENT_WEIGHT_MAX 65535 /* the largest weight a real can have */
#define WORD_QUOTE 24          /* characters of a bad word quoted in why */

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void reply_clear(struct agent_reply *out)
{
	memset(out, 0, sizeof(*out));
	out->weight_pct = AGENT_WEIGHT_UNSET;
	out->weight_abs = AGENT_WEIGHT_UNSET;
}

/* s[0..n) made printable and cut to outlen - 1 characters. */
static void printable(char *out, size_t outlen, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[k++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[k] = '\0';
}

/* Decimal digits only, no sign, at most max: 0, or -1 when s[0..n) is not that. */
static int parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int agent_reply_parse_lvs(const char *buf, size_t len, struct agent_reply *out, char *why,
			  size_t whylen)
{
	size_t i = 0, start, end;
	uint32_t idle;
	char q[WORD_QUOTE + 1];

	reply_clear(out);
	while (i < len && is_space(buf[i]))
		i++;
	start = i;
	while (i < len && !is_space(buf[i]))
		i++;
	end = i;
	while (i < len && is_space(buf[i]))
		i++;
	if (start == end)
		return refuse(why, whylen, "empty agent reply");
	printable(q, sizeof(q), buf + start, end - start);
	if (i < len)
		return refuse(why, whylen, "agent reply \"%s\" followed by more text", q);
	if (parse_uint(buf + start, end - start, 100, &idle) != 0)
		return refuse(why, whylen, "agent reply \"%s\" is not an idle percentage 0-100", q);
	out->weight_pct = idle * 10;
	return 0;
}

/* A word that names a number: prefix (case-insensitive), digits, then an optional '%'. */
static bool has_prefix(const char *w, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n >= p && strncasecmp(w, prefix, p) == 0;
}

/* "75%", "weight:N", "weight:N%" or "maxconn:N": 1 when it was one of those (0 or -1). */
static int parse_number_word(const char *w, size_t n, struct agent_reply *out, char *why,
			     size_t whylen)
{
	char q[WORD_QUOTE + 1];
	uint32_t v;
	bool pct = n > 0 && w[n - 1] == '%';

	printable(q, sizeof(q), w, n);
	if (has_prefix(w, n, "maxconn:")) {
		if (parse_uint(w + 8, n - 8, UINT32_MAX - 1, &v) != 0)
			return refuse(why, whylen, "bad number in \"%s\"", q);
		out->maxconn = v;
		return 1;
	}
	size_t skip = has_prefix(w, n, "weight:") ? 7 : 0;
	if (skip == 0 && !pct)
		return 0;
	size_t digits = n - skip - (pct ? 1 : 0);
	if (parse_uint(w + skip, digits, pct ? AGENT_PCT_MAX : AGENT_WEIGHT_MAX, &v) != 0)
		return refuse(why, whylen, "bad weight \"%s\" (%s)", q,
			      pct ? "0-25600%" : "0-65535");
	/* a percentage and an absolute weight are the same kind: the last one wins */
	out->weight_pct = pct ? v : AGENT_WEIGHT_UNSET;
	out->weight_abs = pct ? AGENT_WEIGHT_UNSET : v;
	return 1;
}

/* One word of a HAProxy agent line: 0, or -1 with why set. */
static int parse_word(const char *w, size_t n, struct agent_reply *out, char *why, size_t whylen)
{
	static const struct {
		const char *word;
		bool admin;
		uint8_t value;
	} words[] = {
		{"up", false, AGENT_STATE_UP},        {"down", false, AGENT_STATE_DOWN},
		{"stopped", false, AGENT_STATE_DOWN}, {"fail", false, AGENT_STATE_DOWN},
		{"ready", true, AGENT_ADMIN_READY},   {"drain", true, AGENT_ADMIN_DRAIN},
		{"maint", true, AGENT_ADMIN_MAINT},
	};
	char q[WORD_QUOTE + 1];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) == n && strncasecmp(w, words[i].word, n) == 0) {
			if (words[i].admin)
				out->admin = words[i].value;
			else
				out->state = words[i].value;
			return 0;
		}
	}
	int rc = parse_number_word(w, n, out, why, whylen);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	printable(q, sizeof(q), w, n);
	return refuse(why, whylen, "unknown word \"%s\" in the agent reply", q);
}

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

int agent_reply_parse_haproxy(const char *buf, size_t len, struct agent_reply *out, char *why,
			      size_t whylen)
{
	size_t end = 0, i = 0;

	reply_clear(out);
	while (end < len && buf[end] != '\r' && buf[end] != '\n')
		end++;
	if (end == len)
		return refuse(why, whylen, "incomplete agent reply (no end of line)");
	while (i < end) {
		while (i < end && is_separator(buf[i]))
			i++;
		if (i == end)
			break;
		if (buf[i] == '#') {
			/* free text to the end of the line, for health.status */
			size_t t = i + 1;
			while (t < end && is_separator(buf[t]))
				t++;
			printable(out->text, sizeof(out->text), buf + t, end - t);
			break;
		}
		size_t start = i;
		while (i < end && !is_separator(buf[i]))
			i++;
		if (parse_word(buf + start, i - start, out, why, whylen) != 0)
			return -1;
	}
	return 0;
}

int agent_reply_parse_http(const char *buf, size_t len, struct agent_reply *out, char *why,
			   size_t whylen)
{
	struct http_response r;

	if (len < 5 || memcmp(buf, "HTTP/", 5) != 0)
		return agent_reply_parse_lvs(buf, len, out, why, whylen);
	reply_clear(out);
	http_response_init(&r, false);
	enum http_parse_result res = http_response_feed(&r, (const uint8_t *)buf, len);
	if (res == HTTP_PARSE_MORE)
		res = http_response_eof(&r);
	if (res != HTTP_PARSE_DONE)
		return refuse(why, whylen, "bad HTTP agent reply: %s", r.why);
	if (r.status < 200 || r.status > 299)
		return refuse(why, whylen, "HTTP agent answered status %u", r.status);
	if (r.body_total > r.body_len)
		return refuse(why, whylen, "HTTP agent reply body too long");
	return agent_reply_parse_lvs(r.body, r.body_len, out, why, whylen);
}

uint32_t agent_reply_weight(const struct agent_reply *r, uint32_t configured)
{
	uint64_t w = configured;

	if (r->weight_abs != AGENT_WEIGHT_UNSET)
		w = r->weight_abs;
	else if (r->weight_pct != AGENT_WEIGHT_UNSET)
		w = (uint64_t)configured * r->weight_pct / 100;
	return w > AGENT_WEIGHT_MAX ? AGENT_WEIGHT_MAX : (uint32_t)w;
}
