/*
 * Helpers for the text-protocol check dialogues (smtp, ftp, pop3, imap): numbered multi-line
 * replies, quoting what a server said into a reason, and refusing arguments that would inject
 * a second command.
 */
#ifndef DPDK_LB_CHECK_TEXT_H
#define DPDK_LB_CHECK_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check_dialogue.h"

#define CHECK_QUOTE_LEN 80 /* room for the server text quoted in a reason */

/* One numbered reply ("220 ready", or "250-a" ... "250 z") at the start of d->rx. */
struct check_numbered_reply {
	unsigned code;       /* 0-999 */
	const uint8_t *text; /* the first line after the code and separator, line end excluded */
	size_t text_len;
	size_t len;          /* bytes of the whole reply, to consume */
};

/*
 * Finds one complete numbered reply (RFC 5321 / RFC 959 multi-line rules: a "CODE-" first line,
 * then any lines up to one starting "CODE " or being just "CODE") at the start of d->rx.
 * *scan is where the search resumes: 0 for a new reply, kept by the caller between feeds so a
 * long reply arriving in small reads is not rescanned. 1: r is filled; 0: incomplete; -1: the
 * first line is not a numbered reply.
 */
int check_numbered_reply(const struct check_dialogue *d, size_t *scan,
			 struct check_numbered_reply *r);

/*
 * Takes the next whole numbered reply off d->rx for protocol proto ("SMTP"), keeping the
 * resumable scan position in d->scratch: 1 with r filled and the server's first line quoted
 * into said (the reply is consumed); 0 with *v = CHECK_MORE when it is incomplete; -1 with
 * *v = CHECK_DOWN ("not an SMTP reply: ...") when it is no numbered reply.
 */
int check_next_numbered_reply(struct check_dialogue *d, const char *proto,
			      struct check_numbered_reply *r, char said[CHECK_QUOTE_LEN],
			      enum check_verdict *v);

/* Writes the first line of s (n bytes, up to CR or LF) into out as printable ASCII ('?' for
 * other bytes), truncated to cap - 1 characters; returns out. */
const char *check_text_quote(char *out, size_t cap, const uint8_t *s, size_t n);

/* True when s can be sent as one command argument: no CR, LF or other control character. */
bool check_text_is_safe_arg(const char *s);

#endif
