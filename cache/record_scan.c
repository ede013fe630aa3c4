/* The tdb records' JSON read without json-c (record_scan.h): a dird that starts reads a million
 * of them, and json-c's objects cost some twenty allocations each.  One pass notes where each
 * field's text is; the strings are then copied out into one block. */
#include "record_scan.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "sid.h"

#define MAX_DEPTH 8		/* of values skipped: deeper is json-c's to judge */
#define MAX_DIGITS 18		/* an int64 whatever the digits */

struct scan {
	const char *p, *end;
	bool fail;		/* outside the subset (or malformed): json-c decides */
};

/* A JSON string's text between its quotes, and its length once unescaped. */
struct span {
	const char *s;
	size_t len, out_len;
	bool set;		/* the key was there */
	bool null;		/* its value was null */
};

static bool at(const struct scan *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static void ws(struct scan *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static void expect(struct scan *c, char ch)
{
	ws(c);
	if (at(c, ch))
		c->p++;
	else
		c->fail = true;
	ws(c);
}

static int hex(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* The escape at e (after its '\\'): its byte, or -1 for one outside the subset (\u beyond
 * ASCII, \u0000). */
static int escaped(const char *e, const char *end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = e < end ? memchr(from, *e, sizeof(from) - 1) : NULL;
	if (k)
		return to[k - from];
	if (end - e < 5 || *e != 'u' || e[1] != '0' || e[2] != '0' || hex(e[3]) < 0 ||
	    hex(e[4]) < 0 || hex(e[3]) > 7)
		return -1;
	int v = hex(e[3]) * 16 + hex(e[4]);
	return v ? v : -1;
}

/* A mark in each byte of w that is zero (exact: no carry crosses from one byte to the next). */
static uint64_t zero_bytes(uint64_t w)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	return ~(((w & low7) + low7) | w | low7);
}

/* The first byte from p on (up to end) that ends a string's plain text: '"', '\\' or a
 * control character.  Eight bytes a step where it can: the records' strings are most of the
 * text a start reads. */
static const char *plain_text(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, sizeof(w));
		uint64_t stop = zero_bytes(w ^ ('"' * ones)) | zero_bytes(w ^ ('\\' * ones)) |
				zero_bytes(w & (0xe0 * ones));
		if (stop)
			return p + __builtin_ctzll(stop) / 8;
		p += 8;
	}
#endif
	while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

static void string(struct scan *c, struct span *out)
{
	if (!at(c, '"')) {
		c->fail = true;
		return;
	}
	const char *s = ++c->p;
	size_t escapes = 0; /* bytes of escapes beyond the byte each stands for */
	for (;;) {
		c->p = plain_text(c->p, c->end);
		if (c->p >= c->end || *c->p != '\\')
			break;
		if (escaped(c->p + 1, c->end) < 0) {
			c->fail = true;
			return;
		}
		size_t n = c->p[1] == 'u' ? 6 : 2;
		c->p += n;
		escapes += n - 1;
	}
	if (c->p >= c->end || *c->p != '"') { /* the end, or a control character (NUL too) */
		c->fail = true;
		return;
	}
	size_t len = (size_t)(c->p - s);
	*out = (struct span){ s, len, len - escapes, true, false };
	c->p++;
}

/* The text unescaped into out, NUL-terminated; out + its length + 1. */
static char *unescape(const struct span *sp, char *out)
{
	const char *s = sp->s, *end = sp->s + sp->len;
	if (sp->out_len == sp->len) {
		memcpy(out, s, sp->len);
		out += sp->len;
	} else {
		while (s < end) {
			if (*s != '\\') {
				*out++ = *s++;
				continue;
			}
			*out++ = (char)escaped(s + 1, end);
			s += s[1] == 'u' ? 6 : 2;
		}
	}
	*out++ = '\0';
	return out;
}

/* An integer (no fraction, no exponent, no leading zero). */
static int64_t integer(struct scan *c)
{
	bool neg = at(c, '-');
	c->p += neg;
	const char *start = c->p;
	int64_t v = 0;
	for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++)
		if (c->p - start < MAX_DIGITS)
			v = v * 10 + (*c->p - '0');
	size_t n = (size_t)(c->p - start);
	if (!n || n > MAX_DIGITS || (n > 1 && *start == '0') || at(c, '.') || at(c, 'e') ||
	    at(c, 'E'))
		c->fail = true;
	return neg ? -v : v;
}

static bool word(struct scan *c, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static void skip_value(struct scan *c, int depth);

/* The members of an array (or an object's pairs) up to its closing char; each skipped. */
static void skip_items(struct scan *c, char close, int depth)
{
	c->p++;
	ws(c);
	for (bool first = true; !c->fail && !at(c, close); first = false) {
		if (!first)
			expect(c, ',');
		if (close == '}') {
			struct span key;
			string(c, &key);
			expect(c, ':');
		}
		skip_value(c, depth + 1);
		ws(c);
	}
	if (!c->fail)
		c->p++;
}

static void skip_value(struct scan *c, int depth)
{
	struct span s;
	if (depth > MAX_DEPTH || c->p >= c->end)
		c->fail = true;
	else if (*c->p == '"')
		string(c, &s);
	else if (*c->p == '{' || *c->p == '[')
		skip_items(c, *c->p == '{' ? '}' : ']', depth);
	else if (!word(c, "true") && !word(c, "false") && !word(c, "null"))
		integer(c);
}

/* A string or null; the key seen twice is json-c's to judge (the last one wins there). */
static void string_or_null(struct scan *c, struct span *out)
{
	if (out->set) {
		c->fail = true;
		return;
	}
	if (word(c, "null")) {
		*out = (struct span){ .set = true, .null = true };
		return;
	}
	string(c, out);
}

struct id {
	int64_t v;
	bool set;
};

static void int_once(struct scan *c, struct id *out)
{
	if (out->set)
		c->fail = true;
	out->v = integer(c);
	out->set = true;
}

/* An id as record_json.c takes it: 0 .. UINT32_MAX - 1. */
static bool id_ok(const struct id *v)
{
	return v->set && v->v >= 0 && v->v <= (int64_t)UINT32_MAX - 1;
}

/* An array of ints (ids) or of strings (names): noted, counted and checked, read later. */
struct list {
	const char *s, *end;	/* its '[', and just past its ']' */
	size_t n, text_len;	/* items; the strings' lengths unescaped, with a NUL each */
	bool set, strings;
};

static void list(struct scan *c, struct list *l)
{
	if (l->set || !at(c, '[')) {
		c->fail = true;
		return;
	}
	l->set = true;
	l->s = c->p++;
	ws(c);
	for (bool first = true; !c->fail && !at(c, ']'); first = false) {
		if (!first)
			expect(c, ',');
		struct span s;
		if (l->strings) {
			string(c, &s);
			l->text_len += s.out_len + 1;
		} else {
			int64_t gid = integer(c);
			c->fail |= gid < 0 || gid >= (int64_t)UINT32_MAX;
		}
		l->n++;
		ws(c);
	}
	if (!c->fail)
		l->end = ++c->p;
}

/* The pairs of an object, each handed to field() with its key (no escapes there: a key spelt
 * with one is json-c's). */
static void object(struct scan *c, void (*field)(struct scan *c, const struct span *key, void *arg),
		   void *arg)
{
	ws(c);
	if (!at(c, '{')) {
		c->fail = true;
		return;
	}
	c->p++;
	ws(c);
	for (bool first = true; !c->fail && !at(c, '}'); first = false) {
		if (!first)
			expect(c, ',');
		struct span key;
		string(c, &key);
		if (!c->fail && key.out_len != key.len)
			c->fail = true;
		expect(c, ':');
		if (!c->fail)
			field(c, &key, arg);
		ws(c);
	}
	if (!c->fail)
		c->p++;
}

static bool is_key(const struct span *key, const char *name)
{
	return key->len == strlen(name) && memcmp(key->s, name, key->len) == 0;
}

/* What a user's and a group's records share. */
struct common {
	struct span domain, sid;
	struct id fetched;
};

static bool common_field(struct scan *c, const struct span *key, struct common *m)
{
	if (is_key(key, "domain"))
		string_or_null(c, &m->domain);
	else if (is_key(key, "sid"))
		string_or_null(c, &m->sid);
	else if (is_key(key, "fetched"))
		int_once(c, &m->fetched);
	else
		return false;
	return true;
}

struct user_text {
	struct common m;
	struct span name, gecos, home, shell, email, keys;
	struct id uid, gid;
	bool group_seen;
	struct list groups;
};

static void group_ref_field(struct scan *c, const struct span *key, void *arg)
{
	struct user_text *t = arg;
	if (is_key(key, "gid"))
		int_once(c, &t->gid);
	else
		skip_value(c, 1);
}

/* The user's string field of this key, or NULL.  Each name a literal: the compiler compares
 * its few bytes in place (a loop over an array of them called memcmp, 4% of a restart). */
static struct span *user_string(struct user_text *t, const struct span *key)
{
	return is_key(key, "username")	? &t->name :
	       is_key(key, "full_name") ? &t->gecos :
	       is_key(key, "home")	? &t->home :
	       is_key(key, "shell")	? &t->shell :
	       is_key(key, "email")	? &t->email :
	       is_key(key, "sshpubkey") ? &t->keys :
					  NULL;
}

static void user_field(struct scan *c, const struct span *key, void *arg)
{
	struct user_text *t = arg;
	struct span *str = user_string(t, key);
	if (str) {
		string_or_null(c, str);
		return;
	}
	if (common_field(c, key, &t->m))
		return;
	if (is_key(key, "uid")) {
		int_once(c, &t->uid);
	} else if (is_key(key, "group")) {
		c->fail |= t->group_seen;
		t->group_seen = true;
		object(c, group_ref_field, t);
	} else if (is_key(key, "groups")) {
		list(c, &t->groups);
	} else {
		skip_value(c, 1);
	}
}

/* A string the record must have (null or missing is json-c's to refuse). */
static bool present(const struct span *s)
{
	return s->set && !s->null;
}

/* The whole text read, nothing after the object. */
static bool scanned(struct scan *c, const char *text, size_t len, void (*field)(struct scan *c,
		    const struct span *key, void *arg), void *arg)
{
	*c = (struct scan){ text, text + len, false };
	if (len > RECORD_SCAN_MAX) /* a NUL byte anywhere fails the scan: no token holds one */
		return false;
	object(c, field, arg);
	return !c->fail && c->p == c->end;
}

/* A SID that is not well formed is dropped, as record_json.c drops it. */
static bool good_sid(const char *sid)
{
	struct sid parsed;
	return !sid || sid_from_string(sid, &parsed) == 0;
}

/* A list's items one by one, read again where list() checked them. */
static struct scan items(const struct list *l)
{
	return (struct scan){ l->s + 1, l->end, false };
}

static void next_item(struct scan *c, size_t i)
{
	ws(c);
	if (i) {
		c->p++; /* ',' */
		ws(c);
	}
}

static void read_gids(const struct list *l, uint32_t *out)
{
	struct scan c = items(l);
	for (size_t i = 0; i < l->n; i++) {
		next_item(&c, i);
		out[i] = (uint32_t)integer(&c);
	}
}

/* The user's strings copied into one block (u->packed). */
static bool user_strings(const struct user_text *t, struct dir_user *u)
{
	const struct span *from[] = { &t->name, &t->gecos, &t->home, &t->shell, &t->email,
				      &t->m.sid, &t->m.domain };
	char **to[] = { &u->name, &u->gecos, &u->home, &u->shell, &u->email, &u->sid, &u->domain };
	size_t len = 1;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		len += present(from[i]) ? from[i]->out_len + 1 : 0;
	if (!(u->packed = malloc(len)))
		return false;
	char *p = u->packed;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		if (present(from[i])) {
			*to[i] = p;
			p = unescape(from[i], p);
		}
	if (!good_sid(u->sid))
		u->sid = NULL;
	return true;
}

int record_scan_user(const char *text, size_t len, struct dir_user *u)
{
	struct scan c;
	struct user_text t = { .groups.strings = false };
	memset(u, 0, sizeof(*u));
	if (!scanned(&c, text, len, user_field, &t) || !present(&t.name) || !present(&t.gecos) ||
	    !present(&t.home) || !present(&t.shell) || !present(&t.m.domain) || !id_ok(&t.uid) ||
	    !id_ok(&t.gid) || !t.groups.set || t.groups.n >= UINT32_MAX / 4)
		return RECORD_SCAN_OTHER;
	if (!user_strings(&t, u) || !dir_valid_name(u->name))
		goto other;
	u->uid = (uint32_t)t.uid.v;
	u->gid = (uint32_t)t.gid.v;
	u->fetched = t.m.fetched.set && t.m.fetched.v > 0 ? (uint64_t)t.m.fetched.v : 0;
	if (!(u->groups = calloc(t.groups.n + 1, sizeof(uint32_t))))
		goto other;
	read_gids(&t.groups, u->groups);
	u->n_groups = (uint32_t)t.groups.n;
	if (present(&t.keys)) {
		char *keys = malloc(t.keys.out_len + 1);
		if (!keys)
			goto other;
		unescape(&t.keys, keys);
		int rc = record_ssh_keys_from_text(keys, u);
		free(keys);
		if (rc < 0)
			goto other;
	}
	return RECORD_SCAN_OK;
other:
	dir_user_clear(u);
	return RECORD_SCAN_OTHER;
}

struct group_text {
	struct common m;
	struct span name;
	struct id gid;
	struct list users;
};

static void group_field(struct scan *c, const struct span *key, void *arg)
{
	struct group_text *t = arg;
	if (common_field(c, key, &t->m))
		return;
	if (is_key(key, "name"))
		string_or_null(c, &t->name);
	else if (is_key(key, "gid"))
		int_once(c, &t->gid);
	else if (is_key(key, "users"))
		list(c, &t->users);
	else
		skip_value(c, 1);
}

static char *copy_out(const struct span *s)
{
	char *out = present(s) ? malloc(s->out_len + 1) : NULL;
	if (out)
		unescape(s, out);
	return out;
}

/* The members as dir_group_pack_members leaves them: the array, then the names, one block. */
static bool members(const struct list *l, struct dir_group *g)
{
	char **block = malloc((l->n + 1) * sizeof(char *) + l->text_len);
	if (!block)
		return false;
	g->members = block;
	g->members_packed = true;
	char *p = (char *)(block + l->n + 1);
	struct scan c = items(l);
	for (size_t i = 0; i < l->n; i++) {
		struct span s;
		next_item(&c, i);
		string(&c, &s);
		block[i] = p;
		p = unescape(&s, p);
		g->n_members = (uint32_t)(i + 1);
		if (!dir_valid_name(block[i]))
			return false;
	}
	block[l->n] = NULL;
	return true;
}

int record_scan_group(const char *text, size_t len, struct dir_group *g)
{
	struct scan c;
	struct group_text t = { .users.strings = true };
	memset(g, 0, sizeof(*g));
	if (!scanned(&c, text, len, group_field, &t) || !present(&t.name) ||
	    !present(&t.m.domain) || !id_ok(&t.gid) || !t.users.set ||
	    t.users.n >= UINT32_MAX / 8)
		return RECORD_SCAN_OTHER;
	g->name = copy_out(&t.name);
	g->domain = copy_out(&t.m.domain);
	g->sid = copy_out(&t.m.sid);
	bool sid_copied = !present(&t.m.sid) || g->sid;
	if (!good_sid(g->sid)) {
		free(g->sid);
		g->sid = NULL;
	}
	g->gid = (uint32_t)t.gid.v;
	g->fetched = t.m.fetched.set && t.m.fetched.v > 0 ? (uint64_t)t.m.fetched.v : 0;
	if (!g->name || !g->domain || !sid_copied ||
	    !dir_valid_name(g->name) || !members(&t.users, g)) {
		dir_group_clear(g);
		return RECORD_SCAN_OTHER;
	}
	return RECORD_SCAN_OK;
}
