/* JSON-RPC 2.0 request validation and response building (one object per line). */
#ifndef DPDK_LB_JSONRPC_H
#define DPDK_LB_JSONRPC_H

#include <jansson.h>
#include <stddef.h>

#define JSONRPC_PARSE_ERROR -32700
#define JSONRPC_INVALID_REQUEST -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS -32602
#define JSONRPC_INTERNAL_ERROR -32603
#define LB_RPC_NOT_FOUND -32001
#define LB_RPC_EXISTS -32002
#define LB_RPC_CAPACITY -32003
#define LB_RPC_IO_ERROR -32004
#define LB_RPC_CONFLICT -32005 /* config.apply: the configuration changed since if_generation */
#define LB_RPC_HA_BACKUP -32006 /* a configuration change on a pair's BACKUP (make it on the master) */

/* The most calls one batch may hold; a longer batch is refused whole with -32600. */
#define JSONRPC_MAX_BATCH 256

struct jsonrpc_request {
	json_t *root;       /* owns everything below */
	json_t *id;         /* borrowed; NULL for a notification */
	const char *method; /* borrowed */
	json_t *params;     /* borrowed; an empty object when absent */
};

/*
 * Parses and validates one request line. Returns 0 with req filled (free with
 * jsonrpc_request_free), or a JSON-RPC error code with msg set and *id_out holding a new
 * reference to the id when one could be read (else JSON null).
 */
int jsonrpc_parse_request(const char *line, size_t len, struct jsonrpc_request *req,
			  json_t **id_out, char *msg, size_t msglen);

/* One received line: a single request, or a batch (a JSON array) of them. */
struct jsonrpc_message {
	json_t *root; /* owns everything; the request object or the batch array */
	int batch;    /* 1 when root is an array */
};

/*
 * Parses one line as a request or a batch of at most max_batch calls without validating the
 * calls. Returns 0 with m filled (free with jsonrpc_message_free), or JSONRPC_PARSE_ERROR /
 * JSONRPC_INVALID_REQUEST (empty or too long a batch) with msg set; errors have a null id.
 */
int jsonrpc_parse_message(const char *line, size_t len, size_t max_batch,
			  struct jsonrpc_message *m, char *msg, size_t msglen);

/* The number of calls in m: the batch's length, 1 for a single request. */
size_t jsonrpc_message_calls(const struct jsonrpc_message *m);

/*
 * Validates call i of m as jsonrpc_parse_request validates a line (a non-object member is
 * JSONRPC_INVALID_REQUEST); same results and ownership rules.
 */
int jsonrpc_message_request(const struct jsonrpc_message *m, size_t i,
			    struct jsonrpc_request *req, json_t **id_out, char *msg, size_t msglen);

/* Releases a parsed message (requests taken from it hold their own references). */
void jsonrpc_message_free(struct jsonrpc_message *m);

/* Releases a parsed request. */
void jsonrpc_request_free(struct jsonrpc_request *req);

/* {"jsonrpc":"2.0","id":id,"result":result}; steals result, borrows id. */
json_t *jsonrpc_result(json_t *id, json_t *result);

/* {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}; borrows id (NULL = null). */
json_t *jsonrpc_error(json_t *id, int code, const char *message);

/* Serialises msg compactly followed by '\n'; malloc'd, length in *len; NULL out of memory. */
char *jsonrpc_encode_line(const json_t *msg, size_t *len);

#endif
