/*
 * capture: runs capture.start, waits for the capture to end (its count, its duration, or ^C,
 * which sends capture.stop) and, with -w - (the default when stdout is no terminal), streams
 * the pcapng file the daemon writes to stdout as it grows, for `| tcpdump -r -`.
 * capture stop / capture status: capture.stop, capture.status.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

#define CAPTURE_USAGE                                                                              \
	"capture [-w FILE|-] [-i PORT] [-s SNAPLEN] [-c COUNT] [-d SECONDS] [FILTER...]\n"         \
	"       capture stop | capture status\n"                                                   \
	"  -w FILE        write pcapng to FILE (replaced); '-' streams it to stdout\n"              \
	"                 (the default when stdout is not a terminal)\n"                           \
	"  -i PORT        only this DPDK port (default: all)\n"                                    \
	"  -s SNAPLEN     bytes kept of each packet, 64-65535 (default 65535)\n"                   \
	"  -c COUNT       stop after COUNT packets\n"                                              \
	"  -d SECONDS     stop after SECONDS\n"                                                    \
	"  FILTER         a libpcap filter (tcpdump syntax), e.g. tcp port 80 and host 10.0.0.5\n" \
	"Runs until the count or duration is reached, or ^C."
#define STATUS_PERIOD_MS 200
#define COPY_PERIOD_MS 20

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* a signal cuts it short: fine */
}

/* Appends the words of the filter to buf, separated by spaces; 0 or -1 when too long. */
static int append_word(char *buf, size_t size, const char *word)
{
	size_t used = strlen(buf), len = strlen(word);

	if (used + (used ? 1 : 0) + len + 1 > size)
		return -1;
	if (used)
		buf[used++] = ' ';
	memcpy(buf + used, word, len + 1);
	return 0;
}

struct capture_opts {
	const char *file; /* NULL: not given */
	json_t *params;
	char filter[1024];
};

static int parse_opts(struct cli_args *it, struct capture_opts *o)
{
	enum { O_FILE = 1, O_PORT, O_SNAPLEN, O_COUNT, O_DURATION };
	static const struct cli_option opts[] = {
		{"write", 'w', true, O_FILE},   {"port", 'i', true, O_PORT},
		{"snaplen", 's', true, O_SNAPLEN}, {"count", 'c', true, O_COUNT},
		{"duration", 'd', true, O_DURATION}, {NULL, 0, false, 0},
	};
	static const struct {
		int id;
		const char *key;
		unsigned long min, max;
	} numbers[] = {{O_PORT, "port", 0, 65535}, {O_SNAPLEN, "snaplen", 64, 65535},
		       {O_COUNT, "count", 0, UINT32_MAX}, {O_DURATION, "duration", 0, 86400}};
	const char *v;
	int id;

	while ((id = cli_args_next(it, opts, &v)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(it);
		if (id == CLI_ARG_POSITIONAL) {
			if (append_word(o->filter, sizeof(o->filter), v) != 0)
				return cli_usage_error(it, "the filter is longer than %zu bytes",
						       sizeof(o->filter) - 1);
			continue;
		}
		if (id == O_FILE) {
			o->file = v;
			continue;
		}
		for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
			unsigned long n;
			if (numbers[i].id != id)
				continue;
			if (cli_parse_ulong(v, numbers[i].min, numbers[i].max, &n) != 0)
				return cli_usage_error(it, "'%s': --%s needs an integer %lu-%lu", v,
						       numbers[i].key, numbers[i].min, numbers[i].max);
			json_object_set_new(o->params, numbers[i].key, json_integer((json_int_t)n));
		}
	}
	return -1;
}

/* FILE made absolute (the daemon has its own working directory) into out; 0 or -1. */
static int absolute_path(const char *file, char *out, size_t size)
{
	char cwd[PATH_MAX];

	if (file[0] == '/')
		return snprintf(out, size, "%s", file) < (int)size ? 0 : -1;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return snprintf(out, size, "%s/%s", cwd, file) < (int)size ? 0 : -1;
}

/* Copies what the daemon appended to the file since the last call to stdout; -1 on EPIPE etc. */
static int copy_new_bytes(int in_fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
	return n < 0 && errno != EINTR ? -1 : 0;
}

/* The daemon's capture.status, or NULL (already reported). */
static json_t *status(const struct cli_ctx *ctx)
{
	json_t *result;

	return cli_rpc_call(ctx, "capture.status", NULL, &result) == 0 ? result : NULL;
}

static void print_summary(const json_t *st)
{
	fprintf(stderr, "%lld packets captured, %lld matched the filter, %lld lost (%s)\n",
		(long long)json_integer_value(json_object_get(st, "captured")),
		(long long)json_integer_value(json_object_get(st, "matched")),
		(long long)json_integer_value(json_object_get(st, "lost")),
		json_string_value(json_object_get(st, "stop_reason")) ?: "?");
}

/*
 * Waits until the capture to path has ended, streaming the file when in_fd >= 0; stops it on
 * ^C or when stdout closes. Returns the exit code.
 */
static int follow(const struct cli_ctx *ctx, const char *path, int in_fd)
{
	bool stop_sent = false;
	int since_status = STATUS_PERIOD_MS;

	for (;;) {
		if (in_fd >= 0 && copy_new_bytes(in_fd) != 0 && !stop_sent) {
			interrupted = 1; /* the reader went away: nothing left to capture for */
			close(in_fd);
			in_fd = -1;
		}
		if (interrupted && !stop_sent) {
			json_t *r;
			if (cli_rpc_call(ctx, "capture.stop", NULL, &r) == 0)
				json_decref(r);
			stop_sent = true;
			since_status = STATUS_PERIOD_MS;
		}
		if (since_status >= STATUS_PERIOD_MS) {
			since_status = 0;
			json_t *st = status(ctx);
			if (st == NULL)
				return CLI_EXIT_FAILURE;
			const char *state = json_string_value(json_object_get(st, "state"));
			const char *file = json_string_value(json_object_get(st, "file"));
			bool ours = file != NULL && strcmp(file, path) == 0;
			if (!ours || strcmp(state, "stopped") == 0) {
				if (in_fd >= 0)
					copy_new_bytes(in_fd); /* the file is complete now */
				if (ours)
					print_summary(st);
				else
					fprintf(stderr, "%s: capture: another capture replaced ours\n",
						CLI_PROGRAM);
				json_decref(st);
				return ours ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
			}
			json_decref(st);
		}
		sleep_ms(COPY_PERIOD_MS);
		since_status += COPY_PERIOD_MS;
	}
}

static int run_capture(struct cli_ctx *ctx, struct capture_opts *o, struct cli_args *it)
{
	char path[PATH_MAX], tmpdir[] = "/tmp/dpdk-lb-capture.XXXXXX";
	bool streaming = o->file == NULL || strcmp(o->file, "-") == 0;
	json_t *result;

	if (streaming && isatty(STDOUT_FILENO))
		return cli_usage_error(it, "stdout is a terminal: give -w FILE, or pipe it into "
					   "tcpdump -r -");
	if (streaming) {
		if (mkdtemp(tmpdir) == NULL) {
			perror(CLI_PROGRAM ": capture: mkdtemp");
			return CLI_EXIT_FAILURE;
		}
		snprintf(path, sizeof(path), "%s/capture.pcapng", tmpdir);
	} else if (absolute_path(o->file, path, sizeof(path)) != 0) {
		return cli_usage_error(it, "'%s': path too long", o->file);
	} else if (unlink(path) != 0 && errno != ENOENT) {
		/* the daemon never overwrites: replace it here, with our own rights */
		fprintf(stderr, "%s: capture: cannot replace %s: %s\n", CLI_PROGRAM, path,
			strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	json_object_set_new(o->params, "file", json_string(path));
	if (o->filter[0] != '\0')
		json_object_set_new(o->params, "filter", json_string(o->filter));
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int rc = CLI_EXIT_FAILURE;
	if (cli_rpc_call(ctx, "capture.start", json_incref(o->params), &result) == 0) {
		json_decref(result);
		int in_fd = streaming ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		if (streaming && in_fd < 0)
			fprintf(stderr, "%s: capture: cannot read %s: %s\n", CLI_PROGRAM, path,
				strerror(errno));
		rc = follow(ctx, path, in_fd);
		if (in_fd >= 0)
			close(in_fd);
	}
	if (streaming) {
		unlink(path);
		rmdir(tmpdir);
	}
	return rc;
}

static int simple_call(struct cli_ctx *ctx, const char *method)
{
	json_t *result;

	if (cli_rpc_call(ctx, method, NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	cli_print_json(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_capture(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args it;
	struct capture_opts o = {.params = json_object()};

	if (argc == 1 && strcmp(argv[0], "stop") == 0)
		return simple_call(ctx, "capture.stop");
	if (argc == 1 && strcmp(argv[0], "status") == 0)
		return simple_call(ctx, "capture.status");
	cli_args_init(&it, argc, argv, "capture", CAPTURE_USAGE, &ctx->json);
	int rc = parse_opts(&it, &o);
	if (rc < 0)
		rc = run_capture(ctx, &o, &it);
	json_decref(o.params);
	return rc;
}
