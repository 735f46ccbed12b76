#include "tcp_state.h"

#include "pkt_parse.h"

enum { EV_SYN, EV_FIN, EV_ACK, EV_RST, EV_COUNT };

#define sNO LB_TCP_NONE
#define sES LB_TCP_ESTABLISHED
#define sSS LB_TCP_SYN_SENT
#define sSR LB_TCP_SYN_RECV
#define sFW LB_TCP_FIN_WAIT
#define sTW LB_TCP_TIME_WAIT
#define sCL LB_TCP_CLOSE
#define sCW LB_TCP_CLOSE_WAIT
#define sLA LB_TCP_LAST_ACK
#define sLI LB_TCP_LISTEN
#define sSA LB_TCP_SYNACK

/*
 * Transition table, indexed [direction][event][current state]. The values follow the Linux IPVS
 * state semantics operators know from `ipvsadm -Lnc` so that timeouts and the active/inactive
 * split mean the same thing here as there.
 */
static const uint8_t tcp_transitions[3][EV_COUNT][LB_TCP_STATE_COUNT] = {
	[LB_TCP_DIR_INPUT] = {
		/*          sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
		[EV_SYN] = {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
		[EV_FIN] = {sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW},
		[EV_ACK] = {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
		[EV_RST] = {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR},
	},
	[LB_TCP_DIR_OUTPUT] = {
		[EV_SYN] = {sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR},
		[EV_FIN] = {sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
		[EV_ACK] = {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
		[EV_RST] = {sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL},
	},
	[LB_TCP_DIR_INPUT_ONLY] = {
		[EV_SYN] = {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
		[EV_FIN] = {sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
		[EV_ACK] = {sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
		[EV_RST] = {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL},
	},
};

uint8_t lb_tcp_state_next(uint8_t state, enum lb_tcp_dir dir, uint8_t tcp_flags)
{
	int ev;

	if (state >= LB_TCP_STATE_COUNT || (unsigned int)dir > LB_TCP_DIR_INPUT_ONLY)
		return LB_TCP_CLOSE;
	/* RST wins over everything, then SYN, FIN and ACK, as in IPVS. */
	if (tcp_flags & PKT_TCP_RST)
		ev = EV_RST;
	else if (tcp_flags & PKT_TCP_SYN)
		ev = EV_SYN;
	else if (tcp_flags & PKT_TCP_FIN)
		ev = EV_FIN;
	else if (tcp_flags & PKT_TCP_ACK)
		ev = EV_ACK;
	else
		return state; /* a segment with none of these changes nothing */
	return tcp_transitions[dir][ev][state];
}

const char *lb_conn_state_name(uint8_t state)
{
	static const char *const names[LB_CONN_STATE_COUNT] = {
		[LB_TCP_NONE] = "NONE",
		[LB_TCP_ESTABLISHED] = "ESTABLISHED",
		[LB_TCP_SYN_SENT] = "SYN_SENT",
		[LB_TCP_SYN_RECV] = "SYN_RECV",
		[LB_TCP_FIN_WAIT] = "FIN_WAIT",
		[LB_TCP_TIME_WAIT] = "TIME_WAIT",
		[LB_TCP_CLOSE] = "CLOSE",
		[LB_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[LB_TCP_LAST_ACK] = "LAST_ACK",
		[LB_TCP_LISTEN] = "LISTEN",
		[LB_TCP_SYNACK] = "SYNACK",
		[LB_UDP_STATE] = "UDP",
	};
	return state < LB_CONN_STATE_COUNT ? names[state] : "?";
}

void lb_timeouts_default(struct lb_timeouts *t)
{
	t->by_state[LB_TCP_NONE] = 2;
	t->by_state[LB_TCP_ESTABLISHED] = 900;
	t->by_state[LB_TCP_SYN_SENT] = 120;
	t->by_state[LB_TCP_SYN_RECV] = 60;
	t->by_state[LB_TCP_FIN_WAIT] = 120;
	t->by_state[LB_TCP_TIME_WAIT] = 120;
	t->by_state[LB_TCP_CLOSE] = 10;
	t->by_state[LB_TCP_CLOSE_WAIT] = 60;
	t->by_state[LB_TCP_LAST_ACK] = 30;
	t->by_state[LB_TCP_LISTEN] = 120;
	t->by_state[LB_TCP_SYNACK] = 120;
	t->by_state[LB_UDP_STATE] = 300;
}
