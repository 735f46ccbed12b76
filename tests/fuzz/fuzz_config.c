/*
 * Fuzz target for lib/config: the input is a JSON document. Whatever lb_config_from_json
 * accepts must serialise with lb_config_to_json into a document that parses again to the same
 * configuration (the config.save / restart round trip), and clone must copy it exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "config_validate.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static void dump(const char *what, const json_t *j)
{
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);

	fprintf(stderr, "%s: %s\n", what, s ? s : "(null)");
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	struct lb_config c, again, copy;
	char err[LB_ERR_LEN];

	if (root == NULL)
		return 0;
	if (lb_config_from_json(root, &c, err, sizeof(err)) != 0) {
		/* a rejection always says why, and leaves nothing allocated */
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(c.services == NULL && c.n_services == 0);
		FUZZ_CHECK(c.ports == NULL && c.static_neigh == NULL && c.eal_argv == NULL);
		json_decref(root);
		return 0;
	}
	json_decref(root);
	/* The validator's verdict on any parsed config: a verdict with a reason, the same on a copy. */
	int verdict = lb_config_validate(&c, err, sizeof(err));
	FUZZ_CHECK(verdict == LB_VALID || verdict == LB_INVALID || verdict == LB_OVER_CAPACITY);
	FUZZ_CHECK(verdict == LB_VALID || err[0] != '\0');

	json_t *first = lb_config_to_json(&c);
	FUZZ_CHECK(first != NULL);
	if (lb_config_from_json(first, &again, err, sizeof(err)) != 0) {
		dump("to_json output rejected", first);
		fprintf(stderr, "error: %s\n", err);
		abort();
	}
	json_t *second = lb_config_to_json(&again);
	if (!json_equal(first, second)) {
		dump("first", first);
		dump("second", second);
		abort();
	}

	FUZZ_CHECK(lb_config_clone(&c, &copy) == 0);
	json_t *cloned = lb_config_to_json(&copy);
	FUZZ_CHECK(json_equal(first, cloned));
	FUZZ_CHECK(lb_config_validate(&copy, err, sizeof(err)) == verdict);

	/* the text form round-trips too (what config.save writes and the daemon reads back) */
	char *text = json_dumps(first, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	FUZZ_CHECK(text != NULL);
	json_t *reread = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(reread != NULL && json_equal(reread, first));
	free(text);

	json_decref(reread);
	json_decref(cloned);
	json_decref(second);
	json_decref(first);
	lb_config_free(&copy);
	lb_config_free(&again);
	lb_config_free(&c);
	return 0;
}
