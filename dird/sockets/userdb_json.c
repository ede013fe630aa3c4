#include "userdb_json.h"

#include <errno.h>
#include <string.h>

/* A call's parameters and a record hold no deeper objects than this. */
#define MAX_DEPTH 8

/* Whether s is UTF-8 (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p++;
		int more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 :
			   c >= 0xf0 && c <= 0xf4 ? 3 : -1;
		if (more < 0)
			return false;
		unsigned cp = c & (0x3fu >> more);
		for (int i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3fu);
		}
		if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
	}
	return true;
}

/* A string parameter: the string, "" when it holds a NUL (no name has one), NULL for null. */
static bool get_string(json_object *v, const char **out)
{
	if (json_object_is_type(v, json_type_null)) {
		*out = NULL;
		return true;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	const char *s = json_object_get_string(v);
	*out = strlen(s) == (size_t)json_object_get_string_len(v) ? s : "";
	return true;
}

/* A uid or gid parameter: 0 ... 2^32 - 2 ((uid_t)-1 is nobody's id), or null. */
static bool get_id(json_object *v, bool *has, uint32_t *id)
{
	*has = false;
	if (json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	int64_t n = json_object_get_int64(v);
	if (errno || n < 0 || n >= (int64_t)UINT32_MAX)
		return false;
	*has = true;
	*id = (uint32_t)n;
	return true;
}

static bool get_flag(json_object *root, const char *key, bool *out)
{
	json_object *v;
	*out = false;
	if (!json_object_object_get_ex(root, key, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static bool method_of(const char *name, enum userdb_method *m)
{
	static const struct {
		const char *name;
		enum userdb_method m;
	} methods[] = {
		{ USERDB_INTERFACE ".GetUserRecord", USERDB_GET_USER },
		{ USERDB_INTERFACE ".GetGroupRecord", USERDB_GET_GROUP },
		{ USERDB_INTERFACE ".GetMemberships", USERDB_GET_MEMBERSHIPS },
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(name, methods[i].name)) {
			*m = methods[i].m;
			return true;
		}
	return false;
}

/* One parameter of call's method; false when the method has no such parameter or its value
 * has the wrong type. */
static bool take_parameter(struct userdb_call *c, const char *k, json_object *v)
{
	if (!strcmp(k, "service"))
		return get_string(v, &c->service);
	if (c->method == USERDB_GET_USER && !strcmp(k, "uid"))
		return get_id(v, &c->has_id, &c->id);
	if (c->method == USERDB_GET_GROUP && !strcmp(k, "gid"))
		return get_id(v, &c->has_id, &c->id);
	if (c->method != USERDB_GET_GROUP && !strcmp(k, "userName"))
		return get_string(v, &c->user);
	if (c->method != USERDB_GET_USER && !strcmp(k, "groupName"))
		return get_string(v, &c->group);
	/* Among them the filters of newer interfaces (fuzzyNames, uidMin...): the interface
	 * wants InvalidParameter for those a service does not apply, and clients filter. */
	return false;
}

enum userdb_parse userdb_parse_call(const char *msg, size_t len, struct userdb_call *call,
				    const char **error, const char **key, const char **value)
{
	memset(call, 0, sizeof(*call));
	*error = *key = *value = NULL;
	json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	if (!tok || len > INT32_MAX) {
		json_tokener_free(tok);
		return USERDB_GARBAGE;
	}
	json_object *root = json_tokener_parse_ex(tok, msg, (int)len);
	bool whole = json_tokener_get_error(tok) == json_tokener_success &&
		     json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	call->root = root;
	json_object *method, *params = NULL;
	if (!root || !whole || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "method", &method) ||
	    !json_object_is_type(method, json_type_string) || !get_flag(root, "more", &call->more) ||
	    !get_flag(root, "oneway", &call->oneway))
		return USERDB_GARBAGE;
	if (json_object_object_get_ex(root, "parameters", &params) &&
	    !json_object_is_type(params, json_type_object) &&
	    !json_object_is_type(params, json_type_null))
		return USERDB_GARBAGE;
	if (!method_of(json_object_get_string(method), &call->method)) {
		*error = VARLINK_ERROR("MethodNotFound");
		*key = "method";
		*value = json_object_get_string(method);
		return USERDB_REFUSE;
	}
	if (params && json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, k, v) {
			if (!take_parameter(call, k, v)) {
				*error = VARLINK_ERROR("InvalidParameter");
				*key = "parameter";
				*value = k;
				return USERDB_REFUSE;
			}
		}
	}
	return USERDB_CALL;
}

void userdb_call_free(struct userdb_call *call)
{
	json_object_put(call->root);
	call->root = NULL;
}

/* Adds key: s when s is set and UTF-8. */
static void add_text(json_object *o, const char *key, const char *s)
{
	if (s && *s && utf8_valid(s))
		json_object_object_add(o, key, json_object_new_string(s));
}

/* The fields users and groups share. */
static void add_common(json_object *o, uint32_t gid, const char *service, const char *sid)
{
	json_object_object_add(o, "gid", json_object_new_int64(gid));
	json_object_object_add(o, "disposition", json_object_new_string("regular"));
	json_object_object_add(o, "service", json_object_new_string(service));
	/* Extensions carry a prefix of their project's (USER_RECORD.md); an AD SID belongs to
	 * the account wherever it is seen: the regular section, at the top. */
	add_text(o, "dirObjectSid", sid);
}

json_object *userdb_user_record(const struct dir_user *u, const char *service,
				const char *const *groups, size_t n_groups)
{
	if (!utf8_valid(u->name))
		return NULL;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "userName", json_object_new_string(u->name));
	json_object_object_add(o, "uid", json_object_new_int64(u->uid));
	add_common(o, u->gid, service, u->sid);
	add_text(o, "realName", u->gecos);
	add_text(o, "homeDirectory", u->home);
	add_text(o, "shell", u->shell);
	add_text(o, "emailAddress", u->email);
	json_object *member_of = json_object_new_array_ext((int)n_groups);
	for (size_t i = 0; member_of && i < n_groups; i++)
		if (utf8_valid(groups[i]))
			json_object_array_add(member_of, json_object_new_string(groups[i]));
	if (member_of && json_object_array_length(member_of))
		json_object_object_add(o, "memberOf", member_of);
	else
		json_object_put(member_of);
	return o;
}

json_object *userdb_group_record(const struct dir_group *g, const char *service)
{
	if (!utf8_valid(g->name))
		return NULL;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "groupName", json_object_new_string(g->name));
	add_common(o, g->gid, service, g->sid);
	return o;
}

json_object *userdb_record_reply(json_object *record)
{
	json_object *o = record ? json_object_new_object() : NULL;
	if (!o) {
		json_object_put(record);
		return NULL;
	}
	json_object_object_add(o, "record", record);
	json_object_object_add(o, "incomplete", json_object_new_boolean(0));
	return o;
}

json_object *userdb_membership_reply(const char *user, const char *group)
{
	if (!utf8_valid(user) || !utf8_valid(group))
		return NULL;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "userName", json_object_new_string(user));
	json_object_object_add(o, "groupName", json_object_new_string(group));
	return o;
}

bool userdb_serialize(json_object *parameters, struct buf *params)
{
	size_t len = 0;
	const char *s = parameters ?
		json_object_to_json_string_length(parameters, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE, &len) : NULL;
	buf_reset(params);
	if (s)
		buf_put_bytes(params, s, len);
	json_object_put(parameters);
	return s && !params->failed;
}

static void put_text(struct buf *out, const char *s)
{
	buf_put_bytes(out, s, strlen(s));
}

void userdb_put_reply(struct buf *out, const struct buf *params, bool continues)
{
	put_text(out, "{\"parameters\":");
	buf_put_bytes(out, params->data, params->len);
	put_text(out, continues ? ",\"continues\":true}" : "}");
	buf_put_bytes(out, "", 1);
}

void userdb_put_error(struct buf *out, const char *error, const char *key, const char *value)
{
	json_object *o = json_object_new_object(), *p = json_object_new_object();
	if (o && p) {
		json_object_object_add(o, "error", json_object_new_string(error));
		if (key && utf8_valid(value)) /* a client's own bytes, sent back */
			json_object_object_add(p, key, json_object_new_string(value));
		json_object_object_add(o, "parameters", p);
		p = NULL;
	}
	size_t len = 0;
	const char *s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE, &len) : NULL;
	if (s) {
		buf_put_bytes(out, s, len);
		buf_put_bytes(out, "", 1);
	} else {
		out->failed = true;
	}
	json_object_put(p);
	json_object_put(o);
}
