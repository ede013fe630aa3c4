#include "ssh_key.h"

#include <resolv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* How many bytes from p are ASCII letters, digits or in `more`. */
static size_t span(const char *p, const char *end, const char *more)
{
	size_t n = 0;
	while (p + n < end && p[n] && (strchr(more, p[n]) || (p[n] >= 'a' && p[n] <= 'z') ||
				       (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
		n++;
	return n;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A key blob (RFC 4253 6.6): length-prefixed fields that fill it exactly, the first the type's
 * name, then the key itself (ssh-rsa: e, n; ssh-ed25519: the point; ecdsa: curve, point). */
static bool is_key_blob(const unsigned char *blob, size_t n, const char *type, size_t tl)
{
	if (n < 4 + tl || get_u32(blob) != tl || memcmp(blob + 4, type, tl))
		return false;
	size_t off = 4 + tl, fields = 1;
	while (n - off >= 4 && get_u32(blob + off) <= n - off - 4) {
		off += 4 + get_u32(blob + off);
		fields++;
	}
	return off == n && fields >= 2;
}

/* "keytype blob [comment]" at p: NULL when the blob is a key of that type. */
static const char *check_key(const char *p, const char *end)
{
	/* ssh-ed25519, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com, ... */
	size_t tl = span(p, end, "@._-");
	if (!tl || p + tl == end || !is_blank(p[tl]))
		return "no key type followed by a key";
	const char *blob = p + tl;
	while (blob < end && is_blank(*blob))
		blob++;
	size_t bl = span(blob, end, "+/=");
	if (!bl || (blob + bl < end && !is_blank(blob[bl])))
		return "the key is not base64";
	char *text = strndup(blob, bl);
	size_t cap = bl / 4 * 3 + 3;
	unsigned char *raw = malloc(cap);
	int n = text && raw ? b64_pton(text, raw, cap) : -1;
	const char *why = NULL;
	if (n < 0)
		why = text && raw ? "the key is not base64" : "out of memory";
	else if (!is_key_blob(raw, (size_t)n, p, tl))
		why = "the key is cut short, or not a key of the type it names";
	free(text);
	free(raw);
	return why;
}

const char *ssh_key_check(const char *line, size_t len)
{
	const char *end = line + len;
	if (len > DIR_MAX_SSH_KEY_LEN)
		return "longer than a key can be";
	for (const char *p = line; p < end; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return "a control character";
	const char *why = check_key(line, end);
	if (!why)
		return NULL;
	/* options first: up to a blank outside double quotes */
	const char *p = line;
	bool quoted = false;
	for (; p < end && (quoted || !is_blank(*p)); p++) {
		if (*p == '\\' && quoted && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
	}
	if (quoted)
		return why;
	while (p < end && is_blank(*p))
		p++;
	/* Neither way: say what is wrong with the line read as a key without options. */
	return p < end && !check_key(p, end) ? NULL : why;
}

/* Malformed lines named in the log for one user, the rest only counted: a user who may write
 * his own keys could otherwise have each refresh log a line for each of a million lines. */
#define LOGGED_MALFORMED 3

/* Lines left out of a user's keys. */
struct left_out {
	unsigned malformed;	/* the first LOGGED_MALFORMED named in the log */
	unsigned past_max;	/* good keys past DIR_MAX_SSH_KEYS */
};

/* Adds the line at s (len bytes) to keys, unless it is blank, malformed or one too many
 * (counted in *out). */
static int take_line(const char *s, size_t len, const char *attr, const char *user, char ***keys,
		     uint32_t *n, struct left_out *out)
{
	while (len && (is_blank(*s) || *s == '\r'))
		s++, len--;
	while (len && (is_blank(s[len - 1]) || s[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	const char *why = ssh_key_check(s, len);
	if (why) {
		if (++out->malformed <= LOGGED_MALFORMED)
			log_warning("user %s: skipped a value of %s: %s", user, attr, why);
		return 0;
	}
	if (*n == DIR_MAX_SSH_KEYS) {
		out->past_max++;
		return 0;
	}
	char **grown = realloc(*keys, ((size_t)*n + 1) * sizeof(char *));
	if (!grown)
		return -1;
	*keys = grown;
	if (!(grown[*n] = strndup(s, len)))
		return -1;
	(*n)++;
	return 0;
}

int ssh_keys_read(const struct berval *v, const char *attr, const char *user, char ***keys,
		  uint32_t *n)
{
	int rc = 0;
	struct left_out out = { 0, 0 };
	for (size_t i = 0; v && v[i].bv_val && rc == 0; i++) {
		const char *s = v[i].bv_val, *end = s + v[i].bv_len;
		while (s < end && rc == 0) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *stop = nl ? nl : end;
			rc = take_line(s, (size_t)(stop - s), attr, user, keys, n, &out);
			s = nl ? nl + 1 : end;
		}
	}
	if (out.malformed > LOGGED_MALFORMED)
		log_warning("user %s: skipped %u more malformed lines of %s", user,
			    out.malformed - LOGGED_MALFORMED, attr);
	if (out.past_max)
		log_warning("user %s: more than %d keys in %s; %u left out", user, DIR_MAX_SSH_KEYS,
			    attr, out.past_max);
	return rc;
}
