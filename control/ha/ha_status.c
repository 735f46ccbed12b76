/* ha.status's answer (ha.h): role, peers, generations, sync and heartbeat counters. */
#include <stdio.h>
#include <string.h>

#include "dataplane.h"
#include "config_store.h"
#include "ha.h"
#include "ha_config_sync.h"
#include "ha_internal.h"
#include "ha_conn_sync.h"

static double ms_since(uint64_t then, uint64_t now)
{
	return then == 0 || now < then ? -1.0 : (double)(now - then) / 1e6;
}

static json_t *peer_json(const struct ha_peer_info *p, uint64_t now)
{
	char ab[64];
	const struct ha_advert *a = &p->advert;

	return json_pack("{s:I, s:s, s:i, s:s, s:b, s:I, s:f, s:I, s:I, s:i, s:i, s:i, s:b, s:s}",
			 "node_id", (json_int_t)p->node_id, "address",
			 ha_sockaddr_format(&p->from, ab, sizeof(ab)), "priority", (int)a->priority,
			 "state", ha_state_name(a->state), "preempt",
			 (a->flags & HA_ADVERT_F_PREEMPT) != 0, "advert_interval_ms",
			 (json_int_t)a->interval_ms, "last_advert_ms_ago",
			 ms_since(p->last_advert_ns, now), "adverts", (json_int_t)p->adverts,
			 "config_generation", (json_int_t)a->config_generation, "workers",
			 (int)a->workers, "fnat_port_min", (int)a->fnat_port_min, "fnat_port_max",
			 (int)a->fnat_port_max, "paired", p->paired, "refusal", p->refusal);
}

static json_t *conn_sync_json(void)
{
	struct ha_conn_sync_stats s;
	json_t *refused = json_object();

	ha_conn_sync_stats(&s);
	for (int i = 0; i < HA_REFUSE_COUNT; i++)
		json_object_set_new(refused, ha_conn_refuse_names[i], json_integer((json_int_t)s.refused[i]));
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "synced",
			      (json_int_t)s.synced, "records_sent", (json_int_t)s.records_sent,
			      "records_received", (json_int_t)s.records_received, "installed",
			      (json_int_t)s.installed, "updated", (json_int_t)s.updated,
			      "batches_sent", (json_int_t)s.batches_sent, "batches_received",
			      (json_int_t)s.batches_received, "full_syncs_sent",
			      (json_int_t)s.full_syncs_sent, "full_syncs_received",
			      (json_int_t)s.full_syncs_received, "lag_ms", (double)s.lag_ns / 1e6);
	json_object_set_new(o, "send_failures", json_integer((json_int_t)s.send_failures));
	json_object_set_new(o, "removed", json_integer((json_int_t)s.removed));
	json_object_set_new(o, "templates_stored", json_integer((json_int_t)s.templates_stored));
	json_object_set_new(o, "refresh_records", json_integer((json_int_t)s.refresh_records));
	json_object_set_new(o, "paired", json_boolean(s.paired));
	json_object_set_new(o, "full_sync_running", json_boolean(s.full_sync_running));
	json_object_set_new(o, "refused", refused);
	return o;
}

json_t *ha_status_json(void)
{
	const struct lb_config *c = config_store_running();
	uint64_t now = ha_now_ns();
	json_t *peers = json_array();

	if (!lb_rt.ha_enabled) {
		json_decref(peers);
		return json_pack("{s:b, s:s}", "enabled", false, "state", "MASTER");
	}
	pthread_mutex_lock(&ha_sh.lock);
	struct ha_shared sh = ha_sh;
	pthread_mutex_unlock(&ha_sh.lock);
	const char *refusal = "";
	uint64_t peer_gen = 0;
	for (int i = 0; i < LB_HA_MAX_PEERS; i++) {
		if (!sh.peers[i].used)
			continue;
		json_array_append_new(peers, peer_json(&sh.peers[i], now));
		if (!sh.peers[i].paired)
			refusal = sh.peers[i].refusal;
		if (sh.peers[i].node_id == sh.master_id || peer_gen == 0)
			peer_gen = sh.peers[i].advert.config_generation;
	}
	json_t *o = json_pack("{s:b, s:I, s:s, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:o}", "enabled",
			      true, "node_id", (json_int_t)c->ha.node_id, "state",
			      ha_state_name(sh.state), "priority", (json_int_t)c->ha.priority,
			      "advert_interval_ms", (json_int_t)c->ha.advert_interval_ms,
			      "state_since_ms_ago", ms_since(sh.state_since_ns, now),
			      "last_advert_sent_ms_ago", ms_since(sh.last_advert_sent_ns, now),
			      "master_id", (json_int_t)sh.master_id, "config_generation",
			      (json_int_t)config_store_generation(), "peer_config_generation",
			      (json_int_t)peer_gen, "peers", peers);
	json_object_set_new(o, "applied_master_generation",
			    json_integer((json_int_t)ha_config_applied_generation()));
	json_object_set_new(o, "pairing", json_string(refusal[0] ? refusal : "paired"));
	json_object_set_new(o, "ping_node_ok", json_boolean(sh.ping_ok));
	uint64_t garp_sent, garp_dropped;
	ha_garp_counts(&garp_sent, &garp_dropped);
	json_object_set_new(
		o, "heartbeat",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:s, s:I, s:I}",
			  "adverts_sent", (json_int_t)sh.adverts_sent, "adverts_received",
			  (json_int_t)sh.adverts_received, "adverts_refused",
			  (json_int_t)sh.adverts_refused, "replays", (json_int_t)sh.replays,
			  "own_id_adverts", (json_int_t)sh.own_id_adverts, "send_errors",
			  (json_int_t)sh.send_errors, "transitions", (json_int_t)sh.transitions,
			  "advert_late_p99_ms", (double)sh.late_p99_ns / 1e6, "advert_late_max_ms",
			  (double)sh.late_max_ns / 1e6, "advert_late_samples",
			  (json_int_t)sh.late_samples, "last_refusal", sh.last_refusal,
			  "announcements_sent", (json_int_t)garp_sent, "announcements_dropped",
			  (json_int_t)garp_dropped));
	json_object_set_new(o, "sync", ha_sync_status_json());
	json_object_set_new(o, "connections", conn_sync_json());
	return o;
}
