/* State shared by every dpdk-lb-cli subcommand: where the daemon is and how to print. */
#ifndef DPDK_LB_CLI_H
#define DPDK_LB_CLI_H

#include <stdbool.h>

#define CLI_PROGRAM "dpdk-lb-cli"

/* Exit codes: an RPC or connection failure is 1, a command-line mistake is 2 (like ipvsadm). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

struct cli_ctx {
	const char *socket_path;
	int timeout_ms; /* whole request (connect, send, answer); 0 waits forever */
	bool json;      /* print the raw `result` instead of tables */
};

#endif
