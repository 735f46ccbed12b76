#include "jsonrpc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Validates one request object (borrowed); on success req holds its own reference to it. */
static int validate_request(json_t *root, struct jsonrpc_request *req, json_t **id_out, char *msg,
			    size_t msglen)
{
	json_t *v;

	memset(req, 0, sizeof(*req));
	*id_out = json_null();
	if (!json_is_object(root)) {
		snprintf(msg, msglen, "invalid request: must be a JSON object");
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "id");
	if (v != NULL && (json_is_string(v) || json_is_integer(v) || json_is_null(v))) {
		json_decref(*id_out);
		*id_out = json_incref(v);
	} else if (v != NULL) {
		snprintf(msg, msglen, "invalid request: id must be a string, an integer or null");
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		snprintf(msg, msglen, "invalid request: \"jsonrpc\" must be \"2.0\"");
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "method");
	if (!json_is_string(v)) {
		snprintf(msg, msglen, "invalid request: \"method\" must be a string");
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "params");
	if (v == NULL) {
		v = json_object();
		json_object_set_new(root, "params", v);
	} else if (!json_is_object(v)) {
		snprintf(msg, msglen, "invalid params: params must be an object (named parameters)");
		return JSONRPC_INVALID_PARAMS;
	}
	req->root = json_incref(root);
	req->method = json_string_value(json_object_get(root, "method"));
	req->params = v;
	req->id = json_object_get(root, "id");
	return 0;
}

int jsonrpc_parse_message(const char *line, size_t len, size_t max_batch,
			  struct jsonrpc_message *m, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *root;

	memset(m, 0, sizeof(*m));
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(msg, msglen, "parse error: %s at column %d", jerr.text, jerr.column);
		return JSONRPC_PARSE_ERROR;
	}
	if (json_is_array(root) && json_array_size(root) == 0) {
		snprintf(msg, msglen, "invalid request: an empty batch");
		json_decref(root);
		return JSONRPC_INVALID_REQUEST;
	}
	if (json_is_array(root) && json_array_size(root) > max_batch) {
		snprintf(msg, msglen, "invalid request: a batch of %zu calls, more than the limit of %zu",
			 json_array_size(root), max_batch);
		json_decref(root);
		return JSONRPC_INVALID_REQUEST;
	}
	m->root = root;
	m->batch = json_is_array(root);
	return 0;
}

size_t jsonrpc_message_calls(const struct jsonrpc_message *m)
{
	return m->batch ? json_array_size(m->root) : 1;
}

int jsonrpc_message_request(const struct jsonrpc_message *m, size_t i,
			    struct jsonrpc_request *req, json_t **id_out, char *msg, size_t msglen)
{
	return validate_request(m->batch ? json_array_get(m->root, i) : m->root, req, id_out, msg,
				msglen);
}

void jsonrpc_message_free(struct jsonrpc_message *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

int jsonrpc_parse_request(const char *line, size_t len, struct jsonrpc_request *req,
			  json_t **id_out, char *msg, size_t msglen)
{
	struct jsonrpc_message m;
	int rc;

	memset(req, 0, sizeof(*req));
	*id_out = json_null();
	rc = jsonrpc_parse_message(line, len, SIZE_MAX, &m, msg, msglen);
	if (rc != 0)
		return rc;
	if (m.batch) {
		snprintf(msg, msglen, "invalid request: a batch where one request was expected");
		jsonrpc_message_free(&m);
		return JSONRPC_INVALID_REQUEST;
	}
	json_decref(*id_out);
	rc = jsonrpc_message_request(&m, 0, req, id_out, msg, msglen);
	jsonrpc_message_free(&m);
	return rc;
}

void jsonrpc_request_free(struct jsonrpc_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

static json_t *envelope(json_t *id)
{
	json_t *o = json_object();
	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set(o, "id", id ? id : json_null());
	return o;
}

json_t *jsonrpc_result(json_t *id, json_t *result)
{
	json_t *o = envelope(id);
	json_object_set_new(o, "result", result ? result : json_null());
	return o;
}

json_t *jsonrpc_error(json_t *id, int code, const char *message)
{
	json_t *o = envelope(id);
	json_object_set_new(o, "error",
			    json_pack("{s:i, s:s}", "code", code, "message", message ? message : ""));
	return o;
}

char *jsonrpc_encode_line(const json_t *msg, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	char *out = realloc(s, n + 2);
	if (out == NULL) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}
