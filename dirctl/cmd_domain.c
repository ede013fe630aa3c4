/* dirctl domain info [--json] [DOMAIN]: where each domain is served from, asked of the server
 * itself (its root DSE) as dird would connect: the server, its name, port, the base, its clock
 * and how far it is from ours, and the Kerberos realm and KDCs when passwords go to a KDC. */
#include <inttypes.h>
#include <krb5.h>
#include <profile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "dirctl.h"
#include "protocol.h"
#include "ldap_conn.h"
#include "root_dse.h"
#include "log.h"

void domain_realm_kdcs(const struct ctl *c, const char *realm, char *out, size_t outlen)
{
	if (!realm_kdcs(c, realm, out, outlen))
		snprintf(out, outlen, "from DNS (_kerberos._udp.%s)", realm);
}

bool realm_kdcs(const struct ctl *c, const char *realm, char *out, size_t outlen)
{
	const struct dir_config *cfg = &c->cfg;
	profile_t profile = NULL;
	char **values = NULL;
	const char *path[] = { "realms", realm, "kdc", NULL };
	out[0] = '\0';
	long rc = cfg->krb5_config ? profile_init_path(cfg->krb5_config, &profile) : 0;
	if (!cfg->krb5_config) {
		krb5_context ctx;
		if (krb5_init_secure_context(&ctx) == 0) {
			krb5_get_profile(ctx, &profile);
			krb5_free_context(ctx);
		}
	}
	if (rc == 0 && profile && profile_get_values(profile, path, &values) == 0) {
		size_t used = 0;
		for (char **v = values; *v && used < outlen; v++) {
			int n = snprintf(out + used, outlen - used, "%s%s", used ? " " : "", *v);
			if (n < 0)
				break;
			used += (size_t)n;
		}
		profile_free_list(values);
	}
	if (profile)
		profile_release(profile);
	return out[0] != '\0';
}

int domain_facts(const struct dir_domain *d, struct domain_facts *f, char *err, size_t errlen)
{
	struct ldap_conn conn;
	memset(f, 0, sizeof(*f));
	f->server_time = -1;
	if (ldap_conn_open(&conn, d, NULL, err, errlen) < 0)
		return -1;
	snprintf(f->server, sizeof(f->server), "%s", conn.server);
	LDAPURLDesc *url = NULL;
	if (ldap_url_parse(conn.server, &url) == LDAP_URL_SUCCESS) {
		snprintf(f->host, sizeof(f->host), "%s", url->lud_host ? url->lud_host : "");
		f->port = url->lud_port ? url->lud_port : !strcmp(url->lud_scheme, "ldaps") ? 636 : 389;
	}
	ldap_free_urldesc(url);
	struct root_dse r;
	root_dse_read(conn.ld, d->timeout, &r);
	ldap_conn_close(&conn);
	snprintf(f->server_name, sizeof(f->server_name), "%s", *r.name ? r.name : f->host);
	snprintf(f->time_text, sizeof(f->time_text), "%s", r.time);
	snprintf(f->vendor, sizeof(f->vendor), "%s", r.vendor);
	f->server_time = root_dse_time(r.time);
	f->offset = f->server_time >= 0 ? f->server_time - (long long)time(NULL) : 0;
	return 0;
}

void clock_warning(long long offset)
{
	if (offset > DIR_CLOCK_WARN_SECONDS || offset < -DIR_CLOCK_WARN_SECONDS)
		printf("warning: this host's clock is %lld s %s the directory's; Kerberos fails beyond "
		       "%d s\n", offset < 0 ? -offset : offset, offset > 0 ? "behind" : "ahead of",
		       DIR_CLOCK_SKEW_SECONDS);
}

static int info_domain(struct ctl *c, const struct dir_domain *d, json_object *list)
{
	struct domain_facts f;
	char err[1024], kdcs[512] = "";
	int rc = EXIT_OK;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "bind_path", json_object_new_string(d->base_dn));
	if (domain_facts(d, &f, err, sizeof(err)) < 0) {
		json_object_object_add(o, "error", json_object_new_string(err));
		if (!c->json)
			printf("domain %s: cannot be reached: %s\n  (dirctl test %s says why, step by step)\n",
			       d->name, err, d->name);
		json_object_array_add(list, o);
		return EXIT_OFFLINE;
	}
	bool known = f.server_time >= 0;
	if (d->auth == DIR_AUTH_KRB5)
		domain_realm_kdcs(c, d->krb5_realm, kdcs, sizeof(kdcs));

	json_object_object_add(o, "server", json_object_new_string(f.server));
	json_object_object_add(o, "server_name", json_object_new_string(f.server_name));
	json_object_object_add(o, "port", json_object_new_int(f.port));
	json_object_object_add(o, "tls", json_object_new_boolean(!strncmp(f.server, "ldaps://", 8) ||
								   d->starttls));
	json_object_object_add(o, "vendor", *f.vendor ? json_object_new_string(f.vendor) : NULL);
	json_object_object_add(o, "server_time", known ? json_object_new_int64(f.server_time) : NULL);
	json_object_object_add(o, "time_offset", known ? json_object_new_int64(f.offset) : NULL);
	json_object_object_add(o, "realm", d->auth == DIR_AUTH_KRB5 ? json_object_new_string(d->krb5_realm) : NULL);
	json_object_object_add(o, "kdc", d->auth == DIR_AUTH_KRB5 ? json_object_new_string(kdcs) : NULL);
	json_object_array_add(list, o);
	if (!c->json) {
		printf("domain %s\n", d->name);
		printf("  server:       %s\n", f.server);
		printf("  server name:  %s\n", f.server_name);
		printf("  port:         %d%s\n", f.port, !strncmp(f.server, "ldaps://", 8) ? " (TLS)" :
						       d->starttls ? " (StartTLS)" : "");
		printf("  bind path:    %s\n", d->base_dn);
		if (*f.vendor)
			printf("  vendor:       %s\n", f.vendor);
		if (known)
			printf("  server time:  %s (%+lld s from ours)\n", f.time_text, f.offset);
		else
			printf("  server time:  not published by this server (no currentTime)\n");
		if (d->auth == DIR_AUTH_KRB5) {
			printf("  realm:        %s\n", d->krb5_realm);
			printf("  kdc:          %s\n", kdcs);
		}
		if (known)
			clock_warning(f.offset);
	}
	if (known && (f.offset > DIR_CLOCK_SKEW_SECONDS || f.offset < -DIR_CLOCK_SKEW_SECONDS))
		rc = EXIT_FAIL;
	return rc;
}

int cmd_domain(struct ctl *c, int argc, char **argv)
{
	const char *only = NULL;
	if (argc < 1 || strcmp(argv[0], "info") || argc > 2) {
		fprintf(stderr, "Usage: dirctl domain info [--json] [DOMAIN]\n");
		return EXIT_USAGE;
	}
	if (argc == 2)
		only = argv[1];
	ctl_directory_env(c);
	log_set_level(DIR_LOG_ERROR);
	json_object *list = json_object_new_array();
	int rc = EXIT_OK;
	bool found = false;
	for (size_t i = 0; i < c->cfg.n_domains; i++) {
		if (only && strcasecmp(only, c->cfg.domains[i].name))
			continue;
		found = true;
		int one = info_domain(c, &c->cfg.domains[i], list);
		if (one != EXIT_OK)
			rc = one;
	}
	if (c->json && found)
		printf("%s\n", json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(list);
	if (!found) {
		fprintf(stderr, "dirctl: no domain %s in %s\n", only ? only : "at all", c->cfg.path);
		return EXIT_USAGE;
	}
	return rc;
}
