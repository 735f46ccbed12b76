/*
 * Health-check dialogues: what a negotiate check says to a real server and what it expects back,
 * as pure code (no sockets, no EAL). The control side's checker connects (TCP, or UDP for
 * datagram protocols; TLS for https), sends what a dialogue asks for and feeds it every byte it
 * reads; the dialogue decides up or down and says why in words. One protocol per file
 * (check_proto_NAME.c), listed in check_dialogue.c's table: adding one touches one new file and
 * one table row.
 */
#ifndef DPDK_LB_CHECK_DIALOGUE_H
#define DPDK_LB_CHECK_DIALOGUE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_response.h"

#define CHECK_MAX_STATUS_RANGES 8
#define CHECK_RX_MAX 65536 /* bytes a dialogue keeps of what the server sent; more is an error */
#define CHECK_TX_MAX 2048  /* the longest message a dialogue sends */
#define CHECK_WHY_LEN 128

/* What a check's configuration gives its dialogue. Strings are never NULL ("" when unset). */
struct check_params {
	const char *host;     /* http Host header and TLS SNI, smtp EHLO name, sip domain */
	const char *request;  /* http path; dns query name; simpletcp string to send */
	const char *method;   /* http: "GET" or "HEAD" */
	const char *login;    /* ftp, pop3, imap, ldap (bind DN), mysql user; "" = anonymous */
	const char *password;
	const char *database; /* mysql: database to select after login ("" = none) */
	const char *receive;  /* http: substring expected in the body ("" = anything) */
	const regex_t *receive_re; /* http body / simpletcp answer must match (NULL = anything) */
	uint8_t n_status;          /* http: accepted status ranges; 0 = 200-299 */
	uint16_t status_lo[CHECK_MAX_STATUS_RANGES], status_hi[CHECK_MAX_STATUS_RANGES];
	uint16_t dns_type;         /* dns: query type (1 = A, 28 = AAAA, 6 = SOA ...) */
	uint16_t id;               /* a random number the checker draws per check (dns id, sip tags) */
	const char *local_addr;    /* sip: the checker's own address, for Via/From/Contact */
	uint16_t local_port;       /* sip: the checker's own port */
};

enum check_verdict {
	CHECK_MORE = 0, /* nothing decided: read more (send tx first when tx_len > 0) */
	CHECK_UP,       /* the server answered as expected */
	CHECK_DOWN,     /* it did not: why says how, in words */
};

/* One dialogue in progress; the checker owns it, the protocol fills it. */
struct check_dialogue {
	const struct check_proto *proto;
	const struct check_params *params;
	uint32_t step;               /* the protocol's own step counter */
	uint8_t rx[CHECK_RX_MAX];    /* TCP: what was received and not consumed yet */
	size_t rx_len;
	uint8_t tx[CHECK_TX_MAX];    /* to send before reading again */
	size_t tx_len;
	char why[CHECK_WHY_LEN];     /* CHECK_DOWN: the reason ("status 503 not in 200-299") */
	union {
		uint8_t scratch[256];      /* protocol state that is not bytes received (mysql salt ...) */
		struct http_response http; /* http, https: the response parsed as it arrives */
	};
};

struct check_proto {
	const char *name;      /* "http", "smtp" ... as in the check's "service" key */
	uint16_t default_port; /* the port that selects this protocol by default (0 = none) */
	bool datagram;         /* UDP: each feed() is one datagram (dns, sip) */
	bool tls;              /* the checker wraps the TCP stream in TLS first (https) */
	/* Fills d->tx with what to send first (nothing when the server speaks first). */
	void (*start)(struct check_dialogue *d);
	/*
	 * Looks at d->rx (the bytes so far, TCP) or the one datagram in d->rx (UDP); consumes what
	 * it used, may fill d->tx, and decides. Never reads past rx_len, never blocks.
	 */
	enum check_verdict (*advance)(struct check_dialogue *d);
	/* Optional: the server closed the stream (TCP); NULL = down ("connection closed"). */
	enum check_verdict (*at_eof)(struct check_dialogue *d);
};

/* The protocol called name, or NULL. */
const struct check_proto *check_proto_find(const char *name);

/* The protocol ldirectord picks for a real's port when none is named (80 http ...), or NULL. */
const struct check_proto *check_proto_for_port(uint16_t port);

/* "dns, ftp, http, ...": every protocol name, for error messages. */
const char *check_proto_names(void);

/* Resets d for a new check of proto with params and runs proto->start. */
void check_dialogue_begin(struct check_dialogue *d, const struct check_proto *proto,
			  const struct check_params *params);

/*
 * Appends bytes received (TCP) or sets the datagram (UDP), then lets the protocol decide.
 * More than CHECK_RX_MAX buffered bytes is CHECK_DOWN ("answer too long").
 */
enum check_verdict check_dialogue_feed(struct check_dialogue *d, const uint8_t *data, size_t len);

/* The server closed its side: the protocol decides (at_eof), or down. */
enum check_verdict check_dialogue_eof(struct check_dialogue *d);

/* Helpers for protocol files. */

/* Removes the first n bytes of d->rx. */
void check_dialogue_consume(struct check_dialogue *d, size_t n);

/* Sets d->tx to the formatted text; false (and why set) when it does not fit. */
bool check_dialogue_sendf(struct check_dialogue *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets why and returns CHECK_DOWN. */
enum check_verdict check_dialogue_down(struct check_dialogue *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The length of the first complete line in d->rx, CRLF or LF included, or 0 when no line is
 * complete yet.
 */
size_t check_dialogue_line(const struct check_dialogue *d);

/*
 * Writes s[0..n) into out as printable text for a why (other bytes become '?', CR/LF at the
 * end dropped), cut to outlen - 1 characters; returns out.
 */
const char *check_dialogue_quote(const uint8_t *s, size_t n, char *out, size_t outlen);

/*
 * host as it goes into a URI or Host header: spaces and control characters left out (no header
 * injection), an IPv6 literal (two colons or more, no brackets) put in brackets; cut to
 * outlen - 1 characters. Returns out.
 */
const char *check_dialogue_uri_host(const char *host, char *out, size_t outlen);

#endif
