/*
 * top: a full-screen view refreshed every second, like top and tcptrack: services and reals
 * with their rates and connections, the top sources (conn.top, when the daemon has it), drops
 * per reason and port rates. Keys: s / S sort by the next / previous column, f filter to the
 * next service, a all services again, q quit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli_addr.h"
#include "cli_args.h"
#include "cli_commands.h"
#include "cli_rpc.h"

#define TOP_SORT_KEYS 6
static const char *const sort_keys[TOP_SORT_KEYS] = {"cps",   "inpps",  "outpps",
						     "inbps", "outbps", "active"};

struct top_view {
	int sort;          /* index in sort_keys */
	long filter;       /* -1: every service, else the index of the one shown */
	bool have_top;     /* the daemon answers conn.top */
	json_t *prev_ports; /* stats.ports of the previous refresh, for port rates */
	json_t *prev_drops; /* drop_reasons of the previous refresh */
	double prev_t;
	size_t n_services; /* in the last refresh */
	unsigned rows, cols;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "?";
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : 0;
}

/* "12.3K"-style figures that fit 7 columns. */
static const char *human(char *buf, size_t len, double v)
{
	static const char units[] = " KMGTP";
	int u = 0;

	while (v >= 10000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

static double sort_value(const json_t *o, int sort)
{
	if (sort == 5)
		return num(o, "active") + num(o, "inactive");
	return num(o, sort_keys[sort]);
}

static int sort_key_index;
static int by_sort_key(const void *a, const void *b)
{
	double x = sort_value(*(json_t *const *)a, sort_key_index);
	double y = sort_value(*(json_t *const *)b, sort_key_index);
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The elements of array a sorted by the view's key, largest first (borrowed references). */
static json_t **sorted(const json_t *a, int sort, size_t *n)
{
	*n = json_array_size(a);
	json_t **v = calloc(*n ? *n : 1, sizeof(*v));
	if (v == NULL) {
		*n = 0;
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		v[i] = json_array_get(a, i);
	sort_key_index = sort;
	qsort(v, *n, sizeof(*v), by_sort_key);
	return v;
}

static void row(FILE *f, const char *name, const json_t *o)
{
	char b[7][16];

	fprintf(f, "%-34.34s %7s %7s %7s %7s %7s %8s %9s\n", name, human(b[0], 16, num(o, "cps")),
		human(b[1], 16, num(o, "inpps")), human(b[2], 16, num(o, "outpps")),
		human(b[3], 16, num(o, "inbps")), human(b[4], 16, num(o, "outbps")),
		human(b[5], 16, num(o, "active")), human(b[6], 16, num(o, "inactive")));
}

static void endpoint(char *buf, size_t len, const json_t *o, const char *addr_key)
{
	const char *ip = json_string_value(json_object_get(o, addr_key));
	long long port = (long long)num(o, "port");

	if (ip != NULL && strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%lld", ip, port);
	else
		snprintf(buf, len, "%s:%lld", ip ? ip : "?", port);
}

static void draw_services(FILE *f, const struct top_view *v, const json_t *services)
{
	size_t n, nr;
	json_t **svcs = sorted(services, v->sort, &n);

	fprintf(f, "\033[7m%-34s %7s %7s %7s %7s %7s %8s %9s\033[0m\n", "SERVICE / -> REAL", "CPS",
		"InPPS", "OutPPS", "InBPS", "OutBPS", "ActConn", "InActConn");
	for (size_t i = 0; i < n; i++) {
		char name[96], ep[80];
		const char *proto = json_string_value(json_object_get(svcs[i], "proto"));
		if (v->filter >= 0 && json_array_get(services, (size_t)v->filter) != svcs[i])
			continue;
		endpoint(ep, sizeof(ep), svcs[i], "vip");
		snprintf(name, sizeof(name), "%s %s", proto && strcmp(proto, "udp") == 0 ? "UDP" : "TCP",
			 ep);
		/* a service's active/inactive are its reals' sums (stats.get) */
		row(f, name, svcs[i]);
		json_t **reals = sorted(json_object_get(svcs[i], "reals"), v->sort, &nr);
		for (size_t j = 0; j < nr; j++) {
			endpoint(ep, sizeof(ep), reals[j], "ip");
			snprintf(name, sizeof(name), "  -> %s", ep);
			row(f, name, reals[j]);
		}
		free(reals);
	}
	free(svcs);
}

static void draw_drops(FILE *f, const struct top_view *v, const json_t *drops, double dt)
{
	const char *key;
	const json_t *val;
	int shown = 0;

	fprintf(f, "\n\033[7m%-34s %12s %12s\033[0m\n", "DROP REASON", "per second", "total");
	json_object_foreach((json_t *)drops, key, val) {
		double total = json_number_value(val);
		double before = v->prev_drops ? num(v->prev_drops, key) : total;
		if (total == 0)
			continue;
		char b[16];
		fprintf(f, "%-34s %12s %12.0f\n", key,
			human(b, sizeof(b), dt > 0 && total >= before ? (total - before) / dt : 0),
			total);
		shown++;
	}
	if (shown == 0)
		fprintf(f, "(no drops)\n");
}

static void draw_ports(FILE *f, const struct top_view *v, const json_t *ports, double dt)
{
	size_t i;
	const json_t *p;

	fprintf(f, "\n\033[7m%-16s %-4s %9s %9s %9s %9s %9s %9s\033[0m\n", "PORT", "LINK", "RX pps",
		"TX pps", "RX bit/s", "TX bit/s", "RX-ERR", "RX-MISS");
	json_array_foreach(ports, i, p) {
		const json_t *old = json_array_get(json_object_get(v->prev_ports, "ports"), i);
		double r[4] = {0};
		static const char *const keys[4] = {"rx_packets", "tx_packets", "rx_bytes",
						    "tx_bytes"};
		char b[4][16], e[2][16];
		for (int k = 0; old != NULL && dt > 0 && k < 4; k++) {
			double d = num(p, keys[k]) - num(old, keys[k]);
			r[k] = d > 0 ? d / dt * (k >= 2 ? 8 : 1) : 0;
		}
		fprintf(f, "%-16.16s %-4s %9s %9s %9s %9s %9s %9s\n",
			str(p, "name"),
			json_is_true(json_object_get(json_object_get(p, "link"), "up")) ? "up" : "down",
			human(b[0], 16, r[0]), human(b[1], 16, r[1]), human(b[2], 16, r[2]),
			human(b[3], 16, r[3]), human(e[0], 16, num(p, "rx_errors")),
			human(e[1], 16, num(p, "rx_missed")));
	}
}

/* conn.top's ranking as "key=value" columns: whatever the daemon's entries hold. */
static void draw_top_sources(FILE *f, const json_t *top)
{
	const json_t *list = json_is_array(top) ? top : NULL;
	const char *key;
	const json_t *val;

	if (list == NULL)
		json_object_foreach((json_t *)top, key, val)
			if (json_is_array(val)) {
				list = val;
				break;
			}
	fprintf(f, "\n\033[7m%-80s\033[0m\n", "TOP SOURCES");
	size_t i;
	const json_t *e;
	json_array_foreach(list, i, e) {
		if (i >= 5)
			break;
		json_object_foreach((json_t *)e, key, val) {
			if (json_is_string(val))
				fprintf(f, "%s=%s  ", key, json_string_value(val));
			else if (json_is_number(val))
				fprintf(f, "%s=%g  ", key, json_number_value(val));
		}
		fputc('\n', f);
	}
	if (json_array_size(list) == 0)
		fprintf(f, "(none)\n");
}

/* Calls method without printing its errors (a daemon without conn.top must not scribble on
 * the screen); 0 or 1. */
static int quiet_call(const struct cli_ctx *ctx, const char *method, json_t **result)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	int rc;

	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	rc = cli_rpc_call(ctx, method, NULL, result);
	if (saved >= 0 && null >= 0)
		dup2(saved, STDERR_FILENO);
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
	return rc;
}

static void window_size(struct top_view *v)
{
	struct winsize ws;

	v->rows = 50;
	v->cols = 160;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
		v->rows = ws.ws_row;
		v->cols = ws.ws_col;
	}
}

static void draw_header(FILE *f, const struct top_view *v, const json_t *stats)
{
	const json_t *dp = json_object_get(stats, "dataplane"), *r = json_object_get(dp, "rates");
	char filter[96] = "all", b[4][16], clock[16];
	time_t t = time(NULL);
	struct tm tm;

	if (v->filter >= 0) {
		const json_t *s = json_array_get(json_object_get(stats, "services"), (size_t)v->filter);
		char ep[80];
		endpoint(ep, sizeof(ep), s, "vip");
		snprintf(filter, sizeof(filter), "%s %s", str(s, "proto"), ep);
	}
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&t, &tm));
	fprintf(f, "dpdk-lb top - %s   sort: %s   filter: %s   [s/S]ort [f]ilter [a]ll [q]uit\n",
		clock, sort_keys[v->sort], filter);
	fprintf(f,
		"dataplane: rx %s pps  tx %s pps  new %s conn/s  in %s bit/s  flows %.0f  "
		"dropped %.0f\n\n",
		human(b[0], 16, num(r, "inpps")), human(b[1], 16, num(r, "outpps")),
		human(b[2], 16, num(r, "cps")), human(b[3], 16, num(r, "inbps") * 8),
		num(dp, "flows"), num(dp, "dropped"));
}

/* Fetches everything and draws one screen; 0, or 1 when stats.get failed. */
static int refresh(const struct cli_ctx *ctx, struct top_view *v)
{
	json_t *stats, *ports = NULL, *top = NULL;
	char *buf = NULL;
	size_t len = 0;

	if (cli_rpc_call(ctx, "stats.get", NULL, &stats) != 0)
		return 1;
	if (quiet_call(ctx, "stats.ports", &ports) != 0)
		ports = NULL;
	if (v->have_top && quiet_call(ctx, "conn.top", &top) != 0) {
		v->have_top = false;
		top = NULL;
	}
	double t = now_s(), dt = v->prev_t > 0 ? t - v->prev_t : 0;
	const json_t *services = json_object_get(stats, "services");
	if (v->filter >= (long)json_array_size(services))
		v->filter = -1; /* the service went away */
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		json_decref(stats);
		json_decref(ports);
		json_decref(top);
		return 1;
	}
	window_size(v);
	draw_header(f, v, stats);
	draw_services(f, v, services);
	if (top != NULL)
		draw_top_sources(f, top);
	const json_t *drops = json_object_get(json_object_get(stats, "dataplane"), "drop_reasons");
	draw_drops(f, v, drops, dt);
	if (ports != NULL)
		draw_ports(f, v, json_object_get(ports, "ports"), dt);
	fclose(f);
	/* home, clear, then as many lines as the window holds */
	fputs("\033[H\033[2J", stdout);
	unsigned lines = 0;
	for (size_t i = 0; i < len && lines < v->rows; i++) {
		if (buf[i] == '\n' && ++lines == v->rows)
			break;
		putchar(buf[i]);
	}
	fflush(stdout);
	free(buf);
	json_decref(v->prev_drops);
	v->prev_drops = json_incref((json_t *)drops);
	json_decref(v->prev_ports);
	v->prev_ports = ports;
	v->prev_t = t;
	v->n_services = json_array_size(services);
	json_decref(stats);
	json_decref(top);
	return 0;
}

/* Applies key c; true when it asks to quit. */
static bool on_key(struct top_view *v, int c)
{
	switch (c) {
	case 'q':
	case 'Q':
		return true;
	case 's':
		v->sort = (v->sort + 1) % TOP_SORT_KEYS;
		break;
	case 'S':
		v->sort = (v->sort + TOP_SORT_KEYS - 1) % TOP_SORT_KEYS;
		break;
	case 'f':
		v->filter = v->filter + 1 >= (long)v->n_services ? -1 : v->filter + 1;
		break;
	case 'a':
		v->filter = -1;
		break;
	default:
		break;
	}
	return false;
}

enum { OPT_ITERATIONS = 1, OPT_SORT };

static int parse_top_args(struct cli_args *it, struct top_view *v, unsigned long *iterations)
{
	static const struct cli_option opts[] = {{"iterations", 'n', true, OPT_ITERATIONS},
						 {"sort", 0, true, OPT_SORT},
						 {NULL, 0, false, 0}};
	const char *value;
	int id;

	while ((id = cli_args_next(it, opts, &value)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(it);
		if (id == CLI_ARG_POSITIONAL)
			return cli_usage_error(it, "unexpected argument '%s'", value);
		if (id == OPT_ITERATIONS && cli_parse_ulong(value, 1, 1000000, iterations) != 0)
			return cli_usage_error(it, "'%s': --iterations must be 1-1000000", value);
		if (id == OPT_SORT) {
			int k = 0;
			while (k < TOP_SORT_KEYS && strcmp(sort_keys[k], value) != 0)
				k++;
			if (k == TOP_SORT_KEYS)
				return cli_usage_error(it, "'%s': --sort must be cps, inpps, outpps, "
							   "inbps, outbps or active", value);
			v->sort = k;
		}
	}
	return -1;
}

/* Waits up to ms for keys on fd (-1: none to read) and applies them; true to quit. */
static bool wait_keys(struct top_view *v, int *fd, int ms)
{
	struct pollfd p = {.fd = *fd, .events = POLLIN};
	char keys[16];

	if (poll(&p, *fd >= 0 ? 1 : 0, ms) <= 0)
		return false;
	ssize_t n = read(*fd, keys, sizeof(keys));
	if (n <= 0) {
		*fd = -1; /* end of input: keep refreshing until the iterations or a signal end it */
		return false;
	}
	bool quit = false;
	for (ssize_t i = 0; i < n; i++)
		quit = quit || on_key(v, keys[i]);
	return quit;
}

int cmd_top(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args it;
	struct top_view v = {.filter = -1, .have_top = true};
	unsigned long iterations = 0;
	struct termios saved, raw;
	bool tty;
	int fd = STDIN_FILENO, rc = CLI_EXIT_OK;

	cli_args_init(&it, argc, argv, "top",
		      "top [--iterations|-n N] [--sort cps|inpps|outpps|inbps|outbps|active]",
		      &ctx->json);
	int prc = parse_top_args(&it, &v, &iterations);
	if (prc >= 0)
		return prc;
	tty = isatty(fd) && tcgetattr(fd, &saved) == 0;
	if (tty) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &raw);
		fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, no cursor */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	for (unsigned long n = 0; !stop_requested && (iterations == 0 || n < iterations); n++) {
		if (refresh(ctx, &v) != 0) {
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (iterations != 0 && n + 1 == iterations)
			break;
		/* a key redraws at once; otherwise the next refresh is a second later */
		double until = now_s() + 1.0;
		bool quit = false, redraw = false;
		while (!quit && !redraw && !stop_requested && now_s() < until) {
			int before_sort = v.sort;
			long before_filter = v.filter;
			quit = wait_keys(&v, &fd, (int)((until - now_s()) * 1000) + 1);
			redraw = v.sort != before_sort || v.filter != before_filter;
		}
		if (quit)
			break;
	}
	if (tty) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		tcsetattr(fd, TCSANOW, &saved);
	}
	json_decref(v.prev_ports);
	json_decref(v.prev_drops);
	return rc;
}
