#include "record_json.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "names.h"
#include "sid.h"

static void add_common(json_object *o, uint32_t id, const char *domain, const char *sid,
		       uint64_t fetched)
{
	json_object_object_add(o, "fetched", json_object_new_int64((int64_t)fetched));
	json_object_object_add(o, "id", json_object_new_int64((int64_t)(DIR_SYNTHETIC_ID_BASE + id)));
	json_object_object_add(o, "domain", json_object_new_string(domain ? domain : ""));
	json_object_object_add(o, "sid", sid ? json_object_new_string(sid) : NULL);
	json_object_object_add(o, "local", json_object_new_boolean(0));
	json_object_object_add(o, "builtin", json_object_new_boolean(0));
	json_object_object_add(o, "smb", json_object_new_boolean(sid != NULL));
}

static char *finish(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = s ? strdup(s) : NULL;
	json_object_put(o);
	return copy;
}

char *record_user_to_json(const struct dir_user *u)
{
	json_object *o = json_object_new_object(), *grp = json_object_new_object(),
		    *groups = json_object_new_array();
	if (!o || !grp || !groups) {
		json_object_put(o);
		json_object_put(grp);
		json_object_put(groups);
		return NULL;
	}
	add_common(o, u->uid, u->domain, u->sid, u->fetched);
	json_object_object_add(o, "uid", json_object_new_int64(u->uid));
	json_object_object_add(o, "username", json_object_new_string(u->name));
	json_object_object_add(o, "full_name", json_object_new_string(u->gecos ? u->gecos : ""));
	json_object_object_add(o, "home", json_object_new_string(u->home ? u->home : ""));
	json_object_object_add(o, "shell", json_object_new_string(u->shell ? u->shell : ""));
	json_object_object_add(o, "email", u->email ? json_object_new_string(u->email) : NULL);
	json_object_object_add(grp, "id", json_object_new_int64((int64_t)(DIR_SYNTHETIC_ID_BASE + u->gid)));
	json_object_object_add(grp, "gid", json_object_new_int64(u->gid));
	json_object_object_add(o, "group", grp);
	for (uint32_t i = 0; i < u->n_groups; i++)
		json_object_array_add(groups, json_object_new_int64(u->groups[i]));
	json_object_object_add(o, "groups", groups);
	json_object *keys = NULL;
	if (u->n_ssh_keys) {
		struct buf text;
		buf_init(&text, (size_t)DIR_MAX_SSH_KEYS * (DIR_MAX_SSH_KEY_LEN + 1));
		for (uint32_t i = 0; i < u->n_ssh_keys; i++) {
			buf_put_bytes(&text, u->ssh_keys[i], strlen(u->ssh_keys[i]));
			buf_put_bytes(&text, "\n", 1);
		}
		/* the last line without its newline */
		if (text.failed || !(keys = json_object_new_string_len((const char *)text.data,
								      (int)text.len - 1))) {
			buf_free(&text);
			json_object_put(o);
			return NULL;
		}
		buf_free(&text);
	}
	json_object_object_add(o, "sshpubkey", keys);
	return finish(o);
}

char *record_group_to_json(const struct dir_group *g)
{
	json_object *o = json_object_new_object(), *users = json_object_new_array();
	if (!o || !users) {
		json_object_put(o);
		json_object_put(users);
		return NULL;
	}
	add_common(o, g->gid, g->domain, g->sid, g->fetched);
	json_object_object_add(o, "gid", json_object_new_int64(g->gid));
	json_object_object_add(o, "name", json_object_new_string(g->name));
	for (uint32_t i = 0; i < g->n_members; i++)
		json_object_array_add(users, json_object_new_string(g->members[i]));
	json_object_object_add(o, "users", users);
	return finish(o);
}

static json_object *parse(const char *text, size_t len)
{
	if (len > (16u << 20))
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

/* "sshpubkey": null, or keys one a line; a line that is empty or holds a control character is
 * dropped, and lines past DIR_MAX_SSH_KEYS. */
static int get_ssh_keys(json_object *o, struct dir_user *u)
{
	char *text = get_str(o, "sshpubkey");
	if (!text)
		return 0;
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
	free(text);
	return rc;
}

int record_user_from_json(const char *text, size_t len, struct dir_user *u)
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

int record_group_from_json(const char *text, size_t len, struct dir_group *g)
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
