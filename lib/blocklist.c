#include "blocklist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

void lb_addr_mask_prefix(struct lb_addr *a, uint8_t len)
{
	uint8_t *b = a->family == AF_INET ? (uint8_t *)&a->v4 : a->v6;
	unsigned bytes = a->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int lb_block_parse_cidr(const char *text, struct lb_block_entry *e, char *err, size_t errlen)
{
	struct lb_addr masked;

	if (text == NULL || lb_addr_parse_prefix(text, &e->prefix, &e->len) != 0)
		return lb_err(err, errlen, "must be an IPv4 or IPv6 address or CIDR (ADDR/LEN)");
	masked = e->prefix;
	lb_addr_mask_prefix(&masked, e->len);
	if (!lb_addr_equal(&masked, &e->prefix)) {
		char ab[LB_ADDR_STRLEN];
		return lb_err(err, errlen, "host bits set in %s: the prefix is %s/%u", text,
			      lb_addr_format(&masked, ab, sizeof(ab)), e->len);
	}
	return 0;
}

const char *lb_block_format_cidr(const struct lb_block_entry *e, char *buf, size_t len)
{
	char ab[LB_ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", lb_addr_format(&e->prefix, ab, sizeof(ab)), e->len);
	return buf;
}

static int get_u64(const json_t *obj, const char *key, const char *path, uint64_t *out, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return lb_err(err, errlen, "%s.%s: must be a non-negative integer (seconds since 1970)",
			      path, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int lb_block_entry_from_json(const json_t *obj, const char *path, struct lb_block_entry *e,
			     char *err, size_t errlen)
{
	static const char *const keys[] = {"cidr", "expires", "added", "reason", NULL};
	char inner[LB_ERR_LEN];
	json_t *reason;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(obj))
		return lb_err(err, errlen, "%s: must be an object", path);
	if (lb_json_check_keys(obj, path, keys, err, errlen) != 0)
		return -1;
	if (lb_block_parse_cidr(json_string_value(json_object_get(obj, "cidr")), e, inner,
				sizeof(inner)) != 0)
		return lb_err(err, errlen, "%s.cidr: %s", path, inner);
	if (get_u64(obj, "expires", path, &e->expires, err, errlen) != 0 ||
	    get_u64(obj, "added", path, &e->added, err, errlen) != 0)
		return -1;
	reason = json_object_get(obj, "reason");
	if (reason != NULL) {
		if (!json_is_string(reason) || json_string_length(reason) >= LB_BLOCK_REASON_LEN ||
		    strlen(json_string_value(reason)) != json_string_length(reason))
			return lb_err(err, errlen, "%s.reason: must be a string of at most %u bytes",
				      path, LB_BLOCK_REASON_LEN - 1);
		snprintf(e->reason, sizeof(e->reason), "%s", json_string_value(reason));
	}
	return 0;
}

json_t *lb_block_entry_to_json(const struct lb_block_entry *e)
{
	char cidr[LB_ADDR_STRLEN + 8];

	return json_pack("{s:s, s:I, s:I, s:s}", "cidr",
			 lb_block_format_cidr(e, cidr, sizeof(cidr)), "added", (json_int_t)e->added,
			 "expires", (json_int_t)e->expires, "reason", e->reason);
}

int lb_blocklist_from_json(const json_t *v, struct lb_block_entry **entries, uint32_t *n,
			   char *err, size_t errlen)
{
	size_t count = json_array_size(v);
	char path[32];

	*entries = NULL;
	*n = 0;
	if (!json_is_array(v))
		return lb_err(err, errlen, "blocklist: must be an array");
	if (count > LB_BLOCKLIST_CAPACITY_MAX)
		return lb_err(err, errlen, "blocklist: at most %u entries", LB_BLOCKLIST_CAPACITY_MAX);
	if (count == 0)
		return 0;
	*entries = calloc(count, sizeof(**entries));
	if (*entries == NULL)
		return lb_err(err, errlen, "out of memory");
	for (size_t i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "blocklist[%zu]", i);
		if (lb_block_entry_from_json(json_array_get(v, i), path, &(*entries)[i], err,
					     errlen) != 0) {
			free(*entries);
			*entries = NULL;
			return -1;
		}
	}
	*n = (uint32_t)count;
	return 0;
}

int lb_blocklist_find(const struct lb_block_entry *entries, uint32_t n,
		      const struct lb_block_entry *key)
{
	for (uint32_t i = 0; i < n; i++)
		if (entries[i].len == key->len && lb_addr_equal(&entries[i].prefix, &key->prefix))
			return (int)i;
	return -1;
}

bool lb_block_covers(const struct lb_block_entry *e, const struct lb_addr *addr)
{
	return addr->family == e->prefix.family && lb_addr_same_prefix(addr, &e->prefix, e->len);
}

static int compare_entries(const void *a, const void *b)
{
	const struct lb_block_entry *x = *(const struct lb_block_entry *const *)a;
	const struct lb_block_entry *y = *(const struct lb_block_entry *const *)b;
	int c = lb_addr_compare(&x->prefix, &y->prefix);

	return c != 0 ? c : (int)x->len - (int)y->len;
}

int lb_blocklist_validate(const struct lb_block_entry *entries, uint32_t n, uint32_t capacity,
			  char *err, size_t errlen)
{
	char cidr[LB_ADDR_STRLEN + 8];
	const struct lb_block_entry **sorted;
	int rc = 0;

	if (n > capacity)
		return lb_err(err, errlen,
			      "blocklist: %u entries, more than dataplane.blocklist_capacity (%u)", n,
			      capacity);
	if (n < 2)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (sorted == NULL)
		return lb_err(err, errlen, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		sorted[i] = &entries[i];
	qsort(sorted, n, sizeof(*sorted), compare_entries);
	for (uint32_t i = 1; i < n && rc == 0; i++)
		if (compare_entries(&sorted[i - 1], &sorted[i]) == 0) {
			uint32_t later = (uint32_t)(sorted[i] > sorted[i - 1] ? sorted[i] - entries
									       : sorted[i - 1] - entries);
			rc = lb_err(err, errlen, "blocklist[%u].cidr: %s is in the blocklist already",
				    later, lb_block_format_cidr(&entries[later], cidr, sizeof(cidr)));
		}
	free(sorted);
	return rc;
}
