/*
 * Feedback-agent replies, parsed as pure code: what a real server's agent says about its load,
 * turned into what the appliance does with its weight. Three kinds (REFERENCE.md):
 * - "agent" (LVS appliance, TCP 3333) and "http" (GET on 3333, the body): one integer, the
 *   server's idle CPU 0-100; new weight = idle / 10 x configured weight.
 * - "haproxy": HAProxy's agent-check line grammar.
 */
#ifndef DPDK_LB_AGENT_REPLY_H
#define DPDK_LB_AGENT_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_WHY_LEN 96

/* What an agent asked for. Fields a reply did not mention keep AGENT_UNSET / false. */
enum agent_state {
	AGENT_STATE_UNSET = 0,
	AGENT_STATE_UP,    /* "up": the server is up (clears an earlier down) */
	AGENT_STATE_DOWN,  /* "down", "stopped", "fail": mark the server down */
};
enum agent_admin {
	AGENT_ADMIN_UNSET = 0,
	AGENT_ADMIN_READY, /* "ready": back to normal */
	AGENT_ADMIN_DRAIN, /* "drain": weight 0, existing connections continue */
	AGENT_ADMIN_MAINT, /* "maint": out of scheduling */
};

#define AGENT_WEIGHT_UNSET UINT32_MAX

struct agent_reply {
	uint8_t state;        /* enum agent_state */
	uint8_t admin;        /* enum agent_admin */
	/* percent of the configured weight (0-25600 as in HAProxy; idle/10*100 for lvs agents), or
	 * AGENT_WEIGHT_UNSET */
	uint32_t weight_pct;
	/* an absolute weight ("weight:N"), or AGENT_WEIGHT_UNSET */
	uint32_t weight_abs;
	uint32_t maxconn;     /* "maxconn:N"; 0 = not given */
	char text[AGENT_WHY_LEN]; /* free text after '#', for health.status */
};

/*
 * Parses an LVS appliance agent reply: optional whitespace, an integer 0-100 (idle CPU),
 * optional whitespace/newline, nothing else. Sets weight_pct = idle * 10 (idle 100 -> 1000 %,
 * i.e. 10 x the configured weight; idle 0 -> 0 %). 0, or -1 with why set.
 */
int agent_reply_parse_lvs(const char *buf, size_t len, struct agent_reply *out, char *why,
			  size_t whylen);

/*
 * Parses one HAProxy agent-check line (up to the first CR or LF; a reply without one is
 * incomplete and refused): words separated by spaces, tabs or commas, case-insensitive, last of
 * each kind wins. 0, or -1 with why set (incomplete line, unknown word, bad number).
 */
int agent_reply_parse_haproxy(const char *buf, size_t len, struct agent_reply *out, char *why,
			      size_t whylen);

/*
 * Parses what the "http" agent variant answered to a GET on its port, up to the end of the
 * stream: an HTTP/1.x response whose status is 2xx and whose body is an LVS reply, or (agents
 * that send no headers) the bare LVS reply. 0, or -1 with why set.
 */
int agent_reply_parse_http(const char *buf, size_t len, struct agent_reply *out, char *why,
			   size_t whylen);

/*
 * The weight an agent's reply gives a real whose configured weight is configured: the
 * percentage or absolute weight when given, else unchanged (configured); capped at 65535.
 */
uint32_t agent_reply_weight(const struct agent_reply *r, uint32_t configured);

#endif
