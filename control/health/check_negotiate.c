/*
 * negotiate checks: connect (TCP, or UDP for datagram protocols), wrap the stream in TLS for
 * https (OpenSSL, non-blocking: SNI from the check's host, optional verification against its
 * CA file), then let the protocol's dialogue (lib/check_proto_*.c) say what to send and judge
 * every byte that comes back, all within the negotiate timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "check_run.h"

struct nego_state {
	struct ev_op *connect_op;
	int fd;
	struct ev_io io;
	bool io_on;
	struct ev_timer deadline;
	SSL *ssl;
	bool handshaken;
	size_t tx_off;
	char host[LB_CHECK_STR];
	char local_addr[48];
	struct check_params params;
	struct check_dialogue dlg;
};

/* ---- TLS contexts: one without verification, one per CA file (few; kept for the process) ---- */

#define MAX_TLS_CTX 16
static struct {
	char ca_file[LB_CHECK_STR];
	bool verify;
	SSL_CTX *ctx;
} tls_ctx[MAX_TLS_CTX];

static SSL_CTX *tls_ctx_get(const struct lb_check_cfg *cfg, char *why, size_t whylen)
{
	int free_slot = -1;

	for (int i = 0; i < MAX_TLS_CTX; i++) {
		if (tls_ctx[i].ctx == NULL) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (tls_ctx[i].verify == cfg->verify &&
		    (!cfg->verify || strcmp(tls_ctx[i].ca_file, cfg->ca_file) == 0))
			return tls_ctx[i].ctx;
	}
	if (free_slot < 0) {
		lb_err(why, whylen, "too many different CA files (at most %d)", MAX_TLS_CTX);
		return NULL;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		lb_err(why, whylen, "TLS: cannot create a context");
		return NULL;
	}
	if (cfg->verify) {
		int ok = cfg->ca_file[0] ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
					 : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			SSL_CTX_free(ctx);
			lb_err(why, whylen, "TLS: cannot load CA file \"%s\"", cfg->ca_file);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	tls_ctx[free_slot].ctx = ctx;
	tls_ctx[free_slot].verify = cfg->verify;
	snprintf(tls_ctx[free_slot].ca_file, sizeof(tls_ctx[free_slot].ca_file), "%s", cfg->ca_file);
	return ctx;
}

/* ---- the run ---- */

static void nego_close(struct check_run *run, struct nego_state *st)
{
	if (st->connect_op != NULL)
		ev_op_cancel(run->loop, st->connect_op);
	if (st->io_on)
		ev_io_stop(run->loop, &st->io);
	ev_timer_stop(run->loop, &st->deadline);
	if (st->ssl != NULL)
		SSL_free(st->ssl);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

static void nego_end(struct check_run *run, bool up, const char *why)
{
	nego_close(run, run->impl);
	check_run_finish(run, up, "%s", why);
}

/* The last OpenSSL error in words (verification failures say why). */
static const char *tls_error(struct nego_state *st, char *buf, size_t len)
{
	long vr = st->ssl ? SSL_get_verify_result(st->ssl) : X509_V_OK;
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (vr != X509_V_OK)
		snprintf(buf, len, "certificate: %s", X509_verify_cert_error_string(vr));
	else if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", strerror(errno));
	return buf;
}

/* Waits for what the stream needs next. */
static void want(struct check_run *run, struct nego_state *st, unsigned int events)
{
	if (ev_io_set(run->loop, &st->io, events) != 0)
		nego_end(run, false, "epoll failed");
}

/* TLS-aware read/write: bytes, 0 at end of stream, -1 would block (want set), -2 error. */
static ssize_t stream_io(struct check_run *run, struct nego_state *st, void *buf, size_t len,
			 bool writing, char *why, size_t whylen)
{
	if (st->ssl == NULL) {
		ssize_t n = writing ? send(st->fd, buf, len, MSG_NOSIGNAL) : recv(st->fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EINTR) {
			want(run, st, writing ? EV_WRITE : EV_READ);
			return -1;
		}
		snprintf(why, whylen, "%s: %s", writing ? "send" : "recv", strerror(errno));
		return -2;
	}
	int n = writing ? SSL_write(st->ssl, buf, (int)len) : SSL_read(st->ssl, buf, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(st->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		want(run, st, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && n == 0 && !writing))
		return 0;
	char tb[120];
	snprintf(why, whylen, "TLS: %s", tls_error(st, tb, sizeof(tb)));
	return -2;
}

static void step(struct check_run *run, struct nego_state *st);

static void on_io(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	(void)loop;
	(void)events;
	struct check_run *run = io->arg;

	step(run, run->impl);
}

/* The dialogue's goodbye (QUIT, LOGOUT, an unbind): sent once if it fits, never waited for. */
static void say_goodbye(struct nego_state *st)
{
	if (st->dlg.tx_len == 0 || st->fd < 0)
		return;
	if (st->ssl != NULL)
		(void)SSL_write(st->ssl, st->dlg.tx, (int)st->dlg.tx_len);
	else
		(void)send(st->fd, st->dlg.tx, st->dlg.tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	ERR_clear_error();
}

/* Judges a verdict; true when the run ended. */
static bool judge(struct check_run *run, struct nego_state *st, enum check_verdict v)
{
	if (v != CHECK_MORE)
		say_goodbye(st);
	if (v == CHECK_UP) {
		nego_end(run, true, "answered as expected");
		return true;
	}
	if (v == CHECK_DOWN) {
		char why[CHECK_WHY_LEN];
		snprintf(why, sizeof(why), "%s", st->dlg.why);
		nego_end(run, false, why);
		return true;
	}
	st->tx_off = 0;
	return false;
}

/* Drives the run as far as it can go without blocking. */
static void step(struct check_run *run, struct nego_state *st)
{
	char why[CHECK_RUN_WHY_LEN];
	uint8_t buf[4096];

	if (st->ssl != NULL && !st->handshaken) {
		int rc = SSL_connect(st->ssl);
		if (rc != 1) {
			int e = SSL_get_error(st->ssl, rc);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				want(run, st, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
				return;
			}
			char tb[120];
			snprintf(why, sizeof(why), "TLS handshake: %s", tls_error(st, tb, sizeof(tb)));
			nego_end(run, false, why);
			return;
		}
		st->handshaken = true;
	}
	for (;;) {
		while (st->tx_off < st->dlg.tx_len) {
			ssize_t n = stream_io(run, st, st->dlg.tx + st->tx_off,
					      st->dlg.tx_len - st->tx_off, true, why, sizeof(why));
			if (n == -1)
				return;
			if (n < 0) {
				nego_end(run, false, why);
				return;
			}
			st->tx_off += (size_t)n;
		}
		ssize_t n = stream_io(run, st, buf, sizeof(buf), false, why, sizeof(why));
		if (n == -1)
			return;
		if (n == -2) {
			nego_end(run, false, why);
			return;
		}
		/* An empty datagram is a datagram; only a stream ends. */
		bool eof = n == 0 && !run->proto->datagram;
		if (judge(run, st, eof ? check_dialogue_eof(&st->dlg)
				       : check_dialogue_feed(&st->dlg, buf, (size_t)n)))
			return;
		if (eof) {
			nego_end(run, false, "connection closed by the server");
			return;
		}
	}
}

static void nego_timeout(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct check_run *run = t->arg;
	struct nego_state *st = run->impl;
	char why[CHECK_RUN_WHY_LEN];

	(void)loop;
	(void)late_ns;
	snprintf(why, sizeof(why), "no %s answer within %.1f s", st->dlg.proto->name,
		 run->timeout_ns / 1e9);
	nego_end(run, false, why);
}

/* The checker's own address: sip puts it in its headers. */
static void local_address(struct nego_state *st)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	st->local_addr[0] = '\0';
	if (getsockname(st->fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, st->local_addr, sizeof(st->local_addr));
		st->params.local_port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, st->local_addr, sizeof(st->local_addr));
		st->params.local_port = ntohs(a->sin6_port);
	}
}

static int tls_begin(struct check_run *run, struct nego_state *st, char *why, size_t whylen)
{
	SSL_CTX *ctx = tls_ctx_get(run->cfg, why, whylen);
	struct in6_addr scratch;

	if (ctx == NULL || (st->ssl = SSL_new(ctx)) == NULL)
		return -1;
	SSL_set_fd(st->ssl, st->fd);
	/* SNI and the name verified: the check's host, when it is a name and not an address. */
	bool is_name = run->cfg->host[0] != '\0' && inet_pton(AF_INET, run->cfg->host, &scratch) != 1 &&
		       inet_pton(AF_INET6, run->cfg->host, &scratch) != 1;
	if (is_name)
		SSL_set_tlsext_host_name(st->ssl, run->cfg->host);
	if (run->cfg->verify && is_name)
		SSL_set1_host(st->ssl, run->cfg->host);
	return 0;
}

static void connected(struct ev_loop *loop, int fd, int err, void *arg)
{
	struct check_run *run = arg;
	struct nego_state *st = run->impl;
	char why[CHECK_RUN_WHY_LEN];

	st->connect_op = NULL;
	if (fd < 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		nego_end(run, false, why);
		return;
	}
	st->fd = fd;
	local_address(st);
	if (run->proto->tls && tls_begin(run, st, why, sizeof(why)) != 0) {
		nego_end(run, false, why);
		return;
	}
	check_dialogue_begin(&st->dlg, run->proto, &st->params);
	if (st->dlg.tx_len == 0 && st->dlg.why[0] != '\0') { /* it could not even build a request */
		snprintf(why, sizeof(why), "%s", st->dlg.why);
		nego_end(run, false, why);
		return;
	}
	if (ev_io_start(loop, &st->io, fd, EV_READ | EV_WRITE, on_io, run) != 0) {
		nego_end(run, false, "epoll failed");
		return;
	}
	st->io_on = true;
	step(run, st);
}

static void fill_params(struct check_run *run, struct nego_state *st)
{
	const struct lb_check_cfg *c = run->cfg;
	struct check_params *p = &st->params;

	/* ldirectord's virtualhost: the Host header (and SNI) default to the real's address. */
	snprintf(st->host, sizeof(st->host), "%s", c->host[0] ? c->host : run->rip);
	p->host = st->host;
	p->request = c->request;
	p->method = c->method;
	p->login = c->login;
	p->password = c->password;
	p->database = c->database;
	p->receive = c->receive;
	p->receive_re = run->receive_re;
	p->n_status = c->n_status;
	memcpy(p->status_lo, c->status_lo, sizeof(p->status_lo));
	memcpy(p->status_hi, c->status_hi, sizeof(p->status_hi));
	p->dns_type = c->dns_type;
	p->id = (uint16_t)random();
	p->local_addr = st->local_addr;
}

static int nego_start(struct check_run *run, char *why, size_t whylen)
{
	struct nego_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return lb_err(why, whylen, "out of memory");
	st->fd = -1;
	fill_params(run, st);
	run->impl = st;
	ev_timer_init(&st->deadline, nego_timeout, run);
	st->dlg.proto = run->proto; /* named in a timeout before the dialogue begins */
	st->connect_op = ev_connect(run->loop, run->proto->datagram ? SOCK_DGRAM : SOCK_STREAM,
				    (const struct sockaddr *)&run->addr, run->addrlen, 0, connected,
				    run);
	if (st->connect_op == NULL || ev_timer_start(run->loop, &st->deadline, run->timeout_ns, 0)) {
		int e = errno;
		nego_close(run, st);
		run->impl = NULL;
		return lb_err(why, whylen, "socket: %s", strerror(e));
	}
	return 0;
}

static void nego_cancel(struct check_run *run)
{
	if (run->impl != NULL)
		nego_close(run, run->impl);
}

const struct check_runner check_runner_negotiate = {
	.name = "negotiate",
	.start = nego_start,
	.cancel = nego_cancel,
};
