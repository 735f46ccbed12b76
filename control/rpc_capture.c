/* capture.start, capture.stop, capture.status (capture_ctl.h). */
#include <string.h>

#include "capture_ctl.h"
#include "dataplane.h"
#include "rpc_methods.h"

#define CAPTURE_DURATION_MAX 86400u

static int bad(struct rpc_error *err, const char *fmt, const char *arg)
{
	rpc_fail(err, JSONRPC_INVALID_PARAMS, fmt, arg);
	return -1;
}

/* Copies a string member into dst (size bytes); absent leaves dst; 0 or -1 with err. */
static int get_string(json_t *params, const char *key, char *dst, size_t size,
		      struct rpc_error *err)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return bad(err, "params.%s: must be a string", key);
	if (json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v)) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS,
			 "params.%s: must be a string of at most %zu bytes without NUL", key, size - 1);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int parse_request(json_t *params, struct capture_request *req, struct rpc_error *err)
{
	static const char *const keys[] = {"filter", "port", "snaplen", "count", "duration", "file",
					   NULL};
	uint32_t port = UINT32_MAX;

	memset(req, 0, sizeof(*req));
	req->snaplen = CAPTURE_SNAPLEN_DEFAULT;
	if (!json_is_object(params))
		return bad(err, "%s: must be an object with at least \"file\"", "params");
	if (rpc_check_keys(params, keys, err) != 0 ||
	    get_string(params, "filter", req->filter, sizeof(req->filter), err) != 0 ||
	    get_string(params, "file", req->file, sizeof(req->file), err) != 0)
		return -1;
	if (lb_json_get_uint(params, "port", "params", 0, lb_rt.n_ports - 1u, &port, err->message,
			     sizeof(err->message)) != 0 ||
	    lb_json_get_uint(params, "snaplen", "params", 64, 65535, &req->snaplen, err->message,
			     sizeof(err->message)) != 0 ||
	    lb_json_get_uint(params, "count", "params", 0, UINT32_MAX, &req->count, err->message,
			     sizeof(err->message)) != 0 ||
	    lb_json_get_uint(params, "duration", "params", 0, CAPTURE_DURATION_MAX,
			     &req->duration_s, err->message, sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	req->port = port == UINT32_MAX ? -1 : (int32_t)port;
	if (req->file[0] == '\0')
		return bad(err, "%s: required: the pcapng file to create (an absolute path)",
			   "params.file");
	if (req->file[0] != '/')
		return bad(err, "params.file: must be an absolute path (the daemon's working "
				"directory is not yours): %s",
			   req->file);
	return 0;
}

static json_t *capture_start(json_t *params, struct rpc_error *err)
{
	struct capture_request req;

	if (parse_request(params, &req, err) != 0 || capture_ctl_start(&req, err) != 0)
		return NULL;
	return capture_ctl_status();
}

static json_t *capture_stop(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (capture_ctl_stop("stopped") != 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no capture is running");
	return capture_ctl_status();
}

static json_t *capture_status(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	return capture_ctl_status();
}

const struct rpc_method rpc_capture_methods[] = {
	{"capture.start", capture_start},
	{"capture.stop", capture_stop},
	{"capture.status", capture_status},
	{NULL, NULL},
};
