/*
 * The validator's rules for health checks and agents (see config_validate.h): every real's
 * check (the service's, with the real's override) must be one the checker can run.
 */
#include "config_validate_health.h"

#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "health_config.h"

#define PATH_LEN 200

/* Rules of one merged check for a real on real_port; path names where its keys come from. */
static int validate_check(const struct lb_check_cfg *chk, uint16_t real_port, const char *path,
			  char *err, size_t errlen)
{
	if (chk->type == LB_CHECK_NEGOTIATE && lb_check_proto(chk, real_port) == NULL)
		return lb_err(err, errlen,
			      "%s.service: no protocol is known for port %u; name one of: %s", path,
			      chk->port ? chk->port : real_port, check_proto_names());
	const struct check_proto *proto = lb_check_proto(chk, real_port);
	if (chk->type == LB_CHECK_NEGOTIATE && proto != NULL && strcmp(proto->name, "dns") == 0 &&
	    (chk->request[0] == '\0' || strcmp(chk->request, "/") == 0))
		return lb_err(err, errlen, "%s.request: a dns check needs the name to query", path);
	if (chk->type == LB_CHECK_NEGOTIATE && proto != NULL && proto->datagram &&
	    chk->protocol == IPPROTO_TCP)
		return lb_err(err, errlen, "%s.protocol: the %s check runs over UDP only", path,
			      proto->name);
	if (chk->type == LB_CHECK_EXTERNAL && chk->command[0] == '\0')
		return lb_err(err, errlen, "%s.command: an external check needs a command", path);
	if (chk->verify && chk->ca_file[0] != '\0' && access(chk->ca_file, R_OK) != 0)
		return lb_err(err, errlen, "%s.ca_file: cannot read \"%s\"", path, chk->ca_file);
	if (chk->receive_regex[0] != '\0') {
		regex_t re;
		int rc = regcomp(&re, chk->receive_regex, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[96];
			regerror(rc, &re, msg, sizeof(msg));
			return lb_err(err, errlen, "%s.receive_regex: %s", path, msg);
		}
		regfree(&re);
	}
	return LB_VALID;
}

int lb_validate_service_health(const struct lb_service_cfg *svc, const char *path, char *err,
			       size_t errlen)
{
	char cpath[PATH_LEN];
	struct lb_check_cfg chk;
	bool base_checked = false;

	for (uint32_t i = 0; i < svc->n_reals; i++) {
		const struct lb_real_cfg *r = &svc->reals[i];
		if (r->admin_state >= LB_ADMIN_COUNT)
			return lb_err(err, errlen, "%s.reals[%u].state: must be online, drain or offline",
				      path, i);
		if (svc->check == NULL && r->check == NULL)
			continue;
		/* The service's own check is the same for every real without an override and a
		 * port of its own: it is checked once. */
		if (r->check == NULL && base_checked && svc->port != 0)
			continue;
		if (r->check != NULL)
			snprintf(cpath, sizeof(cpath), "%s.reals[%u].check", path, i);
		else
			snprintf(cpath, sizeof(cpath), "%s.check", path);
		if (lb_check_from_json(svc->check, r->check, cpath, &chk, err, errlen) != 0 ||
		    validate_check(&chk, r->port, cpath, err, errlen) != LB_VALID)
			return LB_INVALID;
		base_checked |= r->check == NULL;
	}
	if (svc->agent != NULL) {
		struct lb_agent_cfg ag;
		snprintf(cpath, sizeof(cpath), "%s.agent", path);
		if (lb_agent_from_json(svc->agent, cpath, &ag, err, errlen) != 0)
			return LB_INVALID;
	}
	return LB_VALID;
}
