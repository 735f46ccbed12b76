/* dpdk-lb-setup: reads the configuration, then prepares hugepages and NICs (setup.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_validate.h"
#include "setup.h"

int setup_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("dpdk-lb-setup: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

void setup_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("dpdk-lb-setup: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: dpdk-lb-setup [-c CONFIG] [--dry-run]\n"
		     "  -c, --config FILE   configuration file (default /etc/dpdk-lb/dpdk-lb.json)\n"
		     "  -n, --dry-run       say what would be done, change nothing\n"
		     "      --root DIR      prefix of /sys and /proc (tests)\n"
		     "      --devbind PROG  NIC binding tool (default dpdk-devbind.py)\n"
		     "Reserves hugepages, mounts hugetlbfs and binds NICs as the config's \"system\"\n"
		     "section says (docs/install.md). The daemon's unit runs it before starting.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"dry-run", no_argument, NULL, 'n'},
		{"root", required_argument, NULL, 'r'},   {"devbind", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	struct setup_opts o = {.root = "", .devbind = "dpdk-devbind.py", .dry_run = false};
	const char *path = "/etc/dpdk-lb/dpdk-lb.json";
	char err[LB_ERR_LEN];
	struct lb_config c;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'r': o.root = optarg; break;
		case 'd': o.devbind = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	lb_config_init_defaults(&c);
	/* A configuration the daemon would refuse stops the boot here, with the same message. */
	if (lb_config_load_file(path, &c, err, sizeof(err)) != 0 ||
	    lb_config_validate(&c, err, sizeof(err)) != LB_VALID) {
		setup_fail("%s", err);
		lb_config_free(&c);
		return 1;
	}
	int rc = setup_hugepages(&c.system, &o) == 0 && setup_nics(&c.system, &o) == 0 ? 0 : 1;
	if (rc == 0)
		setup_say("ready (%s)", path);
	lb_config_free(&c);
	return rc;
}
