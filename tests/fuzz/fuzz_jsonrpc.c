/*
 * Fuzz target for lib/jsonrpc and lib/line_buffer: the input is a byte stream as an RPC client
 * would send it. The first byte picks the line length cap and how the stream is cut into
 * reads; the rest goes through line_buffer in those reads, and every line through
 * jsonrpc_parse_message (requests and batches) and back out as reply lines, as the RPC server
 * does. The lines line_buffer yields are checked against a simple model of the framing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_progress.h"
#include "jsonrpc.h"
#include "line_buffer.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* One reply line must be compact JSON ending in exactly one newline. */
static void check_reply(json_t *reply)
{
	size_t len = 0;
	char *line;
	json_error_t jerr;

	FUZZ_CHECK(reply != NULL);
	line = jsonrpc_encode_line(reply, &len);
	FUZZ_CHECK(line != NULL);
	FUZZ_CHECK(len >= 1 && len == strlen(line));
	FUZZ_CHECK(line[len - 1] == '\n');
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
	json_t *back = json_loadb(line, len, 0, &jerr);
	FUZZ_CHECK(back != NULL && json_equal(back, reply));
	json_decref(back);
	free(line);
	json_decref(reply);
}

/* Checks call i of a parsed message the way control/rpc_server.c answers it. */
static void handle_call(const struct jsonrpc_message *m, size_t i)
{
	struct jsonrpc_request req;
	json_t *id = NULL;
	char msg[256];
	int code = jsonrpc_message_request(m, i, &req, &id, msg, sizeof(msg));

	FUZZ_CHECK(id != NULL);
	if (code != 0) {
		FUZZ_CHECK(code == JSONRPC_INVALID_REQUEST || code == JSONRPC_INVALID_PARAMS);
		FUZZ_CHECK(req.root == NULL);
		FUZZ_CHECK(json_is_null(id) || json_is_string(id) || json_is_integer(id));
		FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL && msg[0] != '\0');
		check_reply(jsonrpc_error(id, code, msg));
		json_decref(id);
		return;
	}
	json_decref(id);
	/* a valid request: past the JSON parser and the request checks */
	fuzz_progress_reached();
	FUZZ_CHECK(req.root != NULL && req.method != NULL);
	FUZZ_CHECK(json_is_object(req.params));
	FUZZ_CHECK(req.id == NULL || json_is_null(req.id) || json_is_string(req.id) ||
		   json_is_integer(req.id));
	FUZZ_CHECK(json_string_value(json_object_get(req.root, "method")) == req.method);
	if (req.id != NULL) {
		check_reply(jsonrpc_result(req.id, json_pack("{s:s}", "method", req.method)));
		check_reply(jsonrpc_error(req.id, JSONRPC_METHOD_NOT_FOUND, req.method));
	}
	jsonrpc_request_free(&req);
	FUZZ_CHECK(req.root == NULL);
}

/* Handles one line, a request or a batch, the way control/rpc_server.c does. */
static void handle_line(const char *line, size_t len)
{
	struct jsonrpc_message m;
	char msg[256];
	int code = jsonrpc_parse_message(line, len, JSONRPC_MAX_BATCH, &m, msg, sizeof(msg));

	if (code != 0) {
		FUZZ_CHECK(code == JSONRPC_PARSE_ERROR || code == JSONRPC_INVALID_REQUEST);
		FUZZ_CHECK(m.root == NULL);
		FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL && msg[0] != '\0');
		check_reply(jsonrpc_error(NULL, code, msg));
		return;
	}
	size_t n = jsonrpc_message_calls(&m);
	FUZZ_CHECK(n >= 1 && n <= JSONRPC_MAX_BATCH);
	FUZZ_CHECK(m.batch == json_is_array(m.root));
	for (size_t i = 0; i < n; i++)
		handle_call(&m, i);
	jsonrpc_message_free(&m);
	FUZZ_CHECK(m.root == NULL);
}

/* The framing model: the raw length (without '\n') of the line starting at `start`. */
static size_t model_line_len(const uint8_t *s, size_t n, size_t start, int *complete)
{
	const uint8_t *nl = memchr(s + start, '\n', n - start);

	*complete = nl != NULL;
	return nl ? (size_t)(nl - (s + start)) : n - start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {1, 7, 64, 300, 4096, 100000};
	struct line_buffer lb;

	if (size == 0)
		return 0;
	/* the whole input as one request, newlines and all */
	handle_line((const char *)data, size);

	const size_t max_line = caps[data[0] % 6];
	const size_t read_size = (data[0] >> 3) % 4 == 0 ? 1 : (size_t)((data[0] >> 3) * 13);
	const uint8_t *s = data + 1;
	const size_t n = size - 1;
	size_t fed = 0, model_pos = 0;
	int rejected = 0;

	FUZZ_CHECK(line_buffer_init(&lb, max_line) == 0);
	while (fed < n && !rejected) {
		size_t room = 0;
		char *p = line_buffer_write_ptr(&lb, &room);
		/* after every line has been taken, there is always room for more */
		FUZZ_CHECK(p != NULL);
		FUZZ_CHECK(room >= 1);
		size_t chunk = n - fed;
		if (chunk > room)
			chunk = room;
		if (chunk > read_size)
			chunk = read_size;
		memcpy(p, s + fed, chunk);
		line_buffer_commit(&lb, chunk);
		fed += chunk;

		for (;;) {
			char *line = NULL;
			size_t len = 0;
			int rc = line_buffer_next(&lb, &line, &len);
			int complete;
			size_t raw = model_line_len(s, fed, model_pos, &complete);
			if (rc == 0) {
				/* nothing complete, and what is pending is not too long yet */
				FUZZ_CHECK(!complete);
				FUZZ_CHECK(raw <= max_line);
				break;
			}
			if (rc < 0) {
				/* the pending line is longer than the cap (server closes) */
				FUZZ_CHECK(raw > max_line);
				rejected = 1;
				break;
			}
			FUZZ_CHECK(rc == 1);
			FUZZ_CHECK(complete);
			FUZZ_CHECK(raw <= max_line);
			size_t want = raw > 0 && s[model_pos + raw - 1] == '\r' ? raw - 1 : raw;
			FUZZ_CHECK(len == want);
			FUZZ_CHECK(memcmp(line, s + model_pos, len) == 0);
			FUZZ_CHECK(line[len] == '\0');
			model_pos += raw + 1;
			if (len > 0)
				handle_line(line, len);
		}
	}
	line_buffer_free(&lb);
	return 0;
}
