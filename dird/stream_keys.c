/* The change streams' keys: their names, the ids packed, what is read back checked
 * (stream_keys.h). */
#include "stream_keys.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "member_dns.h"
#include "protocol.h"

/* A packed id's first byte: how the rest is to be read. */
#define PACKED_UUID 'u'	/* an entryUUID's 16 bytes (RFC 4122 text, lowercase) */
#define PACKED_TEXT 't'	/* any other id (an AD poll's SIDs), as it came */
#define UUID_LEN 16
/* The escape of a packed id: 0 as ESCAPE 1, ESCAPE as ESCAPE 2. */
#define ESCAPE 1

char *stream_key(const char *prefix, const char *domain, const char *s)
{
	/* by hand, not asprintf: a stream's first read makes some ten million keys */
	size_t np = strlen(prefix), nd = domain ? strlen(domain) + 1 : 0, ns = strlen(s);
	char *k = malloc(np + nd + ns + 1);
	if (!k)
		return NULL;
	memcpy(k, prefix, np);
	if (domain) {
		memcpy(k + np, domain, nd - 1);
		k[np + nd - 1] = '/';
	}
	memcpy(k + np + nd, s, ns + 1);
	return k;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An entryUUID as RFC 4122 writes it (lowercase): its 16 bytes.  Only that text maps to them,
 * so two ids pack the same only when they are the same. */
static bool uuid_parse(const char *s, unsigned char *out)
{
	if (strlen(s) != 36)
		return false;
	size_t n = 0;
	int hi = -1;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		int x = dash ? -1 : hex_digit(s[i]);
		if (dash ? s[i] != '-' : x < 0)
			return false;
		if (dash)
			continue;
		if (hi < 0) {
			hi = x;
		} else {
			out[n++] = (unsigned char)(hi << 4 | x);
			hi = -1;
		}
	}
	return n == UUID_LEN;
}

/* b (n bytes) escaped after the tag into a new string. */
static char *escaped(char tag, const unsigned char *b, size_t n)
{
	char *out = malloc(2 + 2 * n), *p = out;
	if (!out)
		return NULL;
	*p++ = tag;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == 0 || b[i] == ESCAPE) {
			*p++ = ESCAPE;
			*p++ = (char)(b[i] + 1);
		} else {
			*p++ = (char)b[i];
		}
	}
	*p = '\0';
	return out;
}

char *stream_id_pack(const char *id)
{
	unsigned char b[UUID_LEN];
	if (uuid_parse(id, b))
		return escaped(PACKED_UUID, b, UUID_LEN);
	return escaped(PACKED_TEXT, (const unsigned char *)id, strlen(id));
}

bool stream_id_ok(const char *v, size_t len)
{
	if (len < 2 || memchr(v, '\0', len))
		return false;
	unsigned char b[CHANGES_MAX_ID];
	size_t n = 0;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == ESCAPE) {
			if (++i == len || (v[i] != 1 && v[i] != 2))
				return false;
			c = (unsigned char)(v[i] - 1);
		}
		if (n == sizeof(b))
			return false;
		b[n++] = c;
	}
	switch (v[0]) {
	case PACKED_UUID: return n == UUID_LEN;
	case PACKED_TEXT: return !memchr(b, '\0', n);
	default: return false;
	}
}

/* s, up to end, is text of 1..max bytes with no NUL. */
static bool text_ok(const char *s, const char *end, size_t max)
{
	size_t n = (size_t)(end - s);
	return n && n <= max && !memchr(s, '\0', n);
}

bool stream_entry_parse(const char *v, size_t len, const char **name, const char **dn)
{
	const char *end = v + len, *nul = memchr(v, '\0', len);
	*name = v;
	*dn = nul ? nul + 1 : NULL;
	return text_ok(v, nul ? nul : end, DIR_MAX_NAME) &&
	       (!nul || text_ok(nul + 1, end, CHANGES_MAX_DN));
}

static bool prefixed(const char *key, size_t key_len, const char *prefix)
{
	size_t n = strlen(prefix);
	return key_len > n && memcmp(key, prefix, n) == 0;
}

/* What follows SYNC_X_<domain>/ in key (NULL: no '/'). */
static const char *after_domain(const char *key, size_t key_len)
{
	const char *slash = memchr(key, '/', key_len);
	return slash ? slash + 1 : NULL;
}

bool stream_key_kept(const char *key, size_t key_len, const void *val, size_t len)
{
	const char *v = val, *rest = after_domain(key, key_len), *name, *dn;
	size_t rest_len = rest ? key_len - (size_t)(rest - key) : 0;
	if (prefixed(key, key_len, STREAM_KEY_POSITION))
		return len && len <= CHANGES_MAX_POSITION;
	if (prefixed(key, key_len, MEMBER_DNS_KEY_MEMBERS) ||
	    prefixed(key, key_len, MEMBER_DNS_KEY_MEMBER_OF))
		return true; /* member_dns.c checks them as it reads them */
	if (!rest || !rest_len)
		return false;
	if (prefixed(key, key_len, STREAM_KEY_ENTRY))
		return stream_id_ok(rest, rest_len) && stream_entry_parse(v, len, &name, &dn);
	if (prefixed(key, key_len, STREAM_KEY_NAME))
		return rest_len <= DIR_MAX_NAME && stream_id_ok(v, len);
	if (prefixed(key, key_len, STREAM_KEY_DN))
		return rest_len <= CHANGES_MAX_DN && stream_id_ok(v, len);
	return false; /* the layout before's, or nobody's */
}

char *stream_key_entry(const char *domain, const char *id)
{
	char *packed = stream_id_pack(id);
	char *k = packed ? stream_key(STREAM_KEY_ENTRY, domain, packed) : NULL;
	free(packed);
	return k;
}
