/*
 * The blocklist as configuration: client prefixes whose packets the dataplane drops first thing
 * (reason `blocked`). Entries live in struct lb_config, so they persist with config.save and
 * pass the one validator like every other key; expiry is an absolute wall-clock second.
 */
#ifndef DPDK_LB_BLOCKLIST_H
#define DPDK_LB_BLOCKLIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inet_addr.h"

#define LB_BLOCK_REASON_LEN 128 /* bytes of a reason, terminator included */
#define LB_BLOCKLIST_CAPACITY_DEFAULT 4096
#define LB_BLOCKLIST_CAPACITY_MAX (1u << 20)

struct lb_block_entry {
	struct lb_addr prefix; /* host bits zero */
	uint8_t len;           /* prefix length: 0-32 / 0-128 */
	uint64_t added;        /* wall-clock second it was added */
	uint64_t expires;      /* wall-clock second it stops applying; 0 = never */
	char reason[LB_BLOCK_REASON_LEN];
	uint32_t id; /* runtime: the dataplane's slot (LPM next hop), 0 = not yet assigned */
};

/* Parses "ADDR[/LEN]" into e->prefix/len; -1 with err when malformed or host bits are set. */
int lb_block_parse_cidr(const char *text, struct lb_block_entry *e, char *err, size_t errlen);

/* "ADDR/LEN" of e into buf. */
const char *lb_block_format_cidr(const struct lb_block_entry *e, char *buf, size_t len);

/* Parses one entry {"cidr", "expires", "added", "reason"} at path; 0 or -1 with err. */
int lb_block_entry_from_json(const json_t *obj, const char *path, struct lb_block_entry *e,
			     char *err, size_t errlen);

/* The entry as the config file keeps it; new reference. */
json_t *lb_block_entry_to_json(const struct lb_block_entry *e);

/* Parses the "blocklist" array into *entries / *n (malloc'd); 0 or -1 with err. */
int lb_blocklist_from_json(const json_t *v, struct lb_block_entry **entries, uint32_t *n,
			   char *err, size_t errlen);

/* Index of the entry with exactly this prefix and length, or -1. */
int lb_blocklist_find(const struct lb_block_entry *entries, uint32_t n,
		      const struct lb_block_entry *key);

/* True when addr falls under e (same family, first e->len bits equal). */
bool lb_block_covers(const struct lb_block_entry *e, const struct lb_addr *addr);

/* Keeps the first len bits of a (zeroing the rest). */
void lb_addr_mask_prefix(struct lb_addr *a, uint8_t len);

/*
 * The validator's rules: at most capacity entries, no duplicate prefix. LB_VALID-style 0, or -1
 * with err naming "blocklist[i]".
 */
int lb_blocklist_validate(const struct lb_block_entry *entries, uint32_t n, uint32_t capacity,
			  char *err, size_t errlen);

#endif
