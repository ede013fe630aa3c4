#include "record_json.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "names.h"
#include "record_scan.h"
#include "sid.h"

/* The writers build the text straight into a buffer, as json-c prints it (plain, '/' left
 * as it is): json-c's objects cost some twenty allocations a record, and a refresh writes a
 * million records.  The readers take what record_scan.c reads (the text as the writers print it,
 * and more) without json-c, and the rest with it. */
static void put_raw(struct buf *b, const char *s)
{
	buf_put_bytes(b, s, strlen(s));
}

/* A JSON string's text: '"', '\\' and control characters escaped as json-c escapes them. */
static void put_str_body(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (const char *run = s;; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_put_bytes(b, run, (size_t)(s - run));
		run = s + 1;
		if (!c)
			break;
		char esc[7] = { '\\', (char)c, 0 };
		switch (c) {
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '"': case '\\': break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
		}
		put_raw(b, esc);
	}
}

static void put_str(struct buf *b, const char *s)
{
	buf_put_bytes(b, "\"", 1);
	put_str_body(b, s);
	buf_put_bytes(b, "\"", 1);
}

/* ,"key": (the keys are ours: nothing in them to escape) */
static void put_key(struct buf *b, const char *key)
{
	if (b->len > 1)
		buf_put_bytes(b, ",", 1);
	buf_put_bytes(b, "\"", 1);
	put_raw(b, key);
	buf_put_bytes(b, "\":", 2);
}

/* In decimal, as printf writes it (printf was a second of the 7 s of CPU a first sync of a
 * million users spends writing the files). */
static void put_int(struct buf *b, const char *key, uint64_t v)
{
	char n[20];
	size_t at = sizeof(n);
	if (key)
		put_key(b, key);
	do {
		n[--at] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_put_bytes(b, n + at, sizeof(n) - at);
}

static void put_str_or_null(struct buf *b, const char *key, const char *v)
{
	put_key(b, key);
	if (v)
		put_str(b, v);
	else
		put_raw(b, "null");
}

#define RECORD_JSON_START 512

/* A record's text begins (at most RECORD_JSON_MAX bytes, as the readers take) with the keys
 * users and groups share. */
static void start(struct buf *b, uint32_t id, const char *domain, const char *sid,
		  uint64_t fetched)
{
	buf_init(b, RECORD_JSON_MAX + 1);
	/* room for most records at once: growing the buffer copies and wipes it each time */
	buf_extend(b, RECORD_JSON_START);
	buf_reset(b);
	buf_put_bytes(b, "{", 1);
	put_int(b, "fetched", fetched);
	put_int(b, "id", DIR_SYNTHETIC_ID_BASE + id);
	put_str_or_null(b, "domain", domain ? domain : "");
	put_str_or_null(b, "sid", sid);
	put_key(b, "local");
	put_raw(b, "false");
	put_key(b, "builtin");
	put_raw(b, "false");
	put_key(b, "smb");
	put_raw(b, sid ? "true" : "false");
}


/* The text, NUL-terminated and malloc'd, or NULL when it did not fit in memory. */
static char *finish(struct buf *b)
{
	buf_put_bytes(b, "}", 2);
	if (b->failed) {
		buf_free(b);
		return NULL;
	}
	return (char *)b->data;
}

char *record_user_to_json(const struct dir_user *u)
{
	struct buf b;
	start(&b, u->uid, u->domain, u->sid, u->fetched);
	put_int(&b, "uid", u->uid);
	put_str_or_null(&b, "username", u->name);
	put_str_or_null(&b, "full_name", u->gecos ? u->gecos : "");
	put_str_or_null(&b, "home", u->home ? u->home : "");
	put_str_or_null(&b, "shell", u->shell ? u->shell : "");
	/* ours, not in TrueNAS's records: left out when there is none (26 MB of a million
	 * users' two copies), which the reader takes as none */
	if (u->email)
		put_str_or_null(&b, "email", u->email);
	put_key(&b, "group");
	put_raw(&b, "{\"id\":");
	put_int(&b, NULL, DIR_SYNTHETIC_ID_BASE + u->gid);
	put_raw(&b, ",\"gid\":");
	put_int(&b, NULL, u->gid);
	put_raw(&b, "}");
	put_key(&b, "groups");
	for (uint32_t i = 0; i < u->n_groups; i++) {
		put_raw(&b, i ? "," : "[");
		put_int(&b, NULL, u->groups[i]);
	}
	put_raw(&b, u->n_groups ? "]" : "[]");
	/* the keys one a line, in one string */
	put_key(&b, "sshpubkey");
	put_raw(&b, u->n_ssh_keys ? "\"" : "null");
	for (uint32_t i = 0; i < u->n_ssh_keys; i++) {
		put_str_body(&b, u->ssh_keys[i]);
		put_raw(&b, i + 1 < u->n_ssh_keys ? "\\n" : "\"");
	}
	return finish(&b);
}

char *record_group_to_json(const struct dir_group *g)
{
	struct buf b;
	start(&b, g->gid, g->domain, g->sid, g->fetched);
	put_int(&b, "gid", g->gid);
	put_str_or_null(&b, "name", g->name);
	put_key(&b, "users");
	for (uint32_t i = 0; i < g->n_members; i++) {
		put_raw(&b, i ? "," : "[");
		put_str(&b, g->members[i]);
	}
	put_raw(&b, g->n_members ? "]" : "[]");
	return finish(&b);
}

static json_object *parse(const char *text, size_t len)
{
	if (len > RECORD_JSON_MAX)
		return NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A record without "fetched" (written by another tool) counts as fetched long ago. */
static uint64_t get_fetched(json_object *o)
{
	json_object *v;
	if (!json_object_object_get_ex(o, "fetched", &v) || !json_object_is_type(v, json_type_int))
		return 0;
	int64_t n = json_object_get_int64(v);
	return n > 0 ? (uint64_t)n : 0;
}

static int get_id(json_object *o, const char *key, uint32_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	int64_t n = json_object_get_int64(v);
	if (n < 0 || n > (int64_t)UINT32_MAX - 1)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/* A copy of a JSON string; NUL bytes inside are refused. */
static char *get_str_value(json_object *v)
{
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL;
	return strdup(s);
}

static char *get_str(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? get_str_value(v) : NULL;
}

/* "sid": a well-formed SID string or null; anything else is dropped. */
static char *get_sid(json_object *o)
{
	struct sid sid;
	char *s = get_str(o, "sid");
	if (s && sid_from_string(s, &sid) < 0) {
		free(s);
		s = NULL;
	}
	return s;
}

int record_ssh_keys_from_text(char *text, struct dir_user *u)
{
	int rc = 0;
	for (char *line = text, *next; line && rc == 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		bool ok = *line && strlen(line) <= DIR_MAX_SSH_KEY_LEN && u->n_ssh_keys < DIR_MAX_SSH_KEYS;
		for (const char *p = line; ok && *p; p++)
			ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
		if (!ok)
			continue;
		char **grown = realloc(u->ssh_keys, ((size_t)u->n_ssh_keys + 1) * sizeof(char *));
		if (grown)
			u->ssh_keys = grown;
		if (!grown || !(u->ssh_keys[u->n_ssh_keys] = strdup(line)))
			rc = -1;
		else
			u->n_ssh_keys++;
	}
	return rc;
}

/* "sshpubkey": null, or keys one a line. */
static int get_ssh_keys(json_object *o, struct dir_user *u)
{
	char *text = get_str(o, "sshpubkey");
	if (!text)
		return 0;
	int rc = record_ssh_keys_from_text(text, u);
	free(text);
	return rc;
}

int record_user_from_json_c(const char *text, size_t len, struct dir_user *u)
{
	memset(u, 0, sizeof(*u));
	json_object *o = parse(text, len), *grp, *groups;
	if (!o)
		return -1;
	u->name = get_str(o, "username");
	u->gecos = get_str(o, "full_name");
	u->home = get_str(o, "home");
	u->shell = get_str(o, "shell");
	u->email = get_str(o, "email"); /* null or missing: none */
	u->domain = get_str(o, "domain");
	u->sid = get_sid(o);
	u->fetched = get_fetched(o);
	int ok = u->name && dir_valid_name(u->name) && u->gecos && u->home && u->shell &&
		 u->domain && get_id(o, "uid", &u->uid) == 0 &&
		 json_object_object_get_ex(o, "group", &grp) && get_id(grp, "gid", &u->gid) == 0 &&
		 json_object_object_get_ex(o, "groups", &groups) &&
		 json_object_is_type(groups, json_type_array);
	if (ok) {
		size_t n = json_object_array_length(groups);
		u->groups = calloc(n + 1, sizeof(uint32_t));
		ok = u->groups != NULL && n < UINT32_MAX / 4;
		for (size_t i = 0; ok && i < n; i++) {
			json_object *v = json_object_array_get_idx(groups, i);
			int64_t gid = json_object_get_int64(v);
			ok = json_object_is_type(v, json_type_int) && gid >= 0 && gid < UINT32_MAX;
			u->groups[i] = (uint32_t)gid;
		}
		u->n_groups = (uint32_t)n;
	}
	if (ok)
		ok = get_ssh_keys(o, u) == 0;
	json_object_put(o);
	if (!ok) {
		dir_user_clear(u);
		return -1;
	}
	return 0;
}

int record_group_from_json_c(const char *text, size_t len, struct dir_group *g)
{
	memset(g, 0, sizeof(*g));
	json_object *o = parse(text, len), *users;
	if (!o)
		return -1;
	g->name = get_str(o, "name");
	g->domain = get_str(o, "domain");
	g->sid = get_sid(o);
	g->fetched = get_fetched(o);
	int ok = g->name && dir_valid_name(g->name) && g->domain && get_id(o, "gid", &g->gid) == 0 &&
		 json_object_object_get_ex(o, "users", &users) &&
		 json_object_is_type(users, json_type_array);
	if (ok) {
		size_t n = json_object_array_length(users);
		g->members = calloc(n + 1, sizeof(char *));
		ok = g->members != NULL && n < UINT32_MAX / 8;
		for (size_t i = 0; ok && i < n; i++) {
			json_object *v = json_object_array_get_idx(users, i);
			g->members[i] = get_str_value(v);
			ok = g->members[i] && dir_valid_name(g->members[i]);
			g->n_members = (uint32_t)(i + (g->members[i] != NULL));
		}
	}
	json_object_put(o);
	if (!ok) {
		dir_group_clear(g);
		return -1;
	}
	return 0;
}

int record_user_from_json(const char *text, size_t len, struct dir_user *u)
{
	if (record_scan_user(text, len, u) == RECORD_SCAN_OK)
		return 0;
	return record_user_from_json_c(text, len, u);
}

int record_group_from_json(const char *text, size_t len, struct dir_group *g)
{
	if (record_scan_group(text, len, g) == RECORD_SCAN_OK)
		return 0;
	return record_group_from_json_c(text, len, g);
}
