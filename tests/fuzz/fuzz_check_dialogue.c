/*
 * Fuzz target for the health-check dialogues (lib/check_dialogue.c and every check_proto_*.c in
 * its table): the input is "NAME\n", a flags byte, then what the server sends. NAME picks the
 * protocol (an unknown name picks one by its first byte, so mutations reach them all); the flags
 * pick the check's options and the read size. The bytes are fed in reads (datagrams for UDP
 * protocols) until a verdict, then EOF: the dialogue must stay inside its buffers, give a
 * reason with every down, and never ask to send more than CHECK_TX_MAX.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_dialogue.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#define MAX_PROTOS 32

static struct check_dialogue d;
static const struct check_proto *protos[MAX_PROTOS];
static size_t n_protos;
static regex_t re;

/* The table, from check_proto_names(), so that new protocols are fuzzed without a change here. */
static void load_protocols(void)
{
	char names[512];

	snprintf(names, sizeof(names), "%s", check_proto_names());
	for (char *save = NULL, *n = strtok_r(names, ", ", &save); n && n_protos < MAX_PROTOS;
	     n = strtok_r(NULL, ", ", &save)) {
		protos[n_protos] = check_proto_find(n);
		FUZZ_CHECK(protos[n_protos] != NULL);
		n_protos++;
	}
	FUZZ_CHECK(n_protos > 0);
	FUZZ_CHECK(regcomp(&re, "^(\\+OK|2[0-9][0-9]) .*ok", REG_EXTENDED | REG_NOSUB) == 0);
}

static void check_state(enum check_verdict v)
{
	FUZZ_CHECK(v == CHECK_MORE || v == CHECK_UP || v == CHECK_DOWN);
	FUZZ_CHECK(d.rx_len <= CHECK_RX_MAX);
	FUZZ_CHECK(d.tx_len <= CHECK_TX_MAX);
	FUZZ_CHECK(memchr(d.why, '\0', sizeof(d.why)) != NULL);
	if (v == CHECK_DOWN)
		FUZZ_CHECK(d.why[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (n_protos == 0)
		load_protocols();
	const uint8_t *nl = memchr(data, '\n', size < 17 ? size : 17);
	if (nl == NULL || (size_t)(nl - data) + 2 > size)
		return 0;
	char name[17];
	memcpy(name, data, (size_t)(nl - data));
	name[nl - data] = '\0';
	const struct check_proto *proto = check_proto_find(name);
	if (proto == NULL)
		proto = protos[data[0] % n_protos];
	const uint8_t flags = nl[1];
	const uint8_t *s = nl + 2;
	const size_t n = size - (size_t)(s - data);
	const size_t step = (flags & 0x80) ? 1 : 1 + (size_t)(flags >> 4) * 37;

	struct check_params p = {
		.host = (flags & 1) ? "" : "www.example.com",
		.request = (flags & 2) ? "/health?x=1" : "",
		.method = (flags & 4) ? "HEAD" : "GET",
		.login = (flags & 8) ? "user" : "",
		.password = (flags & 8) ? "secret" : "",
		.database = (flags & 8) ? "db" : "",
		.receive = (flags & 2) ? "ok" : "",
		.receive_re = (flags & 0x40) ? &re : NULL,
		.n_status = (flags & 0x20) ? 2 : 0,
		.status_lo = {200, 301},
		.status_hi = {204, 302},
		.dns_type = (flags & 8) ? 28 : 1,
		.id = (uint16_t)(size * 7919),
		.local_addr = (flags & 1) ? "fd00::1" : "10.0.0.1",
		.local_port = 40000,
	};

	check_dialogue_begin(&d, proto, &p);
	check_state(CHECK_MORE);
	enum check_verdict v = CHECK_MORE;
	for (size_t pos = 0; pos < n && v == CHECK_MORE; pos += step) {
		v = check_dialogue_feed(&d, s + pos, n - pos < step ? n - pos : step);
		check_state(v);
	}
	if (v == CHECK_MORE && !proto->datagram) {
		v = check_dialogue_eof(&d);
		check_state(v);
		FUZZ_CHECK(v != CHECK_MORE);
	}
	return 0;
}
