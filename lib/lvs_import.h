/*
 * Migration from LVS: ipvsadm -S (ipvsadm-save) output and ldirectord.cf, parsed into dpdk-lb
 * services (the service.add objects of docs/api.md), and written back from them. Pure: text in,
 * JSON out; dpdk-lb-cli applies the result as one config.apply.
 */
#ifndef DPDK_LB_LVS_IMPORT_H
#define DPDK_LB_LVS_IMPORT_H

#include <jansson.h>
#include <stddef.h>

#define LB_IMPORT_MSG_LEN 200

/*
 * What an import found. services: Service objects with reals, in file order; lines: one
 * {"line": N, "reals": [N, ...]} per service (where each came from); errors: {"line", "message"}
 * for every line that cannot be taken (then nothing may be applied); notes: {"line", "message"}
 * for keys taken without effect on dpdk-lb (reported, never silently dropped).
 */
struct lb_import {
	json_t *services, *lines, *errors, *notes;
};

/*
 * Firewall marks: fwmarks maps a mark ("1") to {"vip": ADDR, "ports": [...], "protos": [...]}
 * (the ports live in iptables rules, not in LVS). Adds the mapping written MARK=VIP:PORTS[/PROTOS]
 * (PORTS "80,443,8000-8100", PROTOS "tcp", "udp" or "tcp+udp"; IPv6 VIP in brackets) to
 * fwmarks; 0 or -1 with err set.
 */
int lb_fwmark_parse(const char *arg, json_t *fwmarks, char *err, size_t errlen);

/* Parses ipvsadm -S output (text of len bytes; fwmarks may be NULL); 0 when errors is empty,
 * else -1. out is always filled: free it with lb_import_free. */
int lb_import_ipvsadm(const char *text, size_t len, const json_t *fwmarks, struct lb_import *out);

/* Parses an ldirectord.cf; as lb_import_ipvsadm. */
int lb_import_ldirectord(const char *text, size_t len, const json_t *fwmarks,
			 struct lb_import *out);

void lb_import_free(struct lb_import *imp);

/*
 * Writes services (config.get's "services") as ipvsadm -S / ldirectord.cf text (malloc'd, NUL
 * terminated). What the format cannot say is appended to notes (strings), with the fwmark
 * numbers given to service groups.
 */
char *lb_export_ipvsadm(const json_t *services, json_t *notes);
char *lb_export_ldirectord(const json_t *services, json_t *notes);

#endif
