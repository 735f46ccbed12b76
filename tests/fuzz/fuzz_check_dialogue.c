/*
 * Fuzz target for the health-check dialogues (lib/check_dialogue.c and every check_proto_*.c):
 * the input is a server's side of a conversation.
 *
 *   byte 0: the protocol, index into a fixed name list (stable, so corpus files keep their
 *           meaning as protocols are added); names not in the table are skipped
 *   byte 1: bit 0 = params with a login (user, password, database); bit 1 = end the stream
 *           after the last feed (at_eof)
 *   then:   feeds, each a length byte L (255: a big-endian 16-bit length follows) and up to
 *           that many bytes (one datagram for UDP protocols, one read for TCP ones)
 *
 * Invariants: the verdict is one of the three, a DOWN has a reason, what is to be sent fits tx,
 * and nothing reads past what was received: the unused part of d->rx is poisoned for ASan
 * around every feed, so a read of stale buffer bytes is caught too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_dialogue.h"
#include "fuzz_progress.h"

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_HAS_ASAN 1
#endif
#endif
#ifdef FUZZ_HAS_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Never reorder: corpus files name their protocol by index. */
static const char *const proto_names[] = {"dns",  "ftp",  "imap", "ldap",      "mysql", "pop3",
					  "smtp", "http", "https", "simpletcp", "sip",   "nntp"};
#define N_NAMES (sizeof(proto_names) / sizeof(proto_names[0]))

static struct check_dialogue dlg;

static void check_outcome(enum check_verdict v)
{
	FUZZ_CHECK(v == CHECK_MORE || v == CHECK_UP || v == CHECK_DOWN);
	FUZZ_CHECK(dlg.tx_len <= CHECK_TX_MAX);
	FUZZ_CHECK(dlg.rx_len <= CHECK_RX_MAX);
	FUZZ_CHECK(memchr(dlg.why, '\0', sizeof(dlg.why)) != NULL);
	if (v == CHECK_DOWN)
		FUZZ_CHECK(dlg.why[0] != '\0');
}

/* One feed, with every byte of rx the protocol may not read poisoned. */
static enum check_verdict feed(const uint8_t *data, size_t len)
{
	size_t keep = dlg.proto->datagram ? 0 : dlg.rx_len;
	size_t valid = len <= CHECK_RX_MAX - keep ? keep + len : keep;

	POISON(dlg.rx + valid, CHECK_RX_MAX - valid);
	enum check_verdict v = check_dialogue_feed(&dlg, data, len);
	UNPOISON(dlg.rx, CHECK_RX_MAX);
	if (dlg.step > 0 || v == CHECK_UP) /* the dialogue took a step: past the first check */
		fuzz_progress_reached();
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct check_params with_login = {
		.host = "lb.example", .request = "www.example.com", .method = "GET",
		.login = "bob", .password = "pw", .database = "db", .receive = "",
		.dns_type = 1, .id = 0x1234, .local_addr = "127.0.0.1", .local_port = 5060};
	const struct check_params anonymous = {
		.host = "", .request = "/", .method = "HEAD", .login = "", .password = "",
		.database = "", .receive = "", .dns_type = 28, .id = 0x1234,
		.local_addr = "::1", .local_port = 5060};

	if (size < 2)
		return 0;
	const struct check_proto *proto = check_proto_find(proto_names[data[0] % N_NAMES]);
	if (proto == NULL)
		return 0;
	const struct check_params *p = data[1] & 1 ? &with_login : &anonymous;
	enum check_verdict v = CHECK_MORE;

	check_dialogue_begin(&dlg, proto, p);
	FUZZ_CHECK(dlg.tx_len <= CHECK_TX_MAX);
	for (size_t off = 2; off < size && v == CHECK_MORE;) {
		size_t len = data[off++];
		if (len == 255 && size - off >= 2) {
			len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
		}
		if (len > size - off)
			len = size - off;
		/* an exact-size copy: a read past the feed is caught too */
		uint8_t *chunk = malloc(len ? len : 1);
		FUZZ_CHECK(chunk != NULL);
		memcpy(chunk, data + off, len);
		v = feed(chunk, len);
		free(chunk);
		off += len;
		check_outcome(v);
	}
	if (v == CHECK_MORE && (data[1] & 2)) {
		POISON(dlg.rx + dlg.rx_len, CHECK_RX_MAX - dlg.rx_len);
		v = check_dialogue_eof(&dlg);
		UNPOISON(dlg.rx, CHECK_RX_MAX);
		check_outcome(v);
	}
	return 0;
}
