/* dirctl test [--verbose] [DOMAIN|REALM]: talks to each domain the way dird does, one step at a
 * time (resolve, connect, TLS, bind, read the base, find users, find groups, one user's groups),
 * with each step's result and time, and for a failure the likely cause and its fix; then to each
 * [realm/] section's KDCs (test_realm.c).  It works without dird: it is what to run when dird
 * cannot reach the directory. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dirctl.h"
#include "fetch.h"
#include "ldap_conn.h"
#include "ldap_map.h"
#include "local_accounts.h"
#include "log.h"
#include "protocol.h"
#include "secret.h"
#include "test_steps.h"

/* host and port of a uri ("ldap://h:389"); false for ldapi:// or a malformed one. */
static bool host_port(const char *uri, char *host, size_t hostlen, int *port)
{
	LDAPURLDesc *u = NULL;
	bool ok = ldap_url_parse(uri, &u) == LDAP_URL_SUCCESS && u->lud_host && *u->lud_host &&
		  strcmp(u->lud_scheme, "ldapi");
	if (ok) {
		snprintf(host, hostlen, "%s", u->lud_host);
		*port = u->lud_port ? u->lud_port : !strcmp(u->lud_scheme, "ldaps") ? 636 : 389;
	}
	ldap_free_urldesc(u);
	return ok;
}

struct tally {
	const struct dir_domain *domain;
	bool users;
	unsigned entries, usable;
	char first[DIR_MAX_NAME + 1];
	char skipped_why[256];
};

static int count_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct tally *t = arg;
	char why[256];
	enum map_result r;
	t->entries++;
	if (t->users) {
		struct dir_user u;
		r = ldap_map_user(ld, e, t->domain, &u, why, sizeof(why));
		if (r == MAP_OK && !t->first[0])
			snprintf(t->first, sizeof(t->first), "%s", u.name);
		if (r == MAP_OK)
			dir_user_clear(&u);
	} else {
		struct dir_group g;
		r = ldap_map_group(ld, e, t->domain, &g, NULL, why, sizeof(why));
		if (r == MAP_OK && !t->first[0])
			snprintf(t->first, sizeof(t->first), "%s", g.name);
		if (r == MAP_OK)
			dir_group_clear(&g);
	}
	if (r == MAP_NOMEM)
		return -1;
	if (r == MAP_OK)
		t->usable++;
	else if (!t->skipped_why[0])
		snprintf(t->skipped_why, sizeof(t->skipped_why), "%s", why);
	return 0;
}

static void show_config(const struct dir_domain *d)
{
	const struct dir_attrs *a = &d->attrs;
	printf("  uri %s, base_dn %s, bind %s\n", d->discover ? "_srv_" : d->uri, d->base_dn,
	       d->bind_dn ? d->bind_dn : "anonymous");
	printf("  users: %s %s %s; groups: %s %s %s\n", d->user_base, d->user_filter,
	       d->user_scope == DIR_SCOPE_SUB ? "sub" : d->user_scope == DIR_SCOPE_ONE ? "one" : "base",
	       d->group_base, d->group_filter,
	       d->group_scope == DIR_SCOPE_SUB ? "sub" : d->group_scope == DIR_SCOPE_ONE ? "one" : "base");
	printf("  attributes: name %s, uid %s, gid %s, gecos %s, home %s, shell %s, SSH keys %s, "
	       "group name %s, members", a->user_name, a->uid, a->gid, a->gecos, a->home, a->shell,
	       a->ssh_key, a->group_name);
	for (size_t i = 0; i < a->n_member; i++)
		printf(" %s (%s)", a->member[i], member_attr_is_dn(a->member[i]) ? "DNs" : "names");
	printf("\n");
}

/* Connects to the first uri that answers, step by step.  true with c->ld set. */
static bool connect_steps(struct test_run *r, const struct dir_domain *d, struct ldap_conn *c)
{
	char uris[4096], err[1024], what[1600];
	test_begin(r);
	if (ldap_conn_uris(d, uris, sizeof(uris), err, sizeof(err)) < 0)
		return test_step(r, "resolve", false, err, "DNS SRV discovery failed: check dns_domain and "
			    "the _ldap._tcp records, or list servers in uri");
	char last_why[256] = "", last_uri[sizeof(c->server)] = "";
	for (const char *p = uris; *p && !c->ld;) {
		size_t n = strcspn(p, " \t");
		snprintf(last_uri, sizeof(last_uri), "%.*s", (int)(n < sizeof(last_uri) - 1 ? n : sizeof(last_uri) - 1), p);
		p += n;
		p += strspn(p, " \t");
		char host[256];
		int port;
		test_begin(r);
		if (host_port(last_uri, host, sizeof(host), &port)) {
			struct addrinfo *res = NULL, hints = { .ai_socktype = SOCK_STREAM };
			int rc = getaddrinfo(host, NULL, &hints, &res);
			if (res)
				freeaddrinfo(res);
			if (rc) {
				snprintf(what, sizeof(what), "%s: %s", host, gai_strerror(rc));
				test_step(r, "resolve", false, what, "the host name does not resolve: check "
				     "uri and the DNS (/etc/resolv.conf)");
				continue;
			}
			snprintf(what, sizeof(what), "%s", host);
			test_step(r, "resolve", true, what, "");
			test_begin(r);
			if (!tcp_reaches(host, port, d->timeout, last_why, sizeof(last_why))) {
				snprintf(what, sizeof(what), "%s: %s", last_uri, last_why);
				test_step(r, "connect", false, what, "nothing answers there: check the server, "
				     "the port in uri, and firewalls");
				continue;
			}
			snprintf(what, sizeof(what), "%s (port %d)", last_uri, port);
			test_step(r, "connect", true, what, "");
		}
		test_begin(r);
		bool tls = !strncmp(last_uri, "ldaps://", 8) || (d->starttls && !strncmp(last_uri, "ldap://", 7));
		c->ld = ldap_conn_connect(d, last_uri, err, sizeof(err));
		c->domain = d;
		if (!c->ld) {
			test_step(r, "tls", false, err, tls ? "the TLS handshake failed: the message above "
			     "says which check the certificate fails; fix tls_ca_file or the uri" :
			     "the server did not take an LDAP connection: is it an LDAP server?");
			continue;
		}
		snprintf(c->server, sizeof(c->server), "%s", last_uri);
		char peer[128];
		enum conn_privacy privacy = ldap_conn_privacy(c->ld, peer, sizeof(peer));
		if (privacy == CONN_TLS)
			snprintf(what, sizeof(what), "%s", d->tls_reqcert == DIR_TLS_DEMAND ?
				 "certificate verified (tls_reqcert = demand)" :
				 "certificate NOT fully verified (tls_reqcert is not demand)");
		else if (privacy == CONN_LOCAL)
			snprintf(what, sizeof(what), "not used (plain, to %s on this host: passwords go "
				 "only to this host)", peer);
		else
			snprintf(what, sizeof(what), "not used (plain, to %s, another host: no user's "
				 "password is sent over it%s; set tls = starttls or use ldaps://)", peer,
				 d->allow_insecure_bind && d->bind_dn && !d->keytab ?
					 ", but bind_dn's is (allow_insecure_bind = yes)" : "");
		test_step(r, "tls", true, what, "");
	}
	if (c->ld)
		r->failed_at = NULL; /* an earlier uri failed, a later one answered */
	return c->ld != NULL;
}

static int take_netbios(LDAP *ld, LDAPMessage *e, void *arg)
{
	char *out = arg;
	struct berval **v = ldap_get_values_len(ld, e, "nETBIOSName");
	if (v && v[0] && v[0]->bv_len < 64 && !memchr(v[0]->bv_val, '\0', v[0]->bv_len)) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return 0;
}

/* AD: the domain's NetBIOS name, from its crossRef in the Configuration partition. */
static bool ad_netbios_name(struct ldap_conn *c, char *out, size_t outlen)
{
	const struct dir_domain *d = c->domain;
	char base[1200], err[512];
	const char *attrs[] = { "nETBIOSName", NULL };
	char *filter = fetch_filter("(objectClass=crossRef)", "nCName", d->base_dn, 0);
	snprintf(base, sizeof(base), "CN=Partitions,CN=Configuration,%s", d->base_dn);
	out[0] = '\0';
	if (filter && outlen >= 64)
		ldap_conn_search(c, base, DIR_SCOPE_ONE, filter, attrs, take_netbios, out, err, sizeof(err));
	free(filter);
	return out[0] != '\0';
}

/* Whether bind_password_file is why no bind was tried, as ldap_conn_bind reads it. */
static bool password_file_unusable(const struct dir_domain *d, char *why, size_t whylen)
{
	if (!d->bind_password_file || d->keytab)
		return false;
	char *password = dir_config_read_secret(d->bind_password_file, why, whylen);
	bool empty = password && !*password;
	if (empty)
		snprintf(why, whylen, "%s is empty", d->bind_password_file);
	secret_free(password);
	return !password || empty;
}

/* Why ldap_conn_bind failed, each cause in its own words: the password would go in clear, the
 * password file cannot be used (its mode, owner, emptiness), the server never answered (frozen,
 * overloaded), the server refused the password, or whatever else the server said. */
static void bind_cause(struct ldap_conn *c, char *out, size_t outlen)
{
	const struct dir_domain *d = c->domain;
	char peer[128], why[1024];
	int rc = LDAP_OTHER;
	ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &rc);
	if (d->bind_dn && !d->keytab && !d->allow_insecure_bind &&
	    ldap_conn_privacy(c->ld, peer, sizeof(peer)) == CONN_CLEAR) {
		snprintf(out, outlen, "the bind password would go in clear text: set tls = starttls "
			 "or use ldaps://");
	} else if (password_file_unusable(d, why, sizeof(why))) {
		snprintf(out, outlen, "bind_password_file cannot be used (no password was sent): %s",
			 why);
	} else if (rc == LDAP_TIMEOUT || rc == LDAP_SERVER_DOWN) {
		snprintf(out, outlen, "the server took the connection but did not answer the bind "
			 "within timeout (%u s): it is hung or overloaded (or a firewall drops its "
			 "replies); the password was not judged", d->timeout);
	} else if (rc == LDAP_INVALID_CREDENTIALS) {
		snprintf(out, outlen, "the server refused the password: check bind_dn and the "
			 "password in bind_password_file");
	} else if (d->keytab) {
		snprintf(out, outlen, "the GSSAPI bind failed: check keytab, sasl_authid and that "
			 "the server knows that principal");
	} else {
		snprintf(out, outlen, "the server refused the bind (%s): check that bind_dn may bind "
			 "there", ldap_err2string(rc));
	}
}

/* The steps of test_domain after the connection, each true when the test goes on. */
static bool bind_step(struct test_run *r, struct ldap_conn *c)
{
	const struct dir_domain *d = c->domain;
	char err[1024], what[1400], cause[1400];
	test_begin(r);
	int bound = ldap_conn_bind(c, err, sizeof(err));
	snprintf(what, sizeof(what), "as %s%s%s", d->bind_dn ? d->bind_dn : "anonymous",
		 bound < 0 ? ": " : "", bound < 0 ? err : "");
	if (bound < 0)
		bind_cause(c, cause, sizeof(cause));
	return test_step(r, "bind", bound == 0, what, cause);
}

/* AD: the workgroup is the DC's NetBIOS name (when the DC says it). */
static bool workgroup_step(struct test_run *r, struct ldap_conn *c)
{
	const struct dir_domain *d = c->domain;
	char netbios[64] = "", what[1400];
	test_begin(r);
	bool read = ad_netbios_name(c, netbios, sizeof(netbios));
	snprintf(what, sizeof(what), "%s: the DC says %s", d->workgroup,
		 read ? netbios : "nothing (its crossRef cannot be read; not checked)");
	return test_step(r, "workgroup", !read || !strcasecmp(netbios, d->workgroup), what,
			 "names would be served with the wrong prefix: set workgroup to the DC's "
			 "NetBIOS name");
}

/* Searches user_base (users) or group_base with the domain's filter, counting the usable entries. */
static int count_entries(struct ldap_conn *c, struct tally *t, char *what, size_t whatlen)
{
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS], *base = t->users ? d->user_base : d->group_base;
	const char *filter = t->users ? d->user_filter : d->group_filter;
	char err[1024];
	if (t->users)
		ldap_map_user_attrs(d, attrs, NULL);
	else
		ldap_map_group_attrs(d, attrs);
	int rc = ldap_conn_search(c, base, t->users ? d->user_scope : d->group_scope, filter, attrs,
				  count_entry, t, err, sizeof(err));
	snprintf(what, whatlen, "%u entries under %s match %s, %u usable%s%s%s%s", t->entries, base,
		 filter, t->usable, t->first[0] ? " (first: " : "", t->first, t->first[0] ? ")" : "",
		 rc < 0 ? err : "");
	return rc;
}

static bool find_users_step(struct test_run *r, struct ldap_conn *c, struct tally *users)
{
	char what[1400];
	test_begin(r);
	int rc = count_entries(c, users, what, sizeof(what));
	if (!test_step(r, "find users", rc == 0 && users->usable > 0, what,
		       users->entries ? "entries are there but none is a usable user: check the "
					"attribute names (user_name_attr, uid_attr, gid_attr) and "
					"min_id" :
					"no user found: check user_base, user_filter and user_scope "
					"(and the bind's read access)"))
		return false;
	if (users->skipped_why[0])
		test_note(r, "skipped %u, e.g. %s", users->entries - users->usable, users->skipped_why);
	return true;
}

static bool find_groups_step(struct test_run *r, struct ldap_conn *c)
{
	struct tally groups = { c->domain, false, 0, 0, "", "" };
	char what[1400];
	test_begin(r);
	int rc = count_entries(c, &groups, what, sizeof(what));
	return test_step(r, "find groups", rc == 0 && groups.usable > 0, what,
			 groups.entries ? "entries are there but none is a usable group: check "
					  "group_name_attr and gid_attr" :
					  "no group found: check group_base, group_filter and "
					  "group_scope");
}

/* The groups of the first user found, as dird reads them. */
static void user_groups_step(struct test_run *r, struct ldap_conn *c, const char *first)
{
	char err[1024], what[1400];
	test_begin(r);
	struct local_accounts local;
	struct dir_user *u = NULL;
	int rc = local_accounts_load(&local, err, sizeof(err)) < 0 ? -1 :
		 fetch_user(c, &local, first, 0, &u, err, sizeof(err));
	local_accounts_free(&local);
	if (u)
		snprintf(what, sizeof(what), "%s: uid %u, primary gid %u, in %u other group%s",
			 u->name, u->uid, u->gid, u->n_groups, u->n_groups == 1 ? "" : "s");
	else
		snprintf(what, sizeof(what), "%s: %s", first,
			 rc < 0 ? err : "not served (local name or sync_groups)");
	test_step(r, "user groups", rc >= 0, what, "the groups of a user cannot be read: check "
		  "member_attr (memberUid holds names; member, uniqueMember and others hold DNs)");
	if (u && u->n_groups == 0)
		test_note(r, "note: %s is in no group besides its primary one; if that is wrong, "
			  "check member_attr", u->name);
	dir_user_destroy(u);
}

static bool read_base_step(struct test_run *r, struct ldap_conn *c)
{
	char err[1024];
	test_begin(r);
	return test_step(r, "read base", ldap_conn_read_base(c, err, sizeof(err)) == 0,
			 c->domain->base_dn, "the base entry cannot be read: check base_dn (and that "
			 "the bind may read it)");
}

static int test_domain(struct test_run *r, const struct dir_domain *d)
{
	struct ldap_conn c = { 0 };
	struct tally users = { d, true, 0, 0, "", "" };
	test_section(r, "domain", d->name);
	if (r->verbose && !r->json)
		show_config(d);
	if (connect_steps(r, d, &c) && bind_step(r, &c) && read_base_step(r, &c) &&
	    (d->type != DIR_DOMAIN_AD || workgroup_step(r, &c)) && find_users_step(r, &c, &users) &&
	    find_groups_step(r, &c))
		user_groups_step(r, &c, users.first);
	ldap_conn_close(&c);
	return test_result(r);
}

/* Each domain and realm, or the one named `only`: the exit code. */
static int run_tests(struct test_run *r, struct ctl *c, const char *only)
{
	int rc = EXIT_OK;
	bool found = false;
	for (size_t i = 0; i < c->cfg.n_domains; i++) {
		if (only && strcasecmp(only, c->cfg.domains[i].name))
			continue;
		found = true;
		if (test_domain(r, &c->cfg.domains[i]) != EXIT_OK)
			rc = EXIT_FAIL;
	}
	/* Realms: every [realm/] section, or the one asked for (a domain's realm too). */
	for (size_t i = 0; i < c->cfg.n_realms && !only; i++) {
		found = true;
		if (test_realm(r, c, c->cfg.realms[i].name) != EXIT_OK)
			rc = EXIT_FAIL;
	}
	const char *realm = NULL, *other_case = NULL;
	for (size_t i = 0; only && !found && i < c->cfg.n_realms + c->cfg.n_domains; i++) {
		const char *name = i < c->cfg.n_realms ? c->cfg.realms[i].name :
			krb5conf_domain_realm(&c->cfg.domains[i - c->cfg.n_realms]);
		if (name && !strcmp(name, only))
			realm = name;
		else if (name && !strcasecmp(name, only))
			other_case = name;
	}
	if (realm) {
		found = true;
		rc = test_realm(r, c, realm);
	}
	if (!found && other_case) {
		fprintf(stderr, "dirctl: no domain %s in %s, nor a realm (Kerberos realms are upper "
			"case: %s)\n", only, c->cfg.path, other_case);
		return EXIT_USAGE;
	}
	if (!found) {
		fprintf(stderr, "dirctl: no domain %s in %s%s\n", only ? only : "at all", c->cfg.path,
			only ? ", nor a realm" : "");
		return EXIT_USAGE;
	}
	return rc;
}

int cmd_test(struct ctl *c, int argc, char **argv)
{
	struct test_run r = { .verbose = false };
	const char *only = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			r.verbose = true;
		else if (!only && argv[i][0] != '-')
			only = argv[i];
		else {
			fprintf(stderr, "Usage: dirctl [--json] test [--verbose] [DOMAIN|REALM]\n");
			return EXIT_USAGE;
		}
	}
	ctl_directory_env(c);
	log_set_level(r.verbose ? DIR_LOG_DEBUG : DIR_LOG_ERROR);
	if (c->json && !(r.json = json_object_new_array()))
		return EXIT_FAIL;
	int rc = run_tests(&r, c, only);
	if (r.json && rc != EXIT_USAGE) {
		/* {"result": "ok" or "FAILED", "tests": [{"domain" or "realm": NAME, "steps":
		 * [{"step", "ok", "ms", "what", "cause"}], "notes", "result", "failed_at"}]} */
		json_object *top = json_object_new_object();
		json_object_object_add(top, "result", json_object_new_string(rc == EXIT_OK ? "ok" : "FAILED"));
		json_object_object_add(top, "tests", json_object_get(r.json));
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	}
	json_object_put(r.json);
	return rc;
}
