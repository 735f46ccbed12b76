/* Helpers shared by the config unit tests (test_config.c, test_config_system.c). */
#ifndef DPDK_LB_TEST_CONFIG_UTIL_H
#define DPDK_LB_TEST_CONFIG_UTIL_H

#include <jansson.h>
#include <string.h>

#include "config.h"
#include "config_validate.h"

static inline json_t *load_json(const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		fail_msg("test document does not parse: %s (line %d col %d)", jerr.text, jerr.line,
			 jerr.column);
	return root;
}

/* Parses text into c, failing the test with the error when it does not parse. */
static inline void parse_ok(const char *text, struct lb_config *c)
{
	char err[LB_ERR_LEN] = "";
	json_t *root = load_json(text);

	if (lb_config_from_json(root, c, err, sizeof(err)) != 0)
		fail_msg("config rejected: %s", err);
	json_decref(root);
}

/* Expects text to be rejected with an error message containing `needle`. */
static inline void expect_error(const char *text, const char *needle)
{
	char err[LB_ERR_LEN] = "";
	struct lb_config c;
	json_t *root = load_json(text);
	int rc = lb_config_from_json(root, &c, err, sizeof(err));

	json_decref(root);
	/* A document is refused by the parser or, when it parses, by the one validator. */
	if (rc == 0 && lb_config_validate(&c, err, sizeof(err)) != LB_VALID) {
		lb_config_free(&c);
		rc = -1;
	}
	if (rc == 0) {
		lb_config_free(&c);
		fail_msg("config accepted, expected an error containing \"%s\": %s", needle, text);
	}
	assert_int_equal(rc, -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
	/* a failed parse leaves nothing allocated */
	assert_null(c.services);
	assert_int_equal(c.n_services, 0);
	assert_null(c.ports);
	assert_null(c.eal_argv);
}

#endif
