/* real.add, real.update, real.del: edits of the candidate configuration (see rpc_methods.h). */
#include "config_store.h"
#include "health_config.h"
#include "rpc_methods.h"

/* Parses params into a real of service *svc_idx of c; -1 with err set. */
static int parse_real(const struct lb_config *c, json_t *params, int *svc_idx,
		      struct lb_real_cfg *real, struct rpc_error *err)
{
	static const char *const key_names[] = {"vip", "port", "proto", NULL};
	json_t *key = json_object_get(params, "service");

	if (key == NULL) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.service: required {vip, port, proto}");
		return -1;
	}
	/* A typo in the service key ("prot") must not be ignored: it could name another service. */
	if (json_is_object(key) &&
	    lb_json_check_keys(key, "params.service", key_names, err->message, sizeof(err->message))) {
		err->code = JSONRPC_INVALID_PARAMS;
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

static json_t *real_add_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	struct lb_real_cfg real;
	int si;

	if (parse_real(c, params, &si, &real, err) != 0)
		return NULL;
	struct lb_service_cfg *s = &c->services[si];
	if (lb_service_find_real(s, &real.ip, real.port) >= 0) {
		lb_real_release(&real);
		return rpc_fail(err, LB_RPC_EXISTS, "real server exists already in this service");
	}
	if (lb_service_append_real(s, &real) != 0) {
		lb_real_release(&real);
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	}
	s->changed = true;
	return lb_real_to_json(&s->reals[s->n_reals - 1]);
}

static json_t *real_update_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	struct lb_real_cfg real;
	int si, ri;

	if (parse_real(c, params, &si, &real, err) != 0)
		return NULL;
	ri = lb_service_find_real(&c->services[si], &real.ip, real.port);
	if (ri < 0) {
		lb_real_release(&real);
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no such real server in this service");
	}
	struct lb_real_cfg *r = &c->services[si].reals[ri];
	c->services[si].changed = true;
	if (json_object_get(params, "weight") != NULL)
		r->weight = real.weight;
	if (json_object_get(params, "forward") != NULL)
		r->forward = real.forward;
	if (json_object_get(params, "u_threshold") != NULL)
		r->u_threshold = real.u_threshold;
	if (json_object_get(params, "l_threshold") != NULL)
		r->l_threshold = real.l_threshold;
	if (json_object_get(params, "state") != NULL)
		r->admin_state = real.admin_state;
	if (json_object_get(params, "check") != NULL) { /* null removes the override */
		lb_real_release(r);
		r->check = real.check;
		real.check = NULL;
	}
	lb_real_release(&real);
	return lb_real_to_json(r);
}

static json_t *real_del_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	struct lb_real_cfg real;
	int si, ri;

	if (parse_real(c, params, &si, &real, err) != 0)
		return NULL;
	lb_real_release(&real);
	ri = lb_service_find_real(&c->services[si], &real.ip, real.port);
	if (ri < 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no such real server in this service");
	lb_service_remove_real(&c->services[si], (uint32_t)ri);
	c->services[si].changed = true;
	return json_pack("{s:b}", "deleted", 1);
}

/* real.drain, real.offline, real.online: the operator's wish for one real (see health.h). */
static json_t *real_set_admin(struct lb_config *c, json_t *params, uint8_t state,
			      struct rpc_error *err)
{
	static const char *const keys[] = {"service", "ip", "port", NULL};
	struct lb_real_cfg real;
	int si, ri;

	if (rpc_check_keys(params, keys, err) != 0 || parse_real(c, params, &si, &real, err) != 0)
		return NULL;
	lb_real_release(&real);
	ri = lb_service_find_real(&c->services[si], &real.ip, real.port);
	if (ri < 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no such real server in this service");
	struct lb_real_cfg *r = &c->services[si].reals[ri];
	r->admin_state = state;
	c->services[si].changed = true;
	/* The effective weight is derived at commit; the answer says what the wish is. */
	return json_pack("{s:s, s:I}", "state", lb_admin_state_name(state), "weight",
			 (json_int_t)r->weight);
}

static json_t *real_drain_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	return real_set_admin(c, params, LB_ADMIN_DRAIN, err);
}

static json_t *real_offline_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	return real_set_admin(c, params, LB_ADMIN_OFFLINE, err);
}

static json_t *real_online_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	return real_set_admin(c, params, LB_ADMIN_ONLINE, err);
}

/* Runs an admin edit and adds the effective weight it published. */
static json_t *run_admin_edit(rpc_edit edit, json_t *params, struct rpc_error *err)
{
	const struct lb_config *c = config_store_running();
	json_t *result = rpc_run_edit(edit, params, err);
	struct lb_real_cfg real;
	int si, ri;

	if (result == NULL || parse_real(c, params, &si, &real, err) != 0)
		return result;
	lb_real_release(&real);
	ri = lb_service_find_real(&c->services[si], &real.ip, real.port);
	if (ri >= 0)
		json_object_set_new(result, "effective_weight",
				    json_integer(c->services[si].reals[ri].eff_weight));
	return result;
}

static json_t *real_drain(json_t *params, struct rpc_error *err)
{
	return run_admin_edit(real_drain_edit, params, err);
}

static json_t *real_offline(json_t *params, struct rpc_error *err)
{
	return run_admin_edit(real_offline_edit, params, err);
}

static json_t *real_online(json_t *params, struct rpc_error *err)
{
	return run_admin_edit(real_online_edit, params, err);
}

static json_t *real_add(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(real_add_edit, params, err);
}

static json_t *real_update(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(real_update_edit, params, err);
}

static json_t *real_del(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(real_del_edit, params, err);
}

const struct rpc_edit_method rpc_real_edits[] = {
	{"real.add", real_add_edit},
	{"real.update", real_update_edit},
	{"real.del", real_del_edit},
	{"real.drain", real_drain_edit},
	{"real.offline", real_offline_edit},
	{"real.online", real_online_edit},
	{NULL, NULL},
};

const struct rpc_method rpc_real_methods[] = {
	{"real.add", real_add},
	{"real.update", real_update},
	{"real.del", real_del},
	{"real.drain", real_drain},
	{"real.offline", real_offline},
	{"real.online", real_online},
	{NULL, NULL},
};
