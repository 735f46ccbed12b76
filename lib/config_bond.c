/* ports[].bond (config_bond.h): parsing, the config file's form, the validator's rules. */
#include "config_bond.h"

#include <stdio.h>
#include <string.h>

#include "config.h"

static const char *const xmit_names[] = {"layer2", "layer2+3", "layer3+4"};

const char *lb_bond_mode_name(uint8_t mode)
{
	return mode == LB_BOND_8023AD ? "802.3ad" : "active-backup";
}

void lb_bond_member_device(const char *member, char *out, size_t size)
{
	size_t n = strcspn(member, ",");

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(out, member, n);
	out[n] = '\0';
}

/* A device name or devargs: "net_tap0", "0000:3b:00.0", "net_tap_m0,iface=m0". */
static bool member_text_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= LB_BOND_MEMBER_LEN || s[0] == ',')
		return false;
	for (size_t k = 0; k < len; k++) {
		char ch = s[k];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || strchr("_-.:,=/", ch) != NULL;
		if (!ok)
			return false;
	}
	return true;
}

static int parse_members(const json_t *v, const char *path, struct lb_bond_cfg *b, char *err,
			 size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > LB_BOND_MAX_MEMBERS)
		return lb_err(err, errlen, "%s.members: required, an array of 1-%d member devices",
			      path, LB_BOND_MAX_MEMBERS);
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *m = json_array_get(v, i);
		if (!json_is_string(m) || !member_text_ok(json_string_value(m)))
			return lb_err(err, errlen,
				      "%s.members[%zu]: a DPDK device name (\"0000:3b:00.0\", "
				      "\"net_tap0\") or devargs (\"net_tap_m0,iface=m0\") of 1-%d "
				      "letters, digits and _-.:,=/",
				      path, i, LB_BOND_MEMBER_LEN - 1);
		snprintf(b->members[i], LB_BOND_MEMBER_LEN, "%s", json_string_value(m));
		b->n_members = (uint8_t)(i + 1);
	}
	return 0;
}

/* primary: one of the members, by its string or its device name. */
static int parse_primary(const json_t *v, const char *path, struct lb_bond_cfg *b, char *err,
			 size_t errlen)
{
	char dev[LB_BOND_MEMBER_LEN];

	if (b->mode != LB_BOND_ACTIVE_BACKUP)
		return lb_err(err, errlen, "%s.primary: only with mode \"active-backup\" (802.3ad "
			      "uses every member)", path);
	for (uint8_t i = 0; json_is_string(v) && i < b->n_members; i++) {
		lb_bond_member_device(b->members[i], dev, sizeof(dev));
		if (strcmp(json_string_value(v), b->members[i]) == 0 ||
		    strcmp(json_string_value(v), dev) == 0) {
			b->primary = i;
			return 0;
		}
	}
	return lb_err(err, errlen, "%s.primary: must name one of %s.members", path, path);
}

static int parse_xmit_policy(const json_t *v, const char *path, struct lb_bond_cfg *b, char *err,
			     size_t errlen)
{
	if (b->mode != LB_BOND_8023AD)
		return lb_err(err, errlen, "%s.xmit_policy: only with mode \"802.3ad\" "
			      "(active-backup sends on its active member)", path);
	for (uint8_t i = 0; json_is_string(v) && i < 3; i++)
		if (strcmp(json_string_value(v), xmit_names[i]) == 0) {
			b->xmit_policy = i;
			return 0;
		}
	return lb_err(err, errlen, "%s.xmit_policy: must be \"layer2\", \"layer2+3\" or \"layer3+4\"",
		      path);
}

int lb_bond_cfg_parse(const json_t *v, const char *path, struct lb_bond_cfg *b, char *err,
		      size_t errlen)
{
	static const char *const keys[] = {"mode", "members", "primary", "xmit_policy", NULL};
	const json_t *m;

	memset(b, 0, sizeof(*b));
	if (!json_is_object(v))
		return lb_err(err, errlen, "%s: must be an object {\"members\": [...], \"mode\": ...}",
			      path);
	if (lb_json_check_keys(v, path, keys, err, errlen) != 0)
		return -1;
	b->mode = LB_BOND_ACTIVE_BACKUP;
	b->xmit_policy = LB_BOND_XMIT_LAYER2;
	m = json_object_get(v, "mode");
	if (m != NULL) {
		const char *s = json_is_string(m) ? json_string_value(m) : "";
		if (strcmp(s, "802.3ad") == 0)
			b->mode = LB_BOND_8023AD;
		else if (strcmp(s, "active-backup") != 0)
			return lb_err(err, errlen,
				      "%s.mode: must be \"active-backup\" or \"802.3ad\"", path);
	}
	if (parse_members(json_object_get(v, "members"), path, b, err, errlen) != 0)
		return -1;
	if ((m = json_object_get(v, "primary")) != NULL &&
	    parse_primary(m, path, b, err, errlen) != 0)
		return -1;
	if ((m = json_object_get(v, "xmit_policy")) != NULL &&
	    parse_xmit_policy(m, path, b, err, errlen) != 0)
		return -1;
	b->enabled = true;
	return 0;
}

json_t *lb_bond_cfg_to_json(const struct lb_bond_cfg *b)
{
	json_t *o = json_object(), *members = json_array();

	json_object_set_new(o, "mode", json_string(lb_bond_mode_name(b->mode)));
	for (uint8_t i = 0; i < b->n_members; i++)
		json_array_append_new(members, json_string(b->members[i]));
	json_object_set_new(o, "members", members);
	if (b->mode == LB_BOND_ACTIVE_BACKUP && b->primary < b->n_members)
		json_object_set_new(o, "primary", json_string(b->members[b->primary]));
	if (b->mode == LB_BOND_8023AD && b->xmit_policy <= LB_BOND_XMIT_LAYER34)
		json_object_set_new(o, "xmit_policy", json_string(xmit_names[b->xmit_policy]));
	return o;
}

static int validate_one(const struct lb_bond_cfg *b, uint32_t p, char *err, size_t errlen)
{
	if (b->mode != LB_BOND_ACTIVE_BACKUP && b->mode != LB_BOND_8023AD)
		return lb_err(err, errlen, "ports[%u].bond.mode: must be \"active-backup\" or "
			      "\"802.3ad\"", p);
	if (b->n_members == 0 || b->n_members > LB_BOND_MAX_MEMBERS)
		return lb_err(err, errlen, "ports[%u].bond.members: 1-%d member devices", p,
			      LB_BOND_MAX_MEMBERS);
	if (b->primary >= b->n_members)
		return lb_err(err, errlen, "ports[%u].bond.primary: must name one of its members", p);
	if (b->xmit_policy > LB_BOND_XMIT_LAYER34)
		return lb_err(err, errlen, "ports[%u].bond.xmit_policy: must be \"layer2\", "
			      "\"layer2+3\" or \"layer3+4\"", p);
	return 0;
}

/* Whether device dev is a member of c->ports[q].bond before index `before` (or any index). */
static int member_index(const struct lb_bond_cfg *b, const char *dev, uint8_t before)
{
	char other[LB_BOND_MEMBER_LEN];

	for (uint8_t k = 0; k < b->n_members && k < before; k++) {
		lb_bond_member_device(b->members[k], other, sizeof(other));
		if (strcmp(other, dev) == 0)
			return k;
	}
	return -1;
}

int lb_bond_cfg_validate(const struct lb_config *c, char *err, size_t errlen)
{
	char dev[LB_BOND_MEMBER_LEN];

	for (uint32_t p = 0; p < c->n_ports; p++) {
		const struct lb_bond_cfg *b = &c->ports[p].bond;
		if (!b->enabled)
			continue;
		if (validate_one(b, p, err, errlen) != 0)
			return -1;
		for (uint8_t i = 0; i < b->n_members; i++) {
			lb_bond_member_device(b->members[i], dev, sizeof(dev));
			int k = member_index(b, dev, i);
			if (k >= 0)
				return lb_err(err, errlen, "ports[%u].bond.members[%u]: device \"%s\" "
					      "is members[%d] already", p, i, dev, k);
			for (uint32_t q = 0; q < p; q++) {
				if (!c->ports[q].bond.enabled)
					continue;
				k = member_index(&c->ports[q].bond, dev, LB_BOND_MAX_MEMBERS);
				if (k >= 0)
					return lb_err(err, errlen, "ports[%u].bond.members[%u]: device "
						      "\"%s\" is a member of ports[%u]'s bond already",
						      p, i, dev, q);
			}
		}
	}
	return 0;
}
