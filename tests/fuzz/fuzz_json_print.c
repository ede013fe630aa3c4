/* The tdb cache's JSON printer (cache/record_json.c prints straight into a buffer) against
 * json-c: each string of the input (NUL-separated, any bytes) goes into a user and a group;
 * the text must be what json-c prints for the same object, byte for byte, and json-c must
 * parse it back to exactly the same strings. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "record.h"
#include "record_json.h"

static const char *json_c_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void check_str(json_object *o, const char *key, const char *want)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != strlen(want) ||
	    memcmp(json_object_get_string(v), want, strlen(want)) != 0)
		abort();
}

static void check_user(const struct dir_user *u)
{
	char *text = record_user_to_json(u);
	if (!text)
		abort();
	json_object *o = json_tokener_parse(text);
	if (!o)
		abort();
	check_str(o, "username", u->name);
	check_str(o, "full_name", u->gecos);
	check_str(o, "home", u->home);
	check_str(o, "shell", u->shell);
	check_str(o, "email", u->email);
	check_str(o, "domain", u->domain);
	check_str(o, "sshpubkey", u->ssh_keys[0]);
	/* main's writer: the same object built with json-c */
	json_object *old = json_object_new_object(), *grp = json_object_new_object();
	json_object_object_add(grp, "id", json_object_new_int64(DIR_SYNTHETIC_ID_BASE + u->gid));
	json_object_object_add(grp, "gid", json_object_new_int64(u->gid));
	const struct {
		const char *key;
		json_object *v;
	} fields[] = {
		{ "fetched", json_object_new_int64((int64_t)u->fetched) },
		{ "id", json_object_new_int64(DIR_SYNTHETIC_ID_BASE + u->uid) },
		{ "domain", json_object_new_string(u->domain) },
		{ "sid", NULL },
		{ "local", json_object_new_boolean(0) },
		{ "builtin", json_object_new_boolean(0) },
		{ "smb", json_object_new_boolean(0) },
		{ "uid", json_object_new_int64(u->uid) },
		{ "username", json_object_new_string(u->name) },
		{ "full_name", json_object_new_string(u->gecos) },
		{ "home", json_object_new_string(u->home) },
		{ "shell", json_object_new_string(u->shell) },
		{ "email", json_object_new_string(u->email) },
		{ "group", grp },
		{ "groups", json_object_new_array() },
		{ "sshpubkey", json_object_new_string(u->ssh_keys[0]) },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_object_object_add(old, fields[i].key, fields[i].v);
	if (strcmp(json_c_text(old), text) != 0)
		abort();
	json_object_put(old);
	json_object_put(o);
	free(text);
}

static void check_group(const struct dir_group *g)
{
	char *text = record_group_to_json(g);
	if (!text)
		abort();
	json_object *o = json_tokener_parse(text), *users;
	if (!o || !json_object_object_get_ex(o, "users", &users) ||
	    json_object_array_length(users) != g->n_members)
		abort();
	check_str(o, "name", g->name);
	check_str(o, "domain", g->domain);
	for (uint32_t i = 0; i < g->n_members; i++) {
		json_object *wrap = json_object_new_object();
		json_object_object_add(wrap, "m", json_object_get(json_object_array_get_idx(users, i)));
		check_str(wrap, "m", g->members[i]);
		json_object_put(wrap);
	}
	json_object_put(o);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* up to eight NUL-terminated strings out of the input */
	char *copy = malloc(size + 1), *s[8];
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	size_t n = 0;
	for (char *p = copy; n < 8; n++) {
		s[n] = p;
		p += strlen(p);
		if (p < copy + size)
			p++;
	}
	struct dir_user u = { .name = s[0], .gecos = s[1], .home = s[2], .shell = s[3],
			      .email = s[4], .domain = s[5], .uid = 1000, .gid = 1000,
			      .fetched = 1, .ssh_keys = &s[6], .n_ssh_keys = 1 };
	check_user(&u);
	struct dir_group g = { .name = s[0], .domain = s[5], .gid = 1000, .members = s,
			       .n_members = 8 };
	check_group(&g);
	free(copy);
	return 0;
}
