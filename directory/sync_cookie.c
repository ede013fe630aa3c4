#include "sync_cookie.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COOKIE 4096
#define MAX_CSNS 64

struct field {
	const char *p;
	size_t len;
};

/* The component of cookie c starting with `key` (e.g. "csn="): its value. */
static bool component(const struct berval *c, const char *key, struct field *value)
{
	const char *p = c->bv_val, *end = p + c->bv_len;
	size_t klen = strlen(key);
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p)), *stop = comma ? comma : end;
		if ((size_t)(stop - p) >= klen && !memcmp(p, key, klen)) {
			value->p = p + klen;
			value->len = (size_t)(stop - p) - klen;
			return true;
		}
		p = comma ? comma + 1 : end;
	}
	return false;
}

/* A CSN's serverID: its third '#' field ("20261202051155.103981Z#000000#001#000000"). */
static bool csn_sid(struct field csn, struct field *sid)
{
	const char *p = csn.p, *end = csn.p + csn.len;
	for (int i = 0; i < 2; i++) {
		p = memchr(p, '#', (size_t)(end - p));
		if (!p)
			return false;
		p++;
	}
	const char *hash = memchr(p, '#', (size_t)(end - p));
	if (!hash || hash == p)
		return false;
	sid->p = p;
	sid->len = (size_t)(hash - p);
	return true;
}

static int field_cmp(struct field a, struct field b)
{
	int r = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);
	return r ? r : (a.len > b.len) - (a.len < b.len);
}

/* Adds each CSN of list to csns[], keeping per serverID the greater.  false: not slapd's form. */
static bool add_csns(struct field list, struct field *csns, struct field *sids, size_t *n)
{
	const char *p = list.p, *end = list.p + list.len;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p)), *stop = semi ? semi : end;
		struct field csn = { p, (size_t)(stop - p) }, sid;
		if (!csn_sid(csn, &sid))
			return false;
		size_t i = 0;
		while (i < *n && field_cmp(sids[i], sid))
			i++;
		if (i == *n) {
			if (*n == MAX_CSNS)
				return false;
			sids[i] = sid;
			csns[i] = csn;
			(*n)++;
		} else if (field_cmp(csn, csns[i]) > 0) {
			csns[i] = csn;
		}
		p = semi ? semi + 1 : end;
	}
	return true;
}

static struct berval *copy(const struct berval *c)
{
	return ber_dupbv(NULL, (struct berval *)c);
}

static void swap(struct field *a, struct field *b)
{
	struct field t = *a;
	*a = *b;
	*b = t;
}

/* next with its csn= value (old) replaced by csns[], in the order of their serverIDs. */
static struct berval *rebuild(const struct berval *next, struct field old, struct field *csns,
			      struct field *sids, size_t n)
{
	for (size_t i = 1; i < n; i++) /* insertion sort: n is the number of providers */
		for (size_t j = i; j > 0 && field_cmp(sids[j - 1], sids[j]) > 0; j--) {
			swap(&sids[j], &sids[j - 1]);
			swap(&csns[j], &csns[j - 1]);
		}
	size_t head = (size_t)(old.p - next->bv_val), len = head;
	size_t rest = next->bv_len - head - old.len;
	for (size_t i = 0; i < n; i++)
		len += csns[i].len + (i > 0);
	struct berval *out = ber_memalloc(sizeof(*out));
	char *buf = ber_memalloc(len + rest + 1);
	if (!out || !buf) {
		ber_memfree(out);
		ber_memfree(buf);
		return NULL;
	}
	memcpy(buf, next->bv_val, head);
	len = head;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[len++] = ';';
		memcpy(buf + len, csns[i].p, csns[i].len);
		len += csns[i].len;
	}
	memcpy(buf + len, old.p + old.len, rest);
	buf[len + rest] = '\0';
	out->bv_val = buf;
	out->bv_len = len + rest;
	return out;
}

struct berval *sync_cookie_merge(const struct berval *known, const struct berval *next)
{
	struct field have, got, csns[MAX_CSNS], sids[MAX_CSNS];
	size_t n = 0;
	if (!known || known->bv_len > MAX_COOKIE || next->bv_len > MAX_COOKIE ||
	    !component(known, "csn=", &have) || !component(next, "csn=", &got) ||
	    !add_csns(got, csns, sids, &n) || !add_csns(have, csns, sids, &n))
		return copy(next);
	return rebuild(next, got, csns, sids, n);
}

struct berval *sync_cookie_to_send(const struct berval *stored)
{
	struct berval *c = copy(stored);
	struct field sid;
	if (!c || !component(c, "sid=", &sid))
		return c;
	/* The component and the comma after it (or, last, the one before it). */
	char *start = (char *)sid.p - 4, *end = (char *)sid.p + sid.len;
	if (end < c->bv_val + c->bv_len)
		end++;
	else if (start > c->bv_val)
		start--;
	memmove(start, end, (size_t)(c->bv_val + c->bv_len - end));
	c->bv_len -= (ber_len_t)(end - start);
	c->bv_val[c->bv_len] = '\0';
	return c;
}

bool sync_cookie_held(const struct berval *position, struct berval *const *held)
{
	struct field want, csns[MAX_CSNS], sids[MAX_CSNS], have[MAX_CSNS], have_sids[MAX_CSNS];
	size_t n = 0, n_have = 0;
	if (position->bv_len > MAX_COOKIE || !component(position, "csn=", &want) || !want.len ||
	    !add_csns(want, csns, sids, &n))
		return false;
	for (size_t i = 0; held && held[i]; i++) {
		struct field v = { held[i]->bv_val, held[i]->bv_len };
		if (v.len > MAX_COOKIE || !add_csns(v, have, have_sids, &n_have))
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < n_have && field_cmp(have_sids[j], sids[i]))
			j++;
		if (j == n_have || field_cmp(have[j], csns[i]) < 0)
			return false;
	}
	return true;
}

/* Whether s matches pattern: 'd' a decimal digit, 'x' a hex digit, anything else itself. */
static bool shaped(const char *s, size_t len, const char *pattern)
{
	if (len != strlen(pattern))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i], want = pattern[i];
		bool digit = c >= '0' && c <= '9', hex = digit || (c >= 'a' && c <= 'f');
		if (want == 'd' ? !digit : want == 'x' ? !hex : c != want)
			return false;
	}
	return true;
}

/* slapd's CSNs as slapd reads them: time#count#sid#mod, the fields of a fixed width. */
static bool csns_well_formed(struct field list)
{
	const char *p = list.p, *end = list.p + list.len;
	for (;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p)), *stop = semi ? semi : end;
		if (!shaped(p, (size_t)(stop - p), "dddddddddddddd.ddddddZ#xxxxxx#xxx#xxxxxx"))
			return false;
		if (!semi)
			return true;
		p = semi + 1;
	}
}

bool sync_cookie_usable(const struct berval *stored)
{
	struct field list;
	if (!stored->bv_len)
		return false;
	if (stored->bv_len < 4 || memcmp(stored->bv_val, "rid=", 4) != 0)
		return true; /* another server's form: opaque */
	return stored->bv_len <= MAX_COOKIE && component(stored, "csn=", &list) &&
	       csns_well_formed(list);
}
