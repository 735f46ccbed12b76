/* real.add, real.update, real.del */
#include "config_store.h"
#include "rpc_methods.h"

/* Parses params into a real of service idx of c; -1 with err set. */
static int parse_real(const struct lb_config *c, json_t *params, int *svc_idx,
		      struct lb_real_cfg *real, struct rpc_error *err)
{
	json_t *key = json_object_get(params, "service");

	if (key == NULL) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.service: required {vip, port, proto}");
		return -1;
	}
	*svc_idx = rpc_find_service(c, key, "params.service", err);
	if (*svc_idx < 0)
		return -1;
	if (lb_real_from_json(params, "params", &c->services[*svc_idx], real, err->message,
			      sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	return 0;
}

static json_t *real_add(json_t *params, struct rpc_error *err)
{
	const struct lb_config *run = config_store_running();
	struct lb_real_cfg real;
	struct lb_config cand;
	int si;

	if (parse_real(run, params, &si, &real, err) != 0)
		return NULL;
	if (lb_service_find_real(&run->services[si], &real.ip, real.port) >= 0)
		return rpc_fail(err, LB_RPC_EXISTS, "real server exists already in this service");
	if (real.l_threshold != 0 && real.l_threshold >= real.u_threshold)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.l_threshold: must be below u_threshold (%u)", real.u_threshold);
	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	if (lb_service_append_real(&cand.services[si], &real) != 0) {
		lb_config_free(&cand);
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	}
	if (rpc_commit(&cand, err) != 0)
		return NULL;
	const struct lb_service_cfg *s = &config_store_running()->services[si];
	return lb_real_to_json(&s->reals[s->n_reals - 1]);
}

static json_t *real_update(json_t *params, struct rpc_error *err)
{
	const struct lb_config *run = config_store_running();
	struct lb_real_cfg real;
	struct lb_config cand;
	int si, ri;

	if (parse_real(run, params, &si, &real, err) != 0)
		return NULL;
	ri = lb_service_find_real(&run->services[si], &real.ip, real.port);
	if (ri < 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no such real server in this service");
	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	struct lb_real_cfg *r = &cand.services[si].reals[ri];
	if (json_object_get(params, "weight") != NULL)
		r->weight = real.weight;
	if (json_object_get(params, "forward") != NULL)
		r->forward = real.forward;
	if (json_object_get(params, "u_threshold") != NULL)
		r->u_threshold = real.u_threshold;
	if (json_object_get(params, "l_threshold") != NULL)
		r->l_threshold = real.l_threshold;
	if (r->l_threshold != 0 && r->l_threshold >= r->u_threshold) {
		uint32_t upper = r->u_threshold; /* r dies with the candidate */
		lb_config_free(&cand);
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.l_threshold: must be below u_threshold (%u)", upper);
	}
	if (lb_service_validate(&cand.services[si], "params", err->message, sizeof(err->message))) {
		lb_config_free(&cand);
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	}
	if (rpc_commit(&cand, err) != 0)
		return NULL;
	return lb_real_to_json(&config_store_running()->services[si].reals[ri]);
}

static json_t *real_del(json_t *params, struct rpc_error *err)
{
	const struct lb_config *run = config_store_running();
	struct lb_real_cfg real;
	struct lb_config cand;
	int si, ri;

	if (parse_real(run, params, &si, &real, err) != 0)
		return NULL;
	ri = lb_service_find_real(&run->services[si], &real.ip, real.port);
	if (ri < 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no such real server in this service");
	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	lb_service_remove_real(&cand.services[si], (uint32_t)ri);
	if (rpc_commit(&cand, err) != 0)
		return NULL;
	return json_pack("{s:b}", "deleted", 1);
}

const struct rpc_method rpc_real_methods[] = {
	{"real.add", real_add},
	{"real.update", real_update},
	{"real.del", real_del},
	{NULL, NULL},
};
