/* The `ha` section: parsing, the cross-section rules, serialisation (config_ha.h). */
#include "config_ha.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define HA_INTERVAL_MIN_MS 10
#define HA_INTERVAL_MAX_MS 40950
#define HA_DELAY_MAX_MS 3600000u
#define HA_KEY_FILE_MAX 4096

void lb_ha_cfg_default(struct lb_ha_cfg *h)
{
	memset(h, 0, sizeof(*h));
	h->priority = 100;
	h->advert_interval_ms = 1000;
	h->preempt = true;
	h->heartbeat_port = 8694;
	h->sync_port = 8695;
	h->garp_count = 5;
	h->garp_repeat_ms = 5000;
	h->conn_sync = true;
	h->sync_period_s = 30;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int lb_hex_decode(const char *hex, uint8_t *out, size_t min, size_t max)
{
	size_t len = strlen(hex);

	if (len % 2 != 0 || len / 2 < min || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

bool lb_addr_is_multicast(const struct lb_addr *a)
{
	if (a->family == AF_INET)
		return (((const uint8_t *)&a->v4)[0] & 0xf0) == 0xe0;
	return a->family == AF_INET6 && a->v6[0] == 0xff;
}

static int get_bool(const json_t *v, const char *key, bool *out, char *err, size_t errlen)
{
	json_t *b = json_object_get(v, key);

	if (b == NULL)
		return 0;
	if (!json_is_boolean(b))
		return lb_err(err, errlen, "ha.%s: must be true or false", key);
	*out = json_is_true(b);
	return 0;
}

static int get_addr(const json_t *s, const char *path, struct lb_addr *out, char *err, size_t errlen)
{
	if (!json_is_string(s) || lb_addr_parse(json_string_value(s), out) != 0)
		return lb_err(err, errlen, "%s: must be an IPv4 or IPv6 address", path);
	return 0;
}

/* The key file holds the key as hex digits (surrounding white space ignored). */
static int read_key_file(struct lb_ha_cfg *h, char *err, size_t errlen)
{
	char buf[HA_KEY_FILE_MAX + 1];
	FILE *f = fopen(h->key_file, "r");

	if (f == NULL)
		return lb_err(err, errlen, "ha.key_file: %s: %s", h->key_file, strerror(errno));
	size_t n = fread(buf, 1, HA_KEY_FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	char *s = buf;
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	int k = lb_hex_decode(s, h->key, LB_HA_KEY_MIN, LB_HA_KEY_MAX);
	if (k < 0)
		return lb_err(err, errlen, "ha.key_file: %s must hold %d-%d hex digits", h->key_file,
			      2 * LB_HA_KEY_MIN, 2 * LB_HA_KEY_MAX);
	h->key_len = (uint32_t)k;
	return 0;
}

static int parse_key(const json_t *v, struct lb_ha_cfg *h, char *err, size_t errlen)
{
	json_t *k = json_object_get(v, "key"), *kf = json_object_get(v, "key_file");
	const char *ks = json_is_string(k) ? json_string_value(k) : NULL;
	const char *fs = json_is_string(kf) ? json_string_value(kf) : NULL;

	if (k != NULL && ks == NULL)
		return lb_err(err, errlen, "ha.key: must be a string of hex digits");
	if (kf != NULL && (fs == NULL || strlen(fs) >= sizeof(h->key_file)))
		return lb_err(err, errlen, "ha.key_file: must be a path of at most %zu bytes",
			      sizeof(h->key_file) - 1);
	if (ks != NULL && ks[0] && fs != NULL && fs[0])
		return lb_err(err, errlen, "ha.key: give key or key_file, not both");
	if (ks != NULL && ks[0]) {
		int n = lb_hex_decode(ks, h->key, LB_HA_KEY_MIN, LB_HA_KEY_MAX);
		if (n < 0)
			return lb_err(err, errlen, "ha.key: must be %d-%d hex digits (an even number)",
				      2 * LB_HA_KEY_MIN, 2 * LB_HA_KEY_MAX);
		h->key_len = (uint32_t)n;
	}
	if (fs != NULL && fs[0]) {
		snprintf(h->key_file, sizeof(h->key_file), "%s", fs);
		return read_key_file(h, err, errlen);
	}
	return 0;
}

static int parse_peers(const json_t *v, struct lb_ha_cfg *h, char *err, size_t errlen)
{
	json_t *p = json_object_get(v, "peers"), *g = json_object_get(v, "group");
	json_t *pn = json_object_get(v, "ping_node");
	char path[32];

	if (p != NULL) {
		if (!json_is_array(p) || json_array_size(p) > LB_HA_MAX_PEERS)
			return lb_err(err, errlen, "ha.peers: must be an array of at most %d addresses",
				      LB_HA_MAX_PEERS);
		for (size_t i = 0; i < json_array_size(p); i++) {
			snprintf(path, sizeof(path), "ha.peers[%zu]", i);
			if (get_addr(json_array_get(p, i), path, &h->peers[i], err, errlen) != 0)
				return -1;
			if (lb_addr_is_multicast(&h->peers[i]))
				return lb_err(err, errlen, "%s: a unicast address (a group goes in ha.group)",
					      path);
			h->n_peers = (uint32_t)(i + 1);
		}
	}
	if (g != NULL && !(json_is_string(g) && json_string_length(g) == 0)) {
		if (get_addr(g, "ha.group", &h->group, err, errlen) != 0)
			return -1;
		if (!lb_addr_is_multicast(&h->group))
			return lb_err(err, errlen, "ha.group: must be a multicast address "
				      "(224.0.0.0/4 or ff00::/8)");
		h->has_group = true;
	}
	if (pn != NULL && !(json_is_string(pn) && json_string_length(pn) == 0)) {
		if (get_addr(pn, "ha.ping_node", &h->ping_node, err, errlen) != 0)
			return -1;
		h->has_ping_node = true;
	}
	return 0;
}

int lb_ha_cfg_from_json(const json_t *v, struct lb_ha_cfg *h, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"enabled",	  "node_id",	    "priority",	      "advert_interval_ms",
		"preempt",	  "preempt_delay_ms", "key",	      "key_file",
		"port",		  "peers",	    "group",	      "heartbeat_port",
		"sync_port",	  "ping_node",	    "garp_count",     "garp_repeat_ms",
		"conn_sync",	  "sync_period_s",  NULL};

	if (!json_is_object(v))
		return lb_err(err, errlen, "ha: must be an object");
	if (lb_json_check_keys(v, "ha", keys, err, errlen) != 0 ||
	    get_bool(v, "enabled", &h->enabled, err, errlen) != 0 ||
	    get_bool(v, "preempt", &h->preempt, err, errlen) != 0 ||
	    get_bool(v, "conn_sync", &h->conn_sync, err, errlen) != 0 ||
	    lb_json_get_uint(v, "node_id", "ha", 1, UINT32_MAX, &h->node_id, err, errlen) != 0 ||
	    lb_json_get_uint(v, "priority", "ha", 1, 255, &h->priority, err, errlen) != 0 ||
	    lb_json_get_uint(v, "advert_interval_ms", "ha", HA_INTERVAL_MIN_MS, HA_INTERVAL_MAX_MS,
			     &h->advert_interval_ms, err, errlen) != 0 ||
	    lb_json_get_uint(v, "preempt_delay_ms", "ha", 0, HA_DELAY_MAX_MS, &h->preempt_delay_ms,
			     err, errlen) != 0 ||
	    lb_json_get_uint(v, "port", "ha", 0, 7, &h->port, err, errlen) != 0 ||
	    lb_json_get_uint(v, "heartbeat_port", "ha", 1, 65535, &h->heartbeat_port, err,
			     errlen) != 0 ||
	    lb_json_get_uint(v, "sync_port", "ha", 1, 65535, &h->sync_port, err, errlen) != 0 ||
	    lb_json_get_uint(v, "garp_count", "ha", 1, 255, &h->garp_count, err, errlen) != 0 ||
	    lb_json_get_uint(v, "garp_repeat_ms", "ha", 0, HA_DELAY_MAX_MS, &h->garp_repeat_ms, err,
			     errlen) != 0 ||
	    lb_json_get_uint(v, "sync_period_s", "ha", 0, 3600, &h->sync_period_s, err, errlen) != 0 ||
	    parse_key(v, h, err, errlen) != 0 || parse_peers(v, h, err, errlen) != 0)
		return -1;
	if (h->heartbeat_port == h->sync_port)
		return lb_err(err, errlen, "ha.sync_port: must differ from ha.heartbeat_port (%u)",
			      h->heartbeat_port);
	return 0;
}

/* Whether the port has an address of family af. */
static bool port_has_family(const struct lb_port_cfg *p, uint8_t af)
{
	return p->address.family == af || (p->has_address6 && af == AF_INET6);
}

int lb_ha_cfg_check(const struct lb_ha_cfg *h, const struct lb_port_cfg *ports, uint32_t n_ports,
		    char *err, size_t errlen)
{
	if (!h->enabled)
		return 0;
	if (h->node_id == 0)
		return lb_err(err, errlen, "ha.node_id: required when ha.enabled (1-4294967295, "
			      "unique in the pair)");
	if (h->key_len == 0)
		return lb_err(err, errlen, "ha.key: required when ha.enabled (%d-%d hex digits, "
			      "or ha.key_file)", 2 * LB_HA_KEY_MIN, 2 * LB_HA_KEY_MAX);
	if (h->port >= n_ports || ports[h->port].kernel_interface[0] == '\0')
		return lb_err(err, errlen, "ha.port: must name a port of `ports` (0-%u) with a "
			      "kernel_interface", n_ports ? n_ports - 1 : 0);
	if (h->n_peers == 0 && !h->has_group)
		return lb_err(err, errlen, "ha.peers: give the peer's address(es) or ha.group");
	const struct lb_port_cfg *p = &ports[h->port];
	for (uint32_t i = 0; i < h->n_peers; i++)
		if (!port_has_family(p, h->peers[i].family))
			return lb_err(err, errlen, "ha.peers[%u]: port %u has no address of its family",
				      i, h->port);
	if (h->has_group && !port_has_family(p, h->group.family))
		return lb_err(err, errlen, "ha.group: port %u has no address of its family", h->port);
	if (h->has_group && h->n_peers != 0 && h->peers[0].family != h->group.family)
		return lb_err(err, errlen, "ha.group: must be of the peers' family");
	for (uint32_t i = 1; i < h->n_peers; i++)
		if (h->peers[i].family != h->peers[0].family)
			return lb_err(err, errlen, "ha.peers[%u]: every peer must be of one family", i);
	return 0;
}

static json_t *addr_json(bool has, const struct lb_addr *a)
{
	char ab[LB_ADDR_STRLEN];

	return json_string(has ? lb_addr_format(a, ab, sizeof(ab)) : "");
}

json_t *lb_ha_cfg_to_json(const struct lb_ha_cfg *h)
{
	char hex[2 * LB_HA_KEY_MAX + 1] = "";
	json_t *peers = json_array();

	if (h->key_file[0] == '\0')
		for (uint32_t i = 0; i < h->key_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", h->key[i]);
	for (uint32_t i = 0; i < h->n_peers; i++)
		json_array_append_new(peers, addr_json(true, &h->peers[i]));
	json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:b, s:I, s:s, s:s, s:I, s:o}", "enabled",
			      h->enabled, "node_id", (json_int_t)h->node_id, "priority",
			      (json_int_t)h->priority, "advert_interval_ms",
			      (json_int_t)h->advert_interval_ms, "preempt", h->preempt,
			      "preempt_delay_ms", (json_int_t)h->preempt_delay_ms, "key", hex,
			      "key_file", h->key_file, "port", (json_int_t)h->port, "peers", peers);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "group", addr_json(h->has_group, &h->group));
	json_object_set_new(o, "heartbeat_port", json_integer(h->heartbeat_port));
	json_object_set_new(o, "sync_port", json_integer(h->sync_port));
	json_object_set_new(o, "ping_node", addr_json(h->has_ping_node, &h->ping_node));
	json_object_set_new(o, "garp_count", json_integer(h->garp_count));
	json_object_set_new(o, "garp_repeat_ms", json_integer(h->garp_repeat_ms));
	json_object_set_new(o, "conn_sync", json_boolean(h->conn_sync));
	json_object_set_new(o, "sync_period_s", json_integer(h->sync_period_s));
	return o;
}
