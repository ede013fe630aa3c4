/* dirctl user|group|users|groups: the synthetic records in the tdb cache. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dirctl.h"
#include "names.h"
#include "protocol.h"
#include "record.h"
#include "store.h"

static bool is_number(const char *s)
{
	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int need_root(void)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "dirctl: the cache is readable by root only; run it with sudo\n");
	return -1;
}

/* Asks dird to look the entry up, which adds it to the cache if the directory has it; the name
 * it is served under (an AD name asked in another form or case) goes to `served`. */
static int fetch_through_dird(struct ctl *c, bool user, const char *what, bool by_id,
			      uint32_t id, bool *found, char *served, size_t servedlen)
{
	struct buf body, reply;
	uint32_t st;
	buf_init(&body, DIR_MAX_REQUEST);
	buf_init(&reply, DIR_MAX_REPLY);
	if (by_id)
		buf_put_u32(&body, id);
	else
		buf_put_str(&body, what);
	uint32_t op = user ? (by_id ? DIR_OP_GETPWUID : DIR_OP_GETPWNAM) :
			     (by_id ? DIR_OP_GETGRGID : DIR_OP_GETGRNAM);
	int rc = ctl_call(c, op, &body, &st, &reply);
	*found = rc == EXIT_OK && st == DIR_OK;
	const char *name = *found ? record_name(reply.data, reply.len) : NULL;
	snprintf(served, servedlen, "%s", name ? name : what);
	if (rc == EXIT_OK && st == DIR_UNAVAIL)
		fprintf(stderr, "dirctl: the directory could not be asked; see 'dirctl status'\n");
	buf_free(&body);
	buf_free(&reply);
	return rc;
}

/* A cached group's name, for the gids beside it; "" when the cache has no such group. */
static void group_name(const struct ctl *c, int64_t gid, char *out, size_t outlen)
{
	char key[32];
	snprintf(key, sizeof(key), "ID_%" PRId64, gid);
	char *json = store_fetch(c->cfg.cache_dir, STORE_GROUPS, key);
	json_object *o = json ? json_tokener_parse(json) : NULL, *name = NULL;
	snprintf(out, outlen, "%s", o && json_object_object_get_ex(o, "name", &name) ?
		 json_object_get_string(name) : "");
	json_object_put(o);
	free(json);
}

/* A gid with its group's name: "20000 (team)". */
static void print_gid(const struct ctl *c, json_object *gid)
{
	char name[DIR_MAX_NAME + 1];
	group_name(c, json_object_get_int64(gid), name, sizeof(name));
	printf("%" PRId64 "%s%s%s", json_object_get_int64(gid), *name ? " (" : "", name, *name ? ")" : "");
}

/* The record's fields one a line; times as dates, gids with their groups' names, the id
 * explained.  --json: the record as the cache holds it. */
static void print_record(const struct ctl *c, const char *json)
{
	if (c->json) {
		printf("%s\n", json);
		return;
	}
	json_object *o = json_tokener_parse(json), *v;
	if (!o || !json_object_is_type(o, json_type_object)) {
		printf("%s\n", json);
		json_object_put(o);
		return;
	}
	json_object_object_foreach(o, key, val) {
		printf("%-10s ", key);
		if (!strcmp(key, "fetched") && json_object_is_type(val, json_type_int)) {
			long long t = json_object_get_int64(val);
			char when[32], until[32];
			ctl_format_utc(t, when, sizeof(when));
			ctl_format_utc(t + c->cfg.entry_ttl, until, sizeof(until));
			printf("%s (%llds ago); fresh until %s\n", when, (long long)time(NULL) - t,
			       c->cfg.entry_ttl ? until : "the next refresh (entry_ttl = 0)");
		} else if (!strcmp(key, "id") && json_object_is_type(val, json_type_int)) {
			printf("%s (the %s + %llu: TrueNAS's cache id, never a uid or gid)\n",
			       json_object_get_string(val), json_object_object_get_ex(o, "uid", &v) ?
			       "uid" : "gid", DIR_SYNTHETIC_ID_BASE);
		} else if (!strcmp(key, "group") && json_object_object_get_ex(val, "gid", &v)) {
			print_gid(c, v);
			printf(", the primary group\n");
		} else if (!strcmp(key, "groups") && json_object_is_type(val, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(val); i++) {
				printf("%s", i ? ", " : "");
				print_gid(c, json_object_array_get_idx(val, i));
			}
			printf("\n");
		} else if (json_object_is_type(val, json_type_string)) {
			printf("%s\n", json_object_get_string(val));
		} else {
			printf("%s\n", json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		}
	}
	json_object_put(o);
}

int cmd_show(struct ctl *c, bool user, const char *what)
{
	bool by_id = is_number(what);
	unsigned long long id = by_id ? strtoull(what, NULL, 10) : 0;
	if ((by_id && id >= UINT32_MAX) || (!by_id && !dir_valid_name(what))) {
		fprintf(stderr, "dirctl: '%s' is not a valid name or id\n", what);
		return EXIT_USAGE;
	}
	if (need_root() < 0)
		return EXIT_FAIL;
	char key[DIR_MAX_NAME + 8];
	snprintf(key, sizeof(key), by_id ? "ID_%s" : "NAME_%s", what);
	enum store_kind kind = user ? STORE_USERS : STORE_GROUPS;
	char *json = store_fetch(c->cfg.cache_dir, kind, key);
	if (!json) {
		bool found;
		char served[DIR_MAX_NAME + 1];
		int rc = fetch_through_dird(c, user, what, by_id, (uint32_t)id, &found, served,
					    sizeof(served));
		if (rc != EXIT_OK)
			return rc;
		if (found && !by_id)
			snprintf(key, sizeof(key), "NAME_%s", served);
		if (found)
			json = store_fetch(c->cfg.cache_dir, kind, key);
	}
	if (!json) {
		/* dird serves no such entry: the directory may still have one that a rule hides. */
		fprintf(stderr, "dirctl: dird serves no %s '%s': the directory does not have it, or a "
			"rule hides it (min_id, a local name or id, user_base, the filter, "
			"sync_groups, a duplicate)%s%s\n", user ? "user" : "group", what,
			user && !by_id ? "; dirctl user-checks " : "", user && !by_id ? what : "");
		return EXIT_NOT_FOUND;
	}
	print_record(c, json);
	free(json);
	return EXIT_OK;
}

struct rows {
	json_object *list;
};

static int collect(const char *json, size_t len, void *arg)
{
	struct rows *r = arg;
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
	json_tokener_free(tok);
	if (o && json_object_is_type(o, json_type_object))
		json_object_array_add(r->list, o);
	else
		json_object_put(o);
	return 0;
}

static const char *field(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int by_name(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	const char *kx = json_object_object_get(x, "username") ? "username" : "name";
	return strcmp(field(x, kx), field(y, kx));
}

int cmd_list(struct ctl *c, bool users)
{
	if (need_root() < 0)
		return EXIT_FAIL;
	struct rows r = { json_object_new_array() };
	if (store_each(c->cfg.cache_dir, users ? STORE_USERS : STORE_GROUPS, collect, &r) < 0) {
		fprintf(stderr, "dirctl: cannot read the cache in %s: %s\n", c->cfg.cache_dir,
			strerror(errno));
		json_object_put(r.list);
		return EXIT_FAIL;
	}
	json_object_array_sort(r.list, by_name);
	if (c->json) {
		printf("%s\n", json_object_to_json_string_ext(r.list, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		size_t n = json_object_array_length(r.list);
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(r.list, i), *grp = NULL, *mem = NULL;
			if (users) {
				json_object_object_get_ex(o, "group", &grp);
				printf("%s:%s:%s:%s:%s:%s\n", field(o, "username"), field(o, "uid"),
				       grp ? field(grp, "gid") : "", field(o, "full_name"),
				       field(o, "home"), field(o, "shell"));
			} else {
				printf("%s:%s:", field(o, "name"), field(o, "gid"));
				if (json_object_object_get_ex(o, "users", &mem))
					for (size_t m = 0; m < json_object_array_length(mem); m++)
						printf("%s%s", m ? "," : "",
						       json_object_get_string(json_object_array_get_idx(mem, m)));
				printf("\n");
			}
		}
	}
	json_object_put(r.list);
	return EXIT_OK;
}
