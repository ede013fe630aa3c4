/* Bounds-checked marshalling: the one API that writes and reads every byte we send over a
 * socket or store in the NSS index.  Integers are host order (both ends are on one host).
 * Strings are a u32 length, the bytes and a NUL, so a reader can hand them out in place.
 * Errors are sticky: after the first overrun every call fails and `failed` stays set, so
 * callers check once at the end. */
#ifndef DIR_BUF_H
#define DIR_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* growth stops here */
	bool failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* For buffers that held a secret: zeroes every byte before freeing.  Growth never leaves an
 * unwiped copy behind either. */
void buf_free_wipe(struct buf *b);
void buf_reset(struct buf *b);
void buf_put_bytes(struct buf *b, const void *p, size_t n);
/* Appends n bytes for the caller to fill; NULL (and failed) when they do not fit. */
void *buf_extend(struct buf *b, size_t n);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
void buf_put_str(struct buf *b, const char *s);
/* Overwrite a u32 written earlier at offset `at` (for length prefixes). */
void buf_patch_u32(struct buf *b, size_t at, uint32_t v);

struct cursor {
	const uint8_t *p;
	size_t left;
	bool failed;
};

void cursor_init(struct cursor *c, const void *p, size_t n);
uint32_t cursor_u32(struct cursor *c);
uint64_t cursor_u64(struct cursor *c);
/* Returns a pointer into the input, NUL-terminated and free of inner NULs, or NULL. */
const char *cursor_str(struct cursor *c, uint32_t *len);
const void *cursor_bytes(struct cursor *c, size_t n);
bool cursor_done(const struct cursor *c); /* consumed exactly, no error */

#endif
