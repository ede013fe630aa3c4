/* dirctl user-checks NAME [--service S] (as sssctl user-checks): why a user is or is not served
 * and may or may not log in, asked of the directory the way dird asks it.  For each domain:
 * whether it has an entry of that name and where (its DN), each rule that could hide it (outside
 * user_base, user_filter, an id below min_id, a local name or id, a duplicate, sync_groups), its
 * account state and the access rules; then what the PAM service's account phase answers, with
 * no password.  Steps are printed as dirctl test prints them (test_steps.c). */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ad_names.h"
#include "dirctl.h"
#include "fetch.h"
#include "ldap_conn.h"
#include "ldap_map.h"
#include "local_accounts.h"
#include "log.h"
#include "names.h"
#include "nesting.h"
#include "protocol.h"
#include "test_steps.h"

#define MAX_ENTRIES 8 /* entries of one name looked at */
#define DEFAULT_SERVICE "sshd"

struct found_entry {
	char *dn;
	enum map_result mapped;
	char why[256];		/* when not MAP_OK */
	struct dir_user user;	/* when MAP_OK */
};

struct search {
	const struct dir_domain *domain;
	struct found_entry v[MAX_ENTRIES];
	size_t n, total;
};

static int take_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct search *s = arg;
	if (s->total++ >= MAX_ENTRIES)
		return 0;
	struct found_entry *f = &s->v[s->n];
	char *dn = ldap_get_dn(ld, e);
	f->dn = dn ? strdup(dn) : NULL;
	ldap_memfree(dn);
	if (!f->dn)
		return -1;
	f->mapped = ldap_map_user(ld, e, s->domain, &f->user, f->why, sizeof(f->why));
	if (f->mapped == MAP_NOMEM) {
		free(f->dn);
		return -1;
	}
	s->n++;
	return 0;
}

static void search_free(struct search *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].dn);
		if (s->v[i].mapped == MAP_OK)
			dir_user_clear(&s->v[i].user);
	}
}

/* fetch_user by name or uid: the served user's name and uid, or found = false. */
static int served(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		  uint32_t uid, bool *found, char *served_name, size_t namelen, uint32_t *served_uid,
		  char *err, size_t errlen)
{
	struct dir_user *u = NULL;
	int rc = fetch_user(c, local, name, uid, &u, err, errlen);
	*found = u != NULL;
	if (u) {
		snprintf(served_name, namelen, "%s", u->name);
		*served_uid = u->uid;
	}
	dir_user_destroy(u);
	return rc;
}

/* The entry is where users are searched. */
static bool user_base_step(struct test_run *r, const struct dir_domain *d, const char *entry_dn)
{
	char what[1600];
	test_begin(r);
	char *dn = dn_normalize(entry_dn), *base = dn_normalize(d->user_base);
	bool in_base = dn && base && dn_in_scope(dn, base, d->user_scope);
	free(dn);
	free(base);
	snprintf(what, sizeof(what), "%s %s user_base %s (scope %s)", entry_dn, in_base ? "is in" :
		 "is outside", d->user_base, d->user_scope == DIR_SCOPE_SUB ? "sub" :
		 d->user_scope == DIR_SCOPE_ONE ? "one" : "base");
	return test_step(r, "user_base", in_base, what, "outside user_base: users are searched only "
			 "there; move the entry or widen user_base / user_scope");
}

/* The server says the entry matches user_filter. */
static bool user_filter_step(struct test_run *r, struct ldap_conn *c, const char *entry_dn)
{
	const struct dir_domain *d = c->domain;
	char what[1600], err[1024];
	test_begin(r);
	int matches = fetch_entry_matches(c, entry_dn, d->user_filter, err, sizeof(err));
	snprintf(what, sizeof(what), "%s user_filter %s%s%s", matches > 0 ? "matches" :
		 "does not match", d->user_filter, matches < 0 ? ": " : "", matches < 0 ? err : "");
	return test_step(r, "user_filter", matches > 0, what, "filtered: the entry is not a user "
			 "here; fix user_filter or the entry's objectClass");
}

/* The last rule: with sync_groups set, only their members are served (found: a user of that name is
 * served). */
static bool sync_groups_step(struct test_run *r, const struct dir_domain *d, bool found)
{
	char what[1600];
	test_begin(r);
	if (!d->n_sync_groups)
		return test_step(r, "sync_groups", found, found ? "not set: every user is served" :
				 "the entry is not served, for no reason found here", "see dird's log "
				 "at log_level = debug");
	char groups[1024] = "";
	for (size_t i = 0; i < d->n_sync_groups; i++)
		snprintf(groups + strlen(groups), sizeof(groups) - strlen(groups), "%s%s", i ? ", " : "",
			 d->sync_groups[i]);
	snprintf(what, sizeof(what), "%s of %s", found ? "a member of one" : "a member of none",
		 groups);
	return test_step(r, "sync_groups", found, what, "outside sync_groups: only their members "
			 "(primary or member, nesting included) are served; add the user to one");
}

/* The rules that decide whether the entry is served; true when it is. */
static bool serving_steps(struct test_run *r, struct ldap_conn *c,
			  const struct local_accounts *local, const struct found_entry *f,
			  const char *name)
{
	const struct dir_domain *d = c->domain;
	char what[1600], err[1024], other[DIR_MAX_NAME + 1];
	if (!user_base_step(r, d, f->dn) || !user_filter_step(r, c, f->dn))
		return false;
	test_begin(r);
	if (f->mapped != MAP_OK) {
		test_step(r, "ids", false, f->why, f->mapped == MAP_REFUSED ? "refused: ids below "
			  "min_id (a user's primary gid too) are never served; give the entry other "
			  "ids, or lower min_id" : "the entry lacks what a user needs (uid_attr, "
			  "gid_attr, user_name_attr)");
		return false;
	}
	const struct dir_user *u = &f->user;
	snprintf(what, sizeof(what), "uid %u, primary gid %u, min_id %u", u->uid, u->gid, d->min_id);
	test_step(r, "ids", true, what, "");
	test_begin(r);
	enum local_clash clash = local_accounts_user_clash(local, u->name, u->uid, u->gid);
	snprintf(what, sizeof(what), "%s", clash == LOCAL_CLASH_NAME ? "the name is in /etc/passwd" :
		 clash == LOCAL_CLASH_ID ? "its uid is a local account's or its primary gid a "
		 "local group's" : "neither its name nor its ids are local");
	if (!test_step(r, "local", clash == LOCAL_CLASH_NONE, what, clash == LOCAL_CLASH_NAME ?
		       "a local name: files answers for it, and the directory's entry is never "
		       "served (local accounts always win)" : "a local id: the directory user would "
		       "own a local account's files, so it is not served"))
		return false;
	bool found;
	uint32_t uid = 0;
	test_begin(r);
	if (served(c, local, NULL, u->uid, &found, other, sizeof(other), &uid, err, sizeof(err)) < 0)
		return test_step(r, "duplicate", false, err, "the directory did not answer");
	bool uid_lost = found && strcmp(other, u->name);
	if (uid_lost)
		snprintf(what, sizeof(what), "uid %u is also %s's, which is served for it (for one "
			 "uid the smaller name)", u->uid, other);
	else
		snprintf(what, sizeof(what), "no other entry is served for uid %u", u->uid);
	if (!test_step(r, "duplicate", !uid_lost, what, "a duplicate: two entries share the uid "
		       "and the other is served; give one another uid"))
		return false;
	if (served(c, local, name, 0, &found, other, sizeof(other), &uid, err, sizeof(err)) < 0)
		return test_step(r, "duplicate", false, err, "the directory did not answer");
	if (found && uid != u->uid) {
		snprintf(what, sizeof(what), "another entry named %s, uid %u, is served (for one name "
			 "the smaller uid)", name, uid);
		return test_step(r, "duplicate", false, what, "a duplicate: two entries share the "
				 "name; rename or remove one");
	}
	return sync_groups_step(r, d, found);
}

/* Whether a served user may log in: its account state and the access rules, as pam_dir's
 * account phase has dird check them. */
static void login_steps(struct test_run *r, struct ldap_conn *c,
			const struct local_accounts *local, const char *name)
{
	const struct dir_domain *d = c->domain;
	char what[1600], err[1024], msg[256] = "", *dn = NULL;
	struct account_state st;
	test_begin(r);
	int rc = fetch_account(c, local, name, &dn, &st, err, sizeof(err));
	if (rc <= 0) {
		test_step(r, "account", false, rc < 0 ? err : "not found again",
			  "the directory did not answer");
		free(dn);
		return;
	}
	enum account_verdict res = account_check(&st, (long long)time(NULL), msg, sizeof(msg));
	bool ok = test_step(r, "account", res == ACCOUNT_OK, res == ACCOUNT_OK ? "not disabled, "
			    "locked or expired, no password change due" : msg,
			    res == ACCOUNT_MUST_CHANGE ? "the password must be changed at the next "
			    "login (allow_password_change)" : "the directory's account state "
			    "refuses logins; an administrator changes it");
	test_begin(r);
	int allowed = 1;
	if (ok && d->access_filter)
		allowed = fetch_entry_matches(c, dn, d->access_filter, err, sizeof(err));
	if (ok && allowed > 0 && d->n_access_groups)
		allowed = fetch_in_access_groups(c, local, name, err, sizeof(err));
	free(dn);
	if (!ok)
		return;
	if (allowed < 0) {
		test_step(r, "access", false, err, "the directory did not answer");
		return;
	}
	char rules[1200] = "";
	if (d->access_filter)
		snprintf(rules, sizeof(rules), "access_filter %s", d->access_filter);
	for (size_t i = 0; i < d->n_access_groups; i++)
		snprintf(rules + strlen(rules), sizeof(rules) - strlen(rules), "%s%s",
			 i ? ", " : *rules ? "; access_groups " : "access_groups ", d->access_groups[i]);
	snprintf(what, sizeof(what), "%s%s", !*rules ? "no access_groups or access_filter: anyone "
		 "may log in" : allowed ? "allowed by " : "refused by ", rules);
	test_step(r, "access", allowed > 0, what, "not allowed to log in here: add the user to one "
		  "of access_groups, or have its entry match access_filter");
}

/* The messages for the user during pam_step. */
struct pam_text {
	char text[1024];
};

static int collect_messages(int n, const struct pam_message **msg, struct pam_response **resp,
			    void *data)
{
	struct pam_text *t = data;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_TEXT_INFO && msg[i]->msg_style != PAM_ERROR_MSG)
			return PAM_CONV_ERR; /* a prompt: nothing is answered here */
		snprintf(t->text + strlen(t->text), sizeof(t->text) - strlen(t->text), "%s%s",
			 *t->text ? " " : "", msg[i]->msg);
	}
	*resp = NULL;
	return PAM_SUCCESS;
}

/* The PAM service's account phase for name, without a password: what a login would be told
 * once the password is right. */
static int pam_step(struct test_run *r, const char *service, const char *name)
{
	struct pam_text t = { "" };
	struct pam_conv conv = { collect_messages, &t };
	pam_handle_t *h = NULL;
	char what[1400];
	test_section(r, "pam service", service);
	test_begin(r);
	int rc = pam_start(service, name, &conv, &h);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, 0);
	snprintf(what, sizeof(what), "%s's account phase: %s%s%s", name, pam_strerror(h, rc),
		 *t.text ? ": " : "", t.text);
	if (h)
		pam_end(h, rc);
	test_step(r, "account", rc == PAM_SUCCESS, what, rc == PAM_USER_UNKNOWN ? "no module of "
		  "the service knows the user: is pam_dir in it (dirctl enable)?" : rc ==
		  PAM_NEW_AUTHTOK_REQD ? "the password must be changed first" : "the service "
		  "refuses this user's login even with the right password");
	return test_result(r);
}

/* One domain: where its entry of that name is, and why it is or is not served. */
static int check_domain(struct test_run *r, const struct dir_domain *d,
			const struct local_accounts *local, const char *name)
{
	struct ldap_conn c;
	char err[1024], what[1600];
	test_section(r, "domain", d->name);
	test_begin(r);
	bool up = ldap_conn_open(&c, d, NULL, err, sizeof(err)) == 0;
	snprintf(what, sizeof(what), "%s", up ? c.server : err);
	if (!test_step(r, "connect", up, what, "the directory cannot be asked: dirctl test says "
		       "why"))
		return test_result(r);
	/* Every entry of that name under base_dn, whatever user_base and user_filter say. */
	const char *account = d->type == DIR_DOMAIN_AD ? ad_name_account(d, name) : name;
	struct search s = { .domain = d };
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, attrs, NULL);
	char *filter = account ? fetch_filter("(objectClass=*)", d->attrs.user_name, account, 0) : NULL;
	test_begin(r);
	int rc = filter ? ldap_conn_search(&c, d->base_dn, DIR_SCOPE_SUB, filter, attrs, take_entry,
					    &s, err, sizeof(err)) : -1;
	if (!filter)
		snprintf(err, sizeof(err), "%s is not a name of this domain", name);
	if (rc < 0)
		snprintf(what, sizeof(what), "%s", err);
	else if (!s.n)
		snprintf(what, sizeof(what), "no entry under %s has %s=%s", d->base_dn,
			 d->attrs.user_name, account);
	else
		snprintf(what, sizeof(what), "%s%s", s.v[0].dn, s.total > 1 ? " (and others: "
			 "each is checked)" : "");
	bool any = test_step(r, "entry", rc == 0 && s.n, what, rc < 0 ? "the directory did not "
			     "answer" : "the directory has no such user here: check the name and "
			     "user_name_attr");
	free(filter);
	/* The entry that is served, or else each one's reason. */
	bool served = false;
	for (size_t i = 0; any && i < s.n && !served; i++) {
		if (s.n > 1)
			test_note(r, "entry %s", s.v[i].dn);
		served = serving_steps(r, &c, local, &s.v[i], name);
	}
	if (served) {
		r->failed_at = NULL; /* another entry of the name was not, this one is */
		login_steps(r, &c, local, name);
	}
	search_free(&s);
	ldap_conn_close(&c);
	return test_result(r);
}

int cmd_user_checks(struct ctl *c, int argc, char **argv)
{
	const char *name = NULL, *service = DEFAULT_SERVICE;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--service") && i + 1 < argc)
			service = argv[++i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			name = NULL, i = argc;
	}
	if (!name || !dir_valid_name(name)) {
		fprintf(stderr, "Usage: dirctl [--json] user-checks NAME [--service SERVICE]\n");
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "dirctl: user-checks reads the bind password and runs PAM: run it "
			"as root\n");
		return EXIT_FAIL;
	}
	ctl_directory_env(c);
	log_set_level(DIR_LOG_ERROR);
	struct local_accounts local;
	char err[1024];
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s (every name counts as local then)\n", err);
		return EXIT_FAIL;
	}
	struct test_run r = { .json = c->json ? json_object_new_array() : NULL };
	int rc = EXIT_OK;
	for (size_t i = 0; i < c->cfg.n_domains; i++)
		if (check_domain(&r, &c->cfg.domains[i], &local, name) != EXIT_OK)
			rc = EXIT_FAIL;
	local_accounts_free(&local);
	if (pam_step(&r, service, name) != EXIT_OK)
		rc = EXIT_FAIL;
	if (r.json) {
		json_object *top = json_object_new_object();
		json_object_object_add(top, "user", json_object_new_string(name));
		json_object_object_add(top, "result", json_object_new_string(rc == EXIT_OK ? "ok" : "FAILED"));
		json_object_object_add(top, "checks", r.json);
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	}
	return rc;
}
