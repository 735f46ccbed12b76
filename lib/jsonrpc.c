#include "jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jsonrpc_parse_request(const char *line, size_t len, struct jsonrpc_request *req,
			  json_t **id_out, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *root, *v;

	memset(req, 0, sizeof(*req));
	*id_out = json_null();
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(msg, msglen, "parse error: %s at column %d", jerr.text, jerr.column);
		return JSONRPC_PARSE_ERROR;
	}
	if (!json_is_object(root)) {
		snprintf(msg, msglen, "invalid request: %s",
			 json_is_array(root) ? "batches are not supported" : "must be a JSON object");
		json_decref(root);
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "id");
	if (v != NULL && (json_is_string(v) || json_is_integer(v) || json_is_null(v))) {
		json_decref(*id_out);
		*id_out = json_incref(v);
	} else if (v != NULL) {
		snprintf(msg, msglen, "invalid request: id must be a string, an integer or null");
		json_decref(root);
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		snprintf(msg, msglen, "invalid request: \"jsonrpc\" must be \"2.0\"");
		json_decref(root);
		return JSONRPC_INVALID_REQUEST;
	}
	v = json_object_get(root, "method");
	if (!json_is_string(v)) {
		snprintf(msg, msglen, "invalid request: \"method\" must be a string");
		json_decref(root);
		return JSONRPC_INVALID_REQUEST;
	}
	req->method = json_string_value(v);
	v = json_object_get(root, "params");
	if (v == NULL) {
		v = json_object();
		json_object_set_new(root, "params", v);
	} else if (!json_is_object(v)) {
		snprintf(msg, msglen, "invalid params: params must be an object (named parameters)");
		json_decref(root);
		memset(req, 0, sizeof(*req)); /* nothing may point into the freed document */
		return JSONRPC_INVALID_PARAMS;
	}
	req->params = v;
	req->root = root;
	req->id = json_object_get(root, "id");
	return 0;
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
