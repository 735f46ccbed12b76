/*
 * Runs a libFuzzer-style target without libFuzzer, so fuzz targets work as ordinary tests
 * under gcc with ASan/UBSan:
 *
 *   fuzz_TARGET CORPUS_DIR [N [SEED]]
 *
 * runs LLVMFuzzerTestOneInput over every file in CORPUS_DIR (in name order), then over up to N
 * (default 20000) inputs made by mutating corpus entries: bit flips, byte changes, truncation,
 * insertion, deletion, duplication and splicing. A missing or empty CORPUS_DIR is an error
 * (a fuzz run without its seeds searches nothing).
 *
 * Environment:
 *   FUZZ_SEED      seed of the mutations (also the third argument); default: a random one. The
 *                  seed is printed first, so a failing run can be replayed with it.
 *   FUZZ_SECONDS   time budget: stop mutating after this many seconds (N stays the upper bound)
 *   FUZZ_MIN_REACH_PERCENT  least share of the mutated inputs that must get past the target's
 *                  first rejection (the target calls fuzz_progress_reached(), fuzz_progress.h);
 *                  below it the run fails, so a target whose inputs all die at the first check
 *                  (e.g. the JSON parser) cannot pass for a search of what lies behind it
 *   FUZZ_CRASH_DIR where a failing input is written (default: the current directory)
 *
 * When a run dies (sanitizer report, abort, crash), the input is written to
 * $FUZZ_CRASH_DIR/crash-TARGET-ITERATION and the iteration is printed; rerunning the target with
 * that file as the only corpus entry and N = 0 replays it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strdup, when built outside meson */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_progress.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define DRIVER_HAS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define DRIVER_HAS_SANITIZER 1
#endif
#endif
#if defined(DRIVER_HAS_SANITIZER) && defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define DRIVER_DEATH_CALLBACK 1
#endif
#endif

#define MAX_INPUT_SIZE (64 * 1024)
#define MAX_CORPUS_FILE (1024 * 1024)
#define DEFAULT_ITERATIONS 20000
#define FALLBACK_SEED 0x6c625f66757a7a31ull /* "lb_fuzz1": when no seed can be drawn */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: a target that knows its input's structure mutates it itself (half
 * of the inputs), and may call LLVMFuzzerMutate for plain byte mutations. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
	__attribute__((weak));
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

struct corpus_entry {
	uint8_t *data;
	size_t size;
};

struct corpus {
	struct corpus_entry *entries;
	size_t count;
};

/* What is running now, for the crash report. */
static const char *target_name = "target";
static const uint8_t *current_input;
static size_t current_size;
static long current_iteration = -1;

static uint64_t rng_state;

/* Whether the input now running got past the target's first rejection. */
static int current_reached;

void fuzz_progress_reached(void)
{
	current_reached = 1;
}

/* xorshift64*: small, fast and the same everywhere. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Uniform-ish value in [0, n); n > 0. */
static size_t rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

/* Writes the current input out; async-signal-safe (open/write/close only). */
static void dump_current_input(void)
{
	char path[512];
	const char *dir = getenv("FUZZ_CRASH_DIR");
	int fd;

	if (current_input == NULL)
		return;
	snprintf(path, sizeof(path), "%s/crash-%s-%ld", dir && *dir ? dir : ".", target_name,
		 current_iteration);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		size_t off = 0;
		while (off < current_size) {
			ssize_t n = write(fd, current_input + off, current_size - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		close(fd);
	}
	/* stderr is unbuffered; keep to plain writes here */
	static const char msg[] = "\nstandalone_driver: failing input written to ";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
	    write(STDERR_FILENO, path, strlen(path)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
		return;
}

static void on_fatal_signal(int sig)
{
	dump_current_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_handlers(void)
{
#ifdef DRIVER_DEATH_CALLBACK
	__sanitizer_set_death_callback(dump_current_input);
#endif
	signal(SIGABRT, on_fatal_signal);
	signal(SIGSEGV, on_fatal_signal);
	signal(SIGBUS, on_fatal_signal);
	signal(SIGFPE, on_fatal_signal);
	signal(SIGILL, on_fatal_signal);
}

/* Runs the target on an exact-size heap copy of data. */
static void run_one(const uint8_t *data, size_t size, long iteration)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL) {
		fprintf(stderr, "standalone_driver: out of memory\n");
		exit(2);
	}
	if (size)
		memcpy(copy, data, size);
	current_input = copy;
	current_size = size;
	current_iteration = iteration;
	current_reached = 0;
	/* an empty input is passed as a valid pointer with size 0, as libFuzzer does */
	(void)LLVMFuzzerTestOneInput(copy, size);
	current_input = NULL;
	free(copy);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_file(const char *path, struct corpus_entry *out)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL)
		return -1;
	buf = malloc(MAX_CORPUS_FILE);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, MAX_CORPUS_FILE, f);
	fclose(f);
	out->data = buf;
	out->size = n;
	return 0;
}

/* Loads every regular file of dir, in name order; a missing dir leaves c empty. */
static void load_corpus(const char *dir, struct corpus *c)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n_names = 0;

	c->entries = NULL;
	c->count = 0;
	if (d == NULL) {
		fprintf(stderr, "standalone_driver: corpus %s: %s\n", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **grown = realloc(names, (n_names + 1) * sizeof(*names));
		if (grown == NULL)
			break;
		names = grown;
		names[n_names] = strdup(e->d_name);
		if (names[n_names] != NULL)
			n_names++;
	}
	closedir(d);
	qsort(names, n_names, sizeof(*names), compare_names);
	c->entries = calloc(n_names ? n_names : 1, sizeof(*c->entries));
	for (size_t i = 0; c->entries != NULL && i < n_names; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && read_file(path, &c->entries[c->count]) == 0)
			c->count++;
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
}

static void free_corpus(struct corpus *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->entries[i].data);
	free(c->entries);
}

/* Bytes that tend to matter to parsers. */
static const uint8_t interesting_bytes[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0f, 0x10,
					    0x11, 0x14, 0x20, 0x40, 0x45, 0x7f, 0x80, 0x81, 0xa8,
					    0xff, '\n', '\r', '"', '\\', '{', '}', '[', ']', ':',
					    ',', '0', '9', '-', '.', 'e'};

/* Applies one random mutation to buf (size *size, capacity MAX_INPUT_SIZE). */
static void mutate_once(uint8_t *buf, size_t *size, const struct corpus *c)
{
	size_t n = *size;

	switch (rng_below(9)) {
	case 0: /* flip a bit */
		if (n)
			buf[rng_below(n)] ^= (uint8_t)(1u << rng_below(8));
		break;
	case 1: /* set a byte to an interesting value */
		if (n)
			buf[rng_below(n)] = interesting_bytes[rng_below(sizeof(interesting_bytes))];
		break;
	case 2: /* set a byte to a random value */
		if (n)
			buf[rng_below(n)] = (uint8_t)rng_next();
		break;
	case 3: /* truncate */
		if (n)
			*size = rng_below(n);
		break;
	case 4: /* insert a few bytes */
		if (n < MAX_INPUT_SIZE) {
			size_t pos = rng_below(n + 1), count = 1 + rng_below(4);
			if (count > MAX_INPUT_SIZE - n)
				count = MAX_INPUT_SIZE - n;
			memmove(buf + pos + count, buf + pos, n - pos);
			for (size_t i = 0; i < count; i++)
				buf[pos + i] = rng_below(2) ? (uint8_t)rng_next()
							    : interesting_bytes[rng_below(sizeof(interesting_bytes))];
			*size = n + count;
		}
		break;
	case 5: /* delete a range */
		if (n) {
			size_t pos = rng_below(n), count = 1 + rng_below(n - pos < 8 ? n - pos : 8);
			memmove(buf + pos, buf + pos + count, n - pos - count);
			*size = n - count;
		}
		break;
	case 6: /* duplicate a range in place */
		if (n && n < MAX_INPUT_SIZE) {
			size_t from = rng_below(n), len = 1 + rng_below(n - from);
			size_t to = rng_below(n + 1);
			if (len > MAX_INPUT_SIZE - n)
				len = MAX_INPUT_SIZE - n;
			uint8_t *tmp = malloc(len);
			if (tmp == NULL)
				break;
			memcpy(tmp, buf + from, len);
			memmove(buf + to + len, buf + to, n - to);
			memcpy(buf + to, tmp, len);
			free(tmp);
			*size = n + len;
		}
		break;
	case 7: /* splice: our head with another entry's tail */
		if (c->count) {
			const struct corpus_entry *o = &c->entries[rng_below(c->count)];
			size_t head = rng_below(n + 1), from = rng_below(o->size + 1);
			size_t tail = o->size - from;
			if (head + tail > MAX_INPUT_SIZE)
				tail = MAX_INPUT_SIZE - head;
			memcpy(buf + head, o->data + from, tail);
			*size = head + tail;
		}
		break;
	default: /* insert a chunk of another entry (the corpus is the dictionary) */
		if (c->count && n < MAX_INPUT_SIZE) {
			const struct corpus_entry *o = &c->entries[rng_below(c->count)];
			if (o->size == 0)
				break;
			size_t from = rng_below(o->size), len = 1 + rng_below(o->size - from);
			size_t pos = rng_below(n + 1);
			if (len > 32)
				len = 1 + rng_below(32);
			if (len > MAX_INPUT_SIZE - n)
				len = MAX_INPUT_SIZE - n;
			memmove(buf + pos + len, buf + pos, n - pos);
			memcpy(buf + pos, o->data + from, len);
			*size = n + len;
		}
		break;
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A seed from FUZZ_SEED, else a random one (never 0: xorshift would stay at 0). */
static uint64_t pick_seed(const char *given)
{
	uint64_t seed = 0;

	if (given != NULL && *given != '\0')
		seed = strtoull(given, NULL, 0);
	else if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return seed ? seed : FALLBACK_SEED;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double env_double(const char *name, double fallback)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : fallback;
}

static const struct corpus *mutate_corpus;

/* libFuzzer's byte mutator, for custom mutators: one to three of the driver's mutations. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
	size_t n = 1 + rng_below(3);

	if (max_size < MAX_INPUT_SIZE) /* mutate_once needs MAX_INPUT_SIZE bytes of room */
		return size;
	for (size_t m = 0; m < n; m++)
		mutate_once(data, &size, mutate_corpus);
	return size;
}

/* Makes one mutated input in buf from a random corpus entry; returns its size. */
static size_t make_input(uint8_t *buf, const struct corpus *c)
{
	const struct corpus_entry *e = &c->entries[rng_below(c->count)];
	size_t size = e->size < MAX_INPUT_SIZE ? e->size : MAX_INPUT_SIZE;

	memcpy(buf, e->data, size);
	mutate_corpus = c;
	if (LLVMFuzzerCustomMutator != NULL && rng_below(2)) {
		/* a few structured edits stacked */
		size_t n = 1 + rng_below(4);
		for (size_t m = 0; m < n; m++)
			size = LLVMFuzzerCustomMutator(buf, size, MAX_INPUT_SIZE, (unsigned int)rng_next());
		return size;
	}
	/* mostly small edits, sometimes many stacked */
	size_t n_mutations = rng_below(4) == 0 ? 1 + rng_below(16) : 1 + rng_below(3);
	for (size_t m = 0; m < n_mutations; m++)
		mutate_once(buf, &size, c);
	return size;
}

int main(int argc, char **argv)
{
	struct corpus corpus = {NULL, 0};
	long iterations = DEFAULT_ITERATIONS, it, reached = 0;
	uint8_t *buf;

	target_name = base_name(argv[0]);
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s CORPUS_DIR [N [SEED]]\n", argv[0]);
		return 2;
	}
	if (argc > 2) {
		char *end;
		iterations = strtol(argv[2], &end, 10);
		if (*end != '\0' || iterations < 0) {
			fprintf(stderr, "usage: %s CORPUS_DIR [N [SEED]]\n", argv[0]);
			return 2;
		}
	}
	uint64_t seed = pick_seed(argc > 3 ? argv[3] : getenv("FUZZ_SEED"));
	double budget = env_double("FUZZ_SECONDS", 0), min_reach = env_double("FUZZ_MIN_REACH_PERCENT", 0);
	rng_state = seed;
	/* first, so that it is in the log whatever happens next */
	fprintf(stderr, "%s: seed 0x%llx (replay: FUZZ_SEED=0x%llx %s %s %ld)\n", target_name,
		(unsigned long long)seed, (unsigned long long)seed, argv[0], argv[1], iterations);
	load_corpus(argv[1], &corpus);
	if (corpus.count == 0) {
		fprintf(stderr, "%s: no corpus in %s: a fuzz run needs its seed inputs\n", target_name,
			argv[1]);
		return 2;
	}
	install_crash_handlers();

	for (size_t i = 0; i < corpus.count; i++)
		run_one(corpus.entries[i].data, corpus.entries[i].size, -1 - (long)i);

	buf = malloc(MAX_INPUT_SIZE);
	if (buf == NULL)
		return 2;
	double start = now_s();
	for (it = 0; it < iterations; it++) {
		/* the clock is read every 256 inputs only: it is not free */
		if (budget > 0 && (it & 255) == 0 && now_s() - start >= budget)
			break;
		run_one(buf, make_input(buf, &corpus), it);
		reached += current_reached;
	}
	free(buf);
	double share = it ? 100.0 * (double)reached / (double)it : 0;
	printf("%s: %zu corpus inputs and %ld mutated inputs run in %.1f s (seed 0x%llx); %ld (%.1f%%) "
	       "got past the first rejection\n",
	       target_name, corpus.count, it, now_s() - start, (unsigned long long)seed, reached, share);
	free_corpus(&corpus);
	if (min_reach > 0 && (it == 0 || share < min_reach)) {
		printf("%s: FAILED: %.1f%% of the mutated inputs got past the first rejection, at least "
		       "%.1f%% expected (FUZZ_MIN_REACH_PERCENT)\n", target_name, share, min_reach);
		return 1;
	}
	return 0;
}
