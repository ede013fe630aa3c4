#include "sid.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Binary: revision (1 byte), sub-authority count (1), authority (6, big-endian), then count
 * sub-authorities (4 each, little-endian). */
int sid_from_binary(const void *data, size_t len, struct sid *out)
{
	const uint8_t *p = data;
	if (!p || len < 8)
		return -1;
	uint8_t n = p[1];
	if (p[0] != 1 || n > SID_MAX_SUB_AUTHS || len != 8 + 4 * (size_t)n)
		return -1;
	memset(out, 0, sizeof(*out));
	out->revision = 1;
	out->n_sub = n;
	for (int i = 0; i < 6; i++)
		out->authority = out->authority << 8 | p[2 + i];
	for (uint8_t i = 0; i < n; i++) {
		const uint8_t *q = p + 8 + 4 * i;
		out->sub[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
			      (uint32_t)q[3] << 24;
	}
	return 0;
}

size_t sid_to_binary(const struct sid *s, uint8_t *out)
{
	/* n_sub is at most SID_MAX_SUB_AUTHS by construction; the bound also tells the compiler
	 * (under -O3 it otherwise assumes up to 255 and warns of an overflow of out). */
	uint8_t n_sub = s->n_sub < SID_MAX_SUB_AUTHS ? s->n_sub : SID_MAX_SUB_AUTHS;
	out[0] = 1;
	out[1] = n_sub;
	for (int i = 0; i < 6; i++)
		out[2 + i] = (uint8_t)(s->authority >> (8 * (5 - i)));
	for (uint8_t i = 0; i < n_sub; i++) {
		uint8_t *q = out + 8 + 4 * i;
		q[0] = (uint8_t)s->sub[i];
		q[1] = (uint8_t)(s->sub[i] >> 8);
		q[2] = (uint8_t)(s->sub[i] >> 16);
		q[3] = (uint8_t)(s->sub[i] >> 24);
	}
	return 8 + 4 * (size_t)n_sub;
}

/* A decimal number of at most `max`, digits only; advances *p past it. */
static int parse_decimal(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t n = 0;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1; /* no sign, no leading zeros */
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > max)
			return -1;
	}
	*p = s;
	*out = n;
	return 0;
}

int sid_from_string(const char *text, struct sid *out)
{
	uint64_t v;
	const char *p = text;
	if (!p || (p[0] != 'S' && p[0] != 's') || p[1] != '-')
		return -1;
	p += 2;
	memset(out, 0, sizeof(*out));
	if (parse_decimal(&p, 255, &v) < 0 || v != 1 || *p++ != '-' ||
	    parse_decimal(&p, (1ULL << 48) - 1, &out->authority) < 0)
		return -1;
	out->revision = 1;
	while (*p == '-') {
		p++;
		if (out->n_sub == SID_MAX_SUB_AUTHS || parse_decimal(&p, UINT32_MAX, &v) < 0)
			return -1;
		out->sub[out->n_sub++] = (uint32_t)v;
	}
	return *p == '\0' ? 0 : -1;
}

void sid_to_string(const struct sid *s, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "S-1-%" PRIu64, s->authority);
	for (uint8_t i = 0; i < s->n_sub && n > 0 && (size_t)n < outlen; i++)
		n += snprintf(out + n, outlen - (size_t)n, "-%" PRIu32, s->sub[i]);
}

void sid_filter_value(const struct sid *s, char *out, size_t outlen)
{
	uint8_t bin[SID_MAX_BINARY];
	size_t len = sid_to_binary(s, bin), n = 0;
	if (!outlen)
		return;
	for (size_t i = 0; i < len && n + 4 <= outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "\\%02x", bin[i]);
	out[n] = '\0';
}

bool sid_split_rid(const struct sid *s, struct sid *domain, uint32_t *rid)
{
	/* S-1-5-21-a-b-c-RID: NT authority, the "non-unique" 21 prefix, three domain numbers. */
	if (s->authority != 5 || s->n_sub != 5 || s->sub[0] != 21)
		return false;
	if (domain) {
		*domain = *s;
		domain->n_sub--;
		domain->sub[domain->n_sub] = 0;
	}
	*rid = s->sub[s->n_sub - 1];
	return true;
}

bool sid_append_rid(const struct sid *domain, uint32_t rid, struct sid *out)
{
	if (domain->n_sub >= SID_MAX_SUB_AUTHS)
		return false;
	*out = *domain;
	out->sub[out->n_sub++] = rid;
	return true;
}

bool sid_equal(const struct sid *a, const struct sid *b)
{
	return a->authority == b->authority && a->n_sub == b->n_sub &&
	       !memcmp(a->sub, b->sub, a->n_sub * sizeof(a->sub[0]));
}

bool sid_is_builtin(const struct sid *s)
{
	return s->authority == 5 && s->n_sub >= 1 && s->sub[0] == 32;
}
