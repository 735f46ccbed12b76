/*
 * A bounded reader over received bytes, for the binary check dialogues (dns, ldap, mysql): every
 * read checks the bounds first, and a read past the end sets a sticky error instead of touching
 * memory, so a parser can read a whole structure and test ok once.
 */
#ifndef DPDK_LB_BYTE_READER_H
#define DPDK_LB_BYTE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct byte_reader {
	const uint8_t *p;
	size_t len; /* bytes readable from p */
	size_t off; /* the next byte to read */
	bool ok;    /* false once a read went past len; every later read yields 0 */
};

/* A reader over len bytes at p. */
static inline struct byte_reader byte_reader_make(const uint8_t *p, size_t len)
{
	return (struct byte_reader){.p = p, .len = len, .off = 0, .ok = true};
}

/* Bytes left to read (0 after an error). */
static inline size_t byte_reader_left(const struct byte_reader *r)
{
	return r->ok ? r->len - r->off : 0;
}

/* A pointer to the next n bytes, advancing past them; NULL (and the error set) when fewer. */
static inline const uint8_t *byte_reader_take(struct byte_reader *r, size_t n)
{
	if (!r->ok || n > r->len - r->off) {
		r->ok = false;
		return NULL;
	}
	const uint8_t *at = r->p + r->off;
	r->off += n;
	return at;
}

/* One byte, or 0 with the error set. */
static inline uint8_t byte_reader_u8(struct byte_reader *r)
{
	const uint8_t *b = byte_reader_take(r, 1);
	return b ? b[0] : 0;
}

/* A big-endian 16-bit number, or 0 with the error set. */
static inline uint16_t byte_reader_be16(struct byte_reader *r)
{
	const uint8_t *b = byte_reader_take(r, 2);
	return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

/* A big-endian 32-bit number, or 0 with the error set. */
static inline uint32_t byte_reader_be32(struct byte_reader *r)
{
	const uint8_t *b = byte_reader_take(r, 4);
	return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

/* A little-endian number of n bytes (1-4), or 0 with the error set. */
static inline uint32_t byte_reader_le(struct byte_reader *r, size_t n)
{
	const uint8_t *b = byte_reader_take(r, n);
	uint32_t v = 0;

	for (size_t i = b ? n : 0; i > 0; i--)
		v = v << 8 | b[i - 1];
	return v;
}

/* Skips n bytes; false (and the error set) when fewer are left. */
static inline bool byte_reader_skip(struct byte_reader *r, size_t n)
{
	return byte_reader_take(r, n) != NULL;
}

#endif
