/*
 * simpletcp negotiate check (ldirectord's simpletcp): send the request string as it is (nothing
 * when it is empty: the server speaks first), then the answer must match receive_regex (any
 * answer when there is none). The answer so far is matched on every read; the verdict down is
 * given when the server closes without a match (or by the checker's timeout).
 */
#include <string.h>

#include "check_dialogue.h"

enum { STEP_READING = 0, STEP_FAILED };

#define QUOTE_MAX 48

static void simpletcp_start(struct check_dialogue *d)
{
	if (d->params->request[0] != '\0' && !check_dialogue_sendf(d, "%s", d->params->request))
		d->step = STEP_FAILED;
}

static bool answer_matches(const struct check_dialogue *d)
{
	regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)d->rx_len};

	if (d->params->receive_re == NULL)
		return d->rx_len > 0;
	return regexec(d->params->receive_re, (const char *)d->rx, 1, &m, REG_STARTEND) == 0;
}

static enum check_verdict simpletcp_advance(struct check_dialogue *d)
{
	if (d->step == STEP_FAILED)
		return CHECK_DOWN;
	return answer_matches(d) ? CHECK_UP : CHECK_MORE;
}

static enum check_verdict simpletcp_at_eof(struct check_dialogue *d)
{
	char q[QUOTE_MAX];

	if (d->step == STEP_FAILED)
		return CHECK_DOWN;
	if (answer_matches(d))
		return CHECK_UP;
	if (d->rx_len == 0)
		return check_dialogue_down(d, "connection closed without an answer");
	return check_dialogue_down(d, "answer \"%s\" does not match receive_regex",
				   check_dialogue_quote(d->rx, d->rx_len, q, sizeof(q)));
}

const struct check_proto check_proto_simpletcp = {
	.name = "simpletcp",
	.start = simpletcp_start,
	.advance = simpletcp_advance,
	.at_eof = simpletcp_at_eof,
};
