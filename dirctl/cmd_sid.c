/* dirctl sid-to-id SID | sid-to-name SID | id-to-sid [--group] ID | name-to-sid NAME: AD SIDs
 * and what they map to, asked of the domain controllers as dird would (wbinfo -S/-Y, -s, -U/-G,
 * -n).  Prints the value asked for; --json prints the whole account. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ad_names.h"
#include "dirctl.h"
#include "fetch.h"
#include "fetch_ad.h"
#include "idmap.h"
#include "log.h"
#include "names.h"
#include "protocol.h"

struct account {
	bool user;
	const char *name, *sid;
	uint32_t id;
};

static void print_account(const struct ctl *c, const struct account *a, const char *field)
{
	if (c->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string(a->user ? "user" : "group"));
		json_object_object_add(o, "name", json_object_new_string(a->name));
		json_object_object_add(o, a->user ? "uid" : "gid", json_object_new_int64(a->id));
		json_object_object_add(o, "sid", json_object_new_string(a->sid ? a->sid : ""));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (!strcmp(field, "id")) {
		printf("%s %" PRIu32 "\n", a->user ? "uid" : "gid", a->id);
	} else {
		printf("%s\n", !strcmp(field, "sid") ? a->sid : a->name);
	}
}

/* Prints what was found (a user or a group) and frees it; EXIT_NOT_FOUND when neither. */
static int show_found(const struct ctl *c, struct dir_user *u, struct dir_group *g,
		      const char *field)
{
	if (!u && !g)
		return EXIT_NOT_FOUND;
	struct account a = u ? (struct account){ true, u->name, u->sid, u->uid } :
			       (struct account){ false, g->name, g->sid, g->gid };
	print_account(c, &a, field);
	dir_user_destroy(u);
	dir_group_destroy(g);
	return EXIT_OK;
}

/* One AD domain asked: 1 found (and printed), 0 not there, -1 unreachable (said why). */
typedef int (*ask_fn)(struct ldap_conn *conn, const struct local_accounts *local, const void *key,
		      struct dir_user **u, struct dir_group **g, char *err, size_t errlen);

static int ask_domains(struct ctl *c, ask_fn ask, const void *key, bool (*may_have)(
			       const struct ctl *c, size_t i, const void *key), const char *field)
{
	struct local_accounts local;
	char why[512];
	if (local_accounts_load(&local, why, sizeof(why)) < 0) {
		fprintf(stderr, "dirctl: %s\n", why);
		return EXIT_FAIL;
	}
	ctl_directory_env(c);
	log_set_level(DIR_LOG_ERROR);
	int rc = EXIT_NOT_FOUND;
	for (size_t i = 0; i < c->cfg.n_domains && rc == EXIT_NOT_FOUND; i++) {
		const struct dir_domain *d = &c->cfg.domains[i];
		if (d->type != DIR_DOMAIN_AD || !may_have(c, i, key))
			continue;
		struct ldap_conn conn;
		char err[1024] = "";
		struct dir_user *u = NULL;
		struct dir_group *g = NULL;
		if (ldap_conn_open(&conn, d, NULL, err, sizeof(err)) < 0 ||
		    ask(&conn, &local, key, &u, &g, err, sizeof(err)) < 0) {
			fprintf(stderr, "dirctl: domain %s: %s\n", d->name, err);
			rc = EXIT_OFFLINE;
		} else {
			rc = show_found(c, u, g, field);
		}
		ldap_conn_close(&conn);
	}
	local_accounts_free(&local);
	return rc;
}

/* --- by SID ---------------------------------------------------------------------------------- */

static bool sid_may_be(const struct ctl *c, size_t i, const void *key)
{
	(void)c, (void)i, (void)key;
	return true; /* which domain a SID is of, only its DCs know (fetch_ad_domain_sid) */
}

static int ask_sid(struct ldap_conn *conn, const struct local_accounts *local, const void *key,
		   struct dir_user **u, struct dir_group **g, char *err, size_t errlen)
{
	const struct sid *sid = key;
	struct sid domain, mine;
	uint32_t rid;
	if (!sid_split_rid(sid, &domain, &rid) || fetch_ad_domain_sid(conn, &mine, err, errlen) < 0 ||
	    !sid_equal(&domain, &mine))
		return *err ? -1 : 0;
	return fetch_ad_by_sid(conn, local, sid, u, g, err, errlen);
}

/* --- by id ----------------------------------------------------------------------------------- */

struct id_key {
	uint32_t id;
	bool group;
};

static bool id_may_be(const struct ctl *c, size_t i, const void *key)
{
	const struct id_key *k = key;
	return idmap_domain_takes_id(&c->cfg.domains[i], k->id);
}

static int ask_id(struct ldap_conn *conn, const struct local_accounts *local, const void *key,
		  struct dir_user **u, struct dir_group **g, char *err, size_t errlen)
{
	const struct id_key *k = key;
	return k->group ? fetch_group(conn, local, NULL, k->id, g, NULL, err, errlen) :
			  fetch_user(conn, local, NULL, k->id, u, err, errlen);
}

/* --- by name --------------------------------------------------------------------------------- */

struct name_key {
	char name[DIR_MAX_NAME + 1];	/* as served */
	enum name_form form;
	size_t domain;
};

static bool name_may_be(const struct ctl *c, size_t i, const void *key)
{
	const struct name_key *k = key;
	return ad_name_domain_takes(&c->cfg, i, k->form, k->domain);
}

static int ask_name(struct ldap_conn *conn, const struct local_accounts *local, const void *key,
		    struct dir_user **u, struct dir_group **g, char *err, size_t errlen)
{
	const struct name_key *k = key;
	int rc = fetch_user(conn, local, k->name, 0, u, err, errlen);
	return rc == 0 ? fetch_group(conn, local, k->name, 0, g, NULL, err, errlen) : rc;
}

static int usage(void)
{
	fprintf(stderr, "Usage: dirctl [--json] sid-to-id SID | sid-to-name SID | "
			"id-to-sid [--group] ID | name-to-sid NAME\n");
	return EXIT_USAGE;
}

static int not_found(int rc, const char *what)
{
	if (rc == EXIT_NOT_FOUND)
		fprintf(stderr, "dirctl: no AD account %s\n", what);
	return rc;
}

int cmd_sid(struct ctl *c, const char *cmd, int argc, char **argv)
{
	bool group = argc == 2 && !strcmp(argv[0], "--group") && !strcmp(cmd, "id-to-sid");
	if (argc != 1 && !group)
		return usage();
	const char *arg = argv[argc - 1];
	if (!strcmp(cmd, "sid-to-id") || !strcmp(cmd, "sid-to-name")) {
		struct sid sid;
		if (strlen(arg) >= SID_MAX_STRING || sid_from_string(arg, &sid) < 0) {
			fprintf(stderr, "dirctl: '%s' is not a SID (S-1-5-21-...)\n", arg);
			return EXIT_USAGE;
		}
		if (sid_is_builtin(&sid)) {
			fprintf(stderr, "dirctl: %s is a BUILTIN SID; those are not served\n", arg);
			return EXIT_NOT_FOUND;
		}
		return not_found(ask_domains(c, ask_sid, &sid, sid_may_be, cmd[7] == 'i' ? "id" : "name"),
				 arg);
	}
	if (!strcmp(cmd, "id-to-sid")) {
		char *end;
		errno = 0;
		unsigned long long id = strtoull(arg, &end, 10);
		if (errno || *end || !*arg || arg[0] == '-' || id >= UINT32_MAX) {
			fprintf(stderr, "dirctl: '%s' is not a uid or gid\n", arg);
			return EXIT_USAGE;
		}
		struct id_key k = { (uint32_t)id, group };
		return not_found(ask_domains(c, ask_id, &k, id_may_be, "sid"), arg);
	}
	struct name_key k;
	int form = dir_valid_name(arg) ?
			   ad_name_canonical(&c->cfg, arg, &k.domain, k.name, sizeof(k.name)) : -1;
	if (form < 0) {
		fprintf(stderr, "dirctl: '%s' is not an account name\n", arg);
		return EXIT_USAGE;
	}
	k.form = (enum name_form)form;
	return not_found(ask_domains(c, ask_name, &k, name_may_be, "sid"), arg);
}
