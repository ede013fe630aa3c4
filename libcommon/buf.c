#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void buf_free_wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
}

static bool buf_reserve(struct buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > b->max - b->len) {
		b->failed = true;
		return false;
	}
	if (b->len + n <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	/* Not realloc: the old block is wiped, so a buffer that held a password leaves no copy. */
	uint8_t *p = malloc(cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	if (b->data) {
		memcpy(p, b->data, b->len);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void *buf_extend(struct buf *b, size_t n)
{
	/* Reserve at least one byte so the result is never NULL + 0. */
	if (!buf_reserve(b, n ? n : 1))
		return NULL;
	void *p = b->data + b->len;
	b->len += n;
	return p;
}

void buf_put_bytes(struct buf *b, const void *p, size_t n)
{
	void *dst = buf_extend(b, n);
	if (dst && n)
		memcpy(dst, p, n);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
	buf_put_bytes(b, &v, sizeof(v));
}

void buf_put_u64(struct buf *b, uint64_t v)
{
	buf_put_bytes(b, &v, sizeof(v));
}

void buf_put_str(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > UINT32_MAX - 1) {
		b->failed = true;
		return;
	}
	buf_put_u32(b, (uint32_t)n);
	buf_put_bytes(b, s ? s : "", n);
	buf_put_bytes(b, "", 1);
}

void buf_patch_u32(struct buf *b, size_t at, uint32_t v)
{
	if (b->failed || at > b->len || b->len - at < sizeof(v)) {
		b->failed = true;
		return;
	}
	memcpy(b->data + at, &v, sizeof(v));
}

void cursor_init(struct cursor *c, const void *p, size_t n)
{
	c->p = p;
	c->left = p ? n : 0;
	c->failed = false;
}

const void *cursor_bytes(struct cursor *c, size_t n)
{
	if (c->failed || n > c->left) {
		c->failed = true;
		return NULL;
	}
	const void *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

/* The next n bytes copied into v, which the caller zeroed: it stays zero when they are not there. */
static void cursor_copy(struct cursor *c, void *v, size_t n)
{
	const void *p = cursor_bytes(c, n);
	if (p)
		memcpy(v, p, n);
}

uint32_t cursor_u32(struct cursor *c)
{
	uint32_t v = 0;
	cursor_copy(c, &v, sizeof(v));
	return v;
}

uint64_t cursor_u64(struct cursor *c)
{
	uint64_t v = 0;
	cursor_copy(c, &v, sizeof(v));
	return v;
}

const char *cursor_str(struct cursor *c, uint32_t *len)
{
	uint32_t n = cursor_u32(c);
	if (c->failed || n >= c->left) {
		c->failed = true;
		return NULL;
	}
	const char *s = cursor_bytes(c, (size_t)n + 1);
	if (!s || s[n] != '\0' || memchr(s, '\0', n)) {
		c->failed = true;
		return NULL;
	}
	if (len)
		*len = n;
	return s;
}

bool cursor_done(const struct cursor *c)
{
	return !c->failed && c->left == 0;
}
