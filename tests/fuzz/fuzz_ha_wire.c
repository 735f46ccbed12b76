/*
 * Fuzz target for lib/ha_wire: the input is a datagram from a peer. It is decoded twice under the
 * fixed fuzz key FUZZ_HA_KEY: as it came (mutations almost always break the HMAC, which tests
 * the header checks and the authentication), and re-signed, its last 32 bytes replaced by the
 * valid HMAC of the rest (so mutated headers and bodies reach the body checks, as from a peer
 * that holds the key). Every decode refuses with a reason or yields a message that encodes back
 * to exactly the same bytes: the format has one encoding per message.
 *
 * The seed corpus (tests/fuzz/corpus/ha_wire) is written by gen_ha_wire_corpus.py, an
 * independent implementation of docs/ha.md's format signing with the same key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ha_wire.h"
#include "fuzz_progress.h"

#define FUZZ_HA_KEY "dpdk-lb-ha-wire-fuzz-key-32bytes" /* 32 bytes, public: tests only */

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static struct ha_wire_key key;

static void check_one(const uint8_t *data, size_t size)
{
	struct ha_msg m;
	char err[HA_WIRE_ERR_LEN] = "";
	static uint8_t again[HA_WIRE_MSG_MAX];

	int rc = ha_wire_decode(data, size, &key, &m, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	FUZZ_CHECK(size <= HA_WIRE_MSG_MAX);
	fuzz_progress_reached(); /* decoded: form, HMAC and body rules passed */
	if (m.type == HA_MSG_CONN_BATCH)
		FUZZ_CHECK(m.batch.count >= 1 && m.batch.count <= HA_WIRE_MAX_RECORDS);
	if (m.type == HA_MSG_CONFIG)
		FUZZ_CHECK(m.config.data >= data && m.config.data + m.config.len <= data + size &&
			   (uint64_t)m.config.offset + m.config.len <= m.config.total_len);
	int n = ha_wire_encode(again, sizeof(again), &key, &m, err, sizeof(err));
	if (n < 0)
		fprintf(stderr, "re-encode refused: %s\n", err);
	FUZZ_CHECK(n >= 0 && (size_t)n == size && memcmp(again, data, size) == 0);
	struct ha_replay r;
	ha_replay_init(&r);
	FUZZ_CHECK(ha_replay_accept(&r, m.sender_id, ha_wire_channel(m.type), m.seq, NULL));
	FUZZ_CHECK(!ha_replay_accept(&r, m.sender_id, ha_wire_channel(m.type), m.seq, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t signed_copy[HA_WIRE_MSG_MAX];
	unsigned int tag_len = 0;

	if (key.len == 0)
		FUZZ_CHECK(ha_wire_key_set(&key, FUZZ_HA_KEY, strlen(FUZZ_HA_KEY)) == 0);
	check_one(data, size);
	if (size < HA_WIRE_HEADER_LEN + HA_WIRE_HMAC_LEN || size > HA_WIRE_MSG_MAX)
		return 0;
	memcpy(signed_copy, data, size);
	FUZZ_CHECK(HMAC(EVP_sha256(), key.bytes, (int)key.len, signed_copy, size - HA_WIRE_HMAC_LEN,
			signed_copy + size - HA_WIRE_HMAC_LEN, &tag_len) != NULL);
	check_one(signed_copy, size);
	return 0;
}
