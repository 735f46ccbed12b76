/* system.info */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#include "dataplane.h"
#include "config_store.h"
#include "control.h"
#include "rpc_methods.h"
#include "scheduler.h"

static void neighbour_json(const struct neigh_view *n, void *arg)
{
	char ab[LB_ADDR_STRLEN], mb[18] = "";

	if (n->resolved)
		lb_mac_format(n->mac, mb, sizeof(mb));
	const struct lb_port *link = &lb_rt.ports[n->port_id];
	json_t *o = json_pack("{s:s, s:i, s:s, s:s}", "ip", lb_addr_format(&n->ip, ab, sizeof(ab)),
			      "port", (int)link->phys, "mac", mb, "state", n->state);
	if (n->port_id >= lb_rt.n_ports) /* on one of the port's VLANs */
		json_object_set_new(o, "vlan", json_integer(link->vlan_id));
	json_array_append_new(arg, o);
}

/* The VLAN links of physical port p (ports[].vlans), as system.info shows them. */
static json_t *port_vlans_json(uint16_t p)
{
	json_t *list = json_array();
	char addr[LB_ADDR_STRLEN + 8], ab[LB_ADDR_STRLEN];

	for (uint16_t l = lb_rt.n_ports; l < lb_rt.n_links; l++) {
		const struct lb_port *lp = &lb_rt.ports[l];
		if (lp->phys != p)
			continue;
		snprintf(addr, sizeof(addr), "%s/%u", lb_addr_format(&lp->address, ab, sizeof(ab)),
			 lp->prefix_len);
		json_t *o = json_pack("{s:i, s:s, s:i}", "id", (int)lp->vlan_id, "address", addr, "mtu",
				      (int)lp->mtu);
		if (lp->has_address6) {
			snprintf(addr, sizeof(addr), "%s/%u",
				 lb_addr_format(&lp->address6, ab, sizeof(ab)), lp->prefix_len6);
			json_object_set_new(o, "address6", json_string(addr));
		}
		json_array_append_new(list, o);
	}
	return list;
}

/* The real servers' neighbour entries: resolved (with MAC), unresolved, static, kept. */
static json_t *neighbours_json(void)
{
	json_t *list = json_array();

	neigh_table_foreach(lb_rt.neigh, neighbour_json, list);
	return list;
}

/* The workers' flow tables: their shape and fill. */
static json_t *flow_table_json(void)
{
	struct flow_table_info fi;

	stats_flow_tables(&fi);
	return json_pack("{s:I, s:I, s:I, s:I, s:i, s:f, s:I, s:I, s:I, s:I, s:I}", "ipv4_keys",
			 (json_int_t)fi.ipv4_keys, "ipv6_keys", (json_int_t)fi.ipv6_keys,
			 "ipv4_buckets", (json_int_t)fi.ipv4_buckets, "ipv6_buckets",
			 (json_int_t)fi.ipv6_buckets, "slots_per_bucket", (int)fi.slots_per_bucket,
			 "wheel_tick_us", fi.wheel_tick_us, "ipv4_held", (json_int_t)fi.ipv4_held,
			 "ipv6_held", (json_int_t)fi.ipv6_held, "bucket_full",
			 (json_int_t)fi.bucket_full, "moves", (json_int_t)fi.moves, "wheel_full",
			 (json_int_t)fi.wheel_full);
}

static json_t *system_info(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};
	json_t *workers = json_array(), *ports = json_array(), *scheds = json_array();
	char names[256];
	uint64_t flow_capacity = 0;

	if (rpc_check_keys(params, keys, err) != 0) {
		json_decref(workers);
		json_decref(ports);
		json_decref(scheds);
		return NULL;
	}
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		json_t *queues = json_array();
		for (uint16_t p = 0; p < lb_rt.n_ports; p++)
			if (w < lb_rt.ports[p].n_queues)
				json_array_append_new(queues, json_pack("{s:i, s:i}", "port", p, "queue", w));
		json_array_append_new(workers, json_pack("{s:i, s:o}", "lcore",
							 (int)lb_rt.workers[w]->lcore_id, "queues", queues));
		flow_capacity += lb_rt.config->flow_capacity;
	}
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
		const struct lb_port *lp = &lb_rt.ports[p];
		char mac[RTE_ETHER_ADDR_FMT_SIZE], addr[LB_ADDR_STRLEN + 8] = "", ab[LB_ADDR_STRLEN];
		rte_ether_format_addr(mac, sizeof(mac), &lp->mac);
		if (lp->has_address)
			snprintf(addr, sizeof(addr), "%s/%u", lb_addr_format(&lp->address, ab, sizeof(ab)),
				 lp->prefix_len);
		json_t *po = json_pack("{s:i, s:s, s:s, s:s, s:i, s:i, s:i}", "port", p, "name",
				       lp->name, "mac", mac, "address", addr, "rx_queues",
				       lp->n_queues, "tx_queues", lb_rt.n_workers, "mtu", lp->mtu);
		if (lp->has_address6) {
			snprintf(addr, sizeof(addr), "%s/%u",
				 lb_addr_format(&lp->address6, ab, sizeof(ab)), lp->prefix_len6);
			json_object_set_new(po, "address6", json_string(addr));
		}
		json_object_set_new(po, "vlans", port_vlans_json(p));
		json_object_set_new(po, "vlan_strip", json_boolean(lp->vlan_strip));
		json_array_append_new(ports, po);
	}
	snprintf(names, sizeof(names), "%s", sched_names());
	for (char *tok = strtok(names, ","); tok != NULL; tok = strtok(NULL, ","))
		json_array_append_new(scheds, json_string(tok));
	json_t *info = json_pack("{s:s, s:I, s:s, s:i, s:o, s:o, s:o, s:I, s:I}", "version", DPDK_LB_VERSION,
			 "uptime", (json_int_t)((rte_rdtsc() - lb_rt.start_tsc) / lb_rt.tsc_hz),
			 "config_file", lb_rt.config_path, "control_lcore", (int)rte_get_main_lcore(),
			 "workers", workers, "ports", ports, "schedulers", scheds, "flow_capacity",
			 (json_int_t)flow_capacity, "snapshot_generation",
			 (json_int_t)lb_rt.snapshot_generation);
	json_object_set_new(info, "neighbours", neighbours_json());
	json_object_set_new(info, "flow_table_bytes", json_integer((json_int_t)lb_rt.flow_table_bytes));
	json_object_set_new(info, "flow_entry_bytes",
			    json_real(flow_capacity ? (double)lb_rt.flow_v4_bytes / (double)flow_capacity : 0));
	json_object_set_new(info, "flow_table", flow_table_json());
	json_object_set_new(info, "last_snapshot_build_us", json_real((double)lb_rt.last_build_ns / 1e3));
	json_object_set_new(info, "last_snapshot_publish_us",
			    json_real((double)lb_rt.last_publish_ns / 1e3));
	struct control_lateness late;
	control_loop_lateness(&late);
	json_object_set_new(info, "control_loop",
			    json_pack("{s:i, s:i, s:f, s:f}", "probe_period_ms", (int)late.period_ms,
				      "samples", (int)late.samples, "late_p99_us",
				      (double)late.p99_ns / 1e3, "late_max_us",
				      (double)late.max_ns / 1e3));
	struct config_store_publication pub;
	config_store_last_publication(&pub);
	json_object_set_new(info, "last_snapshot_rebuilt_services",
			    json_integer(pub.rebuilt_services));
	json_object_set_new(info, "last_snapshot_rebuilt_schedulers",
			    json_integer(pub.rebuilt_schedulers));
	json_object_set_new(info, "snapshots_pending_free", json_integer(pub.pending_snapshots));
	json_object_set_new(info, "snapshot_objects_pending_free", json_integer(pub.pending_objects));
	/* The one packet pool: a pool running dry stops every port's receive side. */
	json_object_set_new(info, "mbufs",
			    json_pack("{s:I, s:I}", "size", (json_int_t)lb_rt.pool->size,
				      "available", (json_int_t)rte_mempool_avail_count(lb_rt.pool)));
	return info;
}

const struct rpc_method rpc_system_methods[] = {
	{"system.info", system_info},
	{NULL, NULL},
};
