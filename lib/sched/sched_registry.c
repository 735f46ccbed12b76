/* The one table of schedulers: adding one is a new sched_NAME.c plus a line here. */
#include <stdio.h>
#include <string.h>

#include "scheduler.h"

extern const struct sched_ops sched_rr_ops;
extern const struct sched_ops sched_wrr_ops;
extern const struct sched_ops sched_lc_ops;
extern const struct sched_ops sched_wlc_ops;
extern const struct sched_ops sched_sed_ops;
extern const struct sched_ops sched_nq_ops;
extern const struct sched_ops sched_dh_ops;
extern const struct sched_ops sched_sh_ops;
extern const struct sched_ops sched_mh_ops;
extern const struct sched_ops sched_lblc_ops;
extern const struct sched_ops sched_lblcr_ops;
extern const struct sched_ops sched_fo_ops;
extern const struct sched_ops sched_ovf_ops;
extern const struct sched_ops sched_twos_ops;

/* In the order ipvsadm's manual lists them. */
static const struct sched_ops *const sched_table[] = {
	&sched_rr_ops,
	&sched_wrr_ops,
	&sched_lc_ops,
	&sched_wlc_ops,
	&sched_lblc_ops,
	&sched_lblcr_ops,
	&sched_dh_ops,
	&sched_sh_ops,
	&sched_sed_ops,
	&sched_nq_ops,
	&sched_fo_ops,
	&sched_ovf_ops,
	&sched_mh_ops,
	&sched_twos_ops,
};

const struct sched_ops *sched_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(sched_table) / sizeof(sched_table[0]); i++)
		if (strcmp(sched_table[i]->name, name) == 0)
			return sched_table[i];
	return NULL;
}

const char *sched_names(void)
{
	static char names[256];

	if (names[0] == '\0') {
		size_t off = 0;
		for (size_t i = 0; i < sizeof(sched_table) / sizeof(sched_table[0]); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? "," : "",
						sched_table[i]->name);
	}
	return names;
}
