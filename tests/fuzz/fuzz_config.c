/*
 * Fuzz target for lib/config: the input is a JSON document. Whatever lb_config_from_json
 * accepts must serialise with lb_config_to_json into a document that parses again to the same
 * configuration (the config.save / restart round trip), and clone must copy it exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_validate.h"
#include "fuzz_progress.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

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

/* Every value node of the tree, with its parent and key (object) or index (array). */
struct node_ref {
	json_t *parent;
	const char *key;
	size_t index;
};

static size_t collect(json_t *j, struct node_ref *out, size_t n, size_t cap)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (n < cap)
				out[n++] = (struct node_ref){j, key, 0};
			n = collect(v, out, n, cap);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (n < cap)
				out[n++] = (struct node_ref){j, NULL, i};
			n = collect(v, out, n, cap);
		}
	}
	return n;
}

static json_t *node_get(const struct node_ref *r)
{
	return r->key ? json_object_get(r->parent, r->key) : json_array_get(r->parent, r->index);
}

static void node_set(const struct node_ref *r, json_t *v)
{
	if (r->key)
		json_object_set_new(r->parent, r->key, v);
	else
		json_array_set_new(r->parent, r->index, v);
}

/* Values that sit on the validator's edges: limits, wrong types, empty containers. */
static json_t *edge_value(unsigned int pick)
{
	static const long long ints[] = {0, 1, -1, 2, 3, 7, 8, 16, 63, 64, 255, 256, 1023, 1024,
					 4096, 65535, 65536, 2147483647, 4294967295LL, 4294967296LL};
	static const char *const strs[] = {"", "tcp", "udp", "rr", "mh", "sh", "fnat", "nat",
					   "tun", "dr", "10.0.0.100", "10.0.0.11", "fd00::1",
					   "255.255.255.0", "80-90", "toa", "fallback", "port"};

	switch (pick % 5) {
	case 0:
		return json_integer(ints[(pick / 5) % (sizeof(ints) / sizeof(ints[0]))]);
	case 1:
		return json_string(strs[(pick / 5) % (sizeof(strs) / sizeof(strs[0]))]);
	case 2:
		return (pick / 5) % 2 ? json_true() : json_false();
	case 3:
		return json_null();
	default:
		return (pick / 5) % 2 ? json_array() : json_object();
	}
}

/* Structured mutations, so that most inputs stay JSON and reach lb_config_from_json and the
 * validator: replace a value by an edge value or by another node's value, delete a key or an
 * element, duplicate an element (two services or reals with the same key). */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct node_ref refs[512];
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		return LLVMFuzzerMutate(data, size, max_size);
	size_t n = collect(root, refs, 0, sizeof(refs) / sizeof(refs[0]));
	if (n > 0) {
		const struct node_ref *r = &refs[seed % n];
		unsigned int op = (seed / 7) % 4, pick = seed / 29;
		if (op == 0) {
			node_set(r, edge_value(pick));
		} else if (op == 1) {
			node_set(r, json_deep_copy(node_get(&refs[pick % n])));
		} else if (op == 2) {
			if (r->key)
				json_object_del(r->parent, r->key);
			else
				json_array_remove(r->parent, r->index);
		} else if (!r->key) {
			json_array_append_new(r->parent, json_deep_copy(node_get(r)));
		} else {
			node_set(r, edge_value(pick));
		}
	}
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len = text ? strlen(text) : 0;
	if (text && len <= max_size) {
		memcpy(data, text, len);
		size = len;
	}
	free(text);
	json_decref(root);
	return size;
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
	/* JSON that lb_config_from_json took: it reaches the validator */
	fuzz_progress_reached();
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
