/*
 * Fuzz target for lib/agent_reply: the input is what a feedback agent answers, parsed as an
 * HAProxy agent-check line, an LVS appliance reply and an http agent reply. Every parse either
 * refuses with a reason or yields values inside their documented ranges, and the weight that
 * results never exceeds 65535.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_reply.h"
#include "fuzz_progress.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static void check_reply(int rc, const struct agent_reply *r, const char *why, uint32_t configured)
{
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', AGENT_WHY_LEN) != NULL);
		return;
	}
	FUZZ_CHECK(r->state <= AGENT_STATE_DOWN);
	FUZZ_CHECK(r->admin <= AGENT_ADMIN_MAINT);
	FUZZ_CHECK(r->weight_pct == AGENT_WEIGHT_UNSET || r->weight_pct <= 25600);
	FUZZ_CHECK(r->weight_abs == AGENT_WEIGHT_UNSET || r->weight_abs <= 65535);
	FUZZ_CHECK(r->weight_pct == AGENT_WEIGHT_UNSET || r->weight_abs == AGENT_WEIGHT_UNSET);
	size_t tl = strnlen(r->text, sizeof(r->text));
	FUZZ_CHECK(tl < sizeof(r->text));
	for (size_t i = 0; i < tl; i++)
		FUZZ_CHECK(r->text[i] >= 0x20 && r->text[i] < 0x7f);
	uint32_t w = agent_reply_weight(r, configured);
	FUZZ_CHECK(w <= 65535);
	if (r->weight_pct == AGENT_WEIGHT_UNSET && r->weight_abs == AGENT_WEIGHT_UNSET)
		FUZZ_CHECK(w == (configured > 65535 ? 65535 : configured));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_reply r;
	char why[AGENT_WHY_LEN];
	const char *s = (const char *)data;
	const uint32_t configured = size > 0 ? (uint32_t)data[0] * 300 : 1;

	why[0] = '\0';
	int rc = agent_reply_parse_haproxy(s, size, &r, why, sizeof(why));
	check_reply(rc, &r, why, configured);
	if (rc == 0)
		fuzz_progress_reached();
	if (memchr(s, '\n', size) == NULL && memchr(s, '\r', size) == NULL)
		FUZZ_CHECK(rc == -1);

	why[0] = '\0';
	rc = agent_reply_parse_lvs(s, size, &r, why, sizeof(why));
	check_reply(rc, &r, why, configured);
	if (rc == 0) {
		FUZZ_CHECK(r.weight_pct <= 1000 && r.weight_pct % 10 == 0);
		FUZZ_CHECK(r.state == AGENT_STATE_UNSET && r.admin == AGENT_ADMIN_UNSET);
	}

	why[0] = '\0';
	rc = agent_reply_parse_http(s, size, &r, why, sizeof(why));
	check_reply(rc, &r, why, configured);
	if (rc == 0)
		FUZZ_CHECK(r.weight_pct <= 1000 && r.weight_pct % 10 == 0);
	return 0;
}
