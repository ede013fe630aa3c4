/* dirctl krb5conf [--write]: the krb5.conf of the configuration's realms: every [realm/NAME]
 * with its servers, each AD domain's realm (its KDCs the hosts of its uris, unless a [realm/]
 * section names them), the krb5_realm of LDAP domains with auth = krb5, and [kerberos]'s
 * libdefaults and appdefaults lines.  Printed for review, or with --write put in krb5_config
 * (else /etc/krb5.conf): only when it changes, read back by libkrb5's own parser before it is
 * used, the previous file kept as FILE.dirctl-backup, the new one renamed into place. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <profile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirctl.h"
#include "fileutil.h"
#include "ldap_conn.h"

#define DEFAULT_KRB5_CONF "/etc/krb5.conf"

/* One realm of the file: its [realm/] section and the first AD domain of that realm, if any. */
struct realm_entry {
	const char *name;
	const struct dir_realm *section;
	const struct dir_domain *ad;
};

struct realm_set {
	struct realm_entry *v;
	size_t n;
};

static struct realm_entry *find_realm(struct realm_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

/* [realm/] sections first, in the file's order, then the domains' realms. */
static int gather_realms(const struct dir_config *cfg, struct realm_set *s)
{
	s->n = 0;
	s->v = calloc(cfg->n_realms + cfg->n_domains + 1, sizeof(*s->v));
	if (!s->v)
		return -1;
	for (size_t i = 0; i < cfg->n_realms; i++)
		s->v[s->n++] = (struct realm_entry){ cfg->realms[i].name, &cfg->realms[i], NULL };
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *d = &cfg->domains[i];
		const char *name = krb5conf_domain_realm(d);
		if (!name)
			continue;
		struct realm_entry *e = find_realm(s, name);
		if (!e) {
			e = &s->v[s->n++];
			*e = (struct realm_entry){ name, NULL, NULL };
		}
		if (d->type == DIR_DOMAIN_AD && !e->ad)
			e->ad = d;
	}
	return 0;
}

const char *krb5conf_domain_realm(const struct dir_domain *d)
{
	return d->type == DIR_DOMAIN_AD ? d->realm : d->auth == DIR_AUTH_KRB5 ? d->krb5_realm : NULL;
}

const struct dir_realm *krb5conf_realm(const struct dir_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_realms; i++)
		if (!strcmp(cfg->realms[i].name, name))
			return &cfg->realms[i];
	return NULL;
}

/* "kdc = HOST" and "admin_server = HOST" lines for the hosts of an AD domain's uris (out NULL:
 * only counted).  A host is written only when it is one, as a [realm/] section's kdc must be:
 * ldap_url_parse decodes %XX in it, and a "%0A" would start a line of krb5.conf of the uri's
 * choosing.  Returns how many hosts there are. */
static size_t print_uri_hosts(FILE *out, const struct dir_domain *d, bool warn)
{
	size_t hosts = 0;
	const char *p = d->uri;
	while (p && *p) {
		size_t n = strcspn(p, " \t");
		char uri[1024], server[300];
		LDAPURLDesc *url = NULL;
		snprintf(uri, sizeof(uri), "%.*s", (int)(n < sizeof(uri) ? n : sizeof(uri) - 1), p);
		if (ldap_url_parse(uri, &url) == LDAP_URL_SUCCESS && url->lud_host && *url->lud_host) {
			bool ipv6 = strchr(url->lud_host, ':') != NULL; /* without its brackets */
			snprintf(server, sizeof(server), "%s%s%s", ipv6 ? "[" : "", url->lud_host,
				 ipv6 ? "]" : "");
			if (dir_config_valid_server(server)) {
				if (out)
					fprintf(out, "\t\tkdc = %s\n\t\tadmin_server = %s\n", server, server);
				hosts++;
			} else if (warn) {
				fprintf(stderr, "dirctl: [domain/%s]: the host of %s is not a host name; "
					"not in krb5.conf\n", d->name, uri);
			}
		}
		ldap_free_urldesc(url);
		p += n;
		p += strspn(p, " \t");
	}
	return hosts;
}

static void print_servers(FILE *out, const char *tag, const struct dir_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		fprintf(out, "\t\t%s = %s\n", tag, s->v[i]);
}

/* True when one of the administrator's lines sets `tag` (it then replaces ours). */
static bool overridden(const struct dir_strings *lines, const char *tag)
{
	size_t n = strlen(tag);
	for (size_t i = 0; i < lines->n; i++)
		if (!strncmp(lines->v[i], tag, n) && lines->v[i][n] == ' ')
			return true;
	return false;
}

static void print_default(FILE *out, const struct dir_config *cfg, const char *tag,
			  const char *value)
{
	if (!overridden(&cfg->krb5_libdefaults, tag))
		fprintf(out, "\t%s = %s\n", tag, value);
}

/* The DNS domain a realm's hosts are in: an AD domain's dns_domain, else the realm's name,
 * both in lower case, as [domain_realm] wants them. */
static void dns_domain_of(const struct realm_entry *e, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", e->ad ? e->ad->dns_domain : e->name);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static bool has_kdcs(const struct realm_entry *e)
{
	return (e->section && e->section->kdc.n) ||
	       (!e->section && e->ad && print_uri_hosts(NULL, e->ad, false));
}

int krb5conf_render(const struct dir_config *cfg, char **text, size_t *len, bool warn)
{
	struct realm_set s;
	*text = NULL;
	if (gather_realms(cfg, &s) < 0)
		return -1;
	if (!s.n) {
		free(s.v);
		return 0;
	}
	FILE *out = open_memstream(text, len);
	if (!out) {
		free(s.v);
		return -1;
	}
	bool dns = false;
	for (size_t i = 0; i < s.n; i++) {
		dns |= !has_kdcs(&s.v[i]);
		if (warn && !has_kdcs(&s.v[i]) && !s.v[i].ad)
			fprintf(stderr, "dirctl: %s: no kdc in %s: libkrb5 will look for the KDCs in "
				"DNS (_kerberos._udp.%s)\n", s.v[i].name, s.v[i].section ?
				"its [realm/] section" : "a [realm/] section", s.v[i].name);
	}
	fprintf(out, "# Written by dirctl krb5conf from %s: change that file and run "
		"'dirctl krb5conf --write'.\n[libdefaults]\n", cfg->path);
	print_default(out, cfg, "default_realm", s.v[0].name);
	print_default(out, cfg, "dns_lookup_realm", "false");
	/* DNS only for a realm whose KDCs are not named: named ones are used as they are. */
	print_default(out, cfg, "dns_lookup_kdc", dns ? "true" : "false");
	print_default(out, cfg, "rdns", "false");
	print_default(out, cfg, "forwardable", "true");
	for (size_t i = 0; i < cfg->krb5_libdefaults.n; i++)
		fprintf(out, "\t%s\n", cfg->krb5_libdefaults.v[i]);
	fprintf(out, "\n[realms]\n");
	for (size_t i = 0; i < s.n; i++) {
		const struct realm_entry *e = &s.v[i];
		fprintf(out, "\t%s = {\n", e->name);
		if (e->section) {
			print_servers(out, "kdc", &e->section->kdc);
			print_servers(out, "admin_server", &e->section->admin_server);
			print_servers(out, "kpasswd_server", &e->section->kpasswd_server);
		} else if (e->ad) {
			print_uri_hosts(out, e->ad, warn); /* without uris: the DCs from DNS */
		}
		fprintf(out, "\t}\n");
	}
	fprintf(out, "\n[domain_realm]\n");
	for (size_t i = 0; i < s.n; i++) {
		char dns_domain[256], earlier[256];
		bool seen = false;
		dns_domain_of(&s.v[i], dns_domain, sizeof(dns_domain));
		for (size_t j = 0; j < i && !seen; j++) {
			dns_domain_of(&s.v[j], earlier, sizeof(earlier));
			seen = !strcmp(earlier, dns_domain);
		}
		if (!seen)
			fprintf(out, "\t.%s = %s\n\t%s = %s\n", dns_domain, s.v[i].name, dns_domain,
				s.v[i].name);
	}
	if (cfg->krb5_appdefaults.n) {
		fprintf(out, "\n[appdefaults]\n");
		for (size_t i = 0; i < cfg->krb5_appdefaults.n; i++)
			fprintf(out, "\t%s\n", cfg->krb5_appdefaults.v[i]);
	}
	free(s.v);
	if (fclose(out) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

const char *krb5conf_path(const struct dir_config *cfg)
{
	return cfg->krb5_config ? cfg->krb5_config : DEFAULT_KRB5_CONF;
}

/* The file being replaced, kept as the backup once the new one is known to be good. */
struct backup {
	const char *path;
	const char *old;	/* NULL: there was none */
	size_t old_len;
	mode_t mode;
};

/* file_replace_checked's check: libkrb5's profile library reads the file it would install;
 * only then is the old one kept as the backup (a file refused leaves the last backup alone). */
static int profile_reads(const char *tmp, void *arg)
{
	const struct backup *b = arg;
	profile_t profile = NULL;
	long rc = profile_init_path(tmp, &profile);
	if (rc) {
		fprintf(stderr, "dirctl: libkrb5 cannot read the krb5.conf it would get: %s; nothing "
			"changed\n", error_message(rc));
		return -1;
	}
	profile_release(profile);
	if (b->old && file_replace(b->path, b->old, b->old_len, b->mode) < 0) {
		fprintf(stderr, "dirctl: cannot write %s: %s; nothing changed\n", b->path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes text to path (parsed by libkrb5 first, renamed into place), the old file (old_len
 * bytes, NULL: none) kept as the backup. */
static int write_conf(const char *path, const char *text, size_t len, const char *old,
		      size_t old_len, mode_t mode)
{
	char backup[PATH_MAX];
	if (snprintf(backup, sizeof(backup), "%s.dirctl-backup", path) >= (int)sizeof(backup)) {
		fprintf(stderr, "dirctl: %s: the path is too long\n", path);
		return EXIT_FAIL;
	}
	struct backup b = { backup, old, old_len, mode };
	if (file_replace_checked(path, text, len, mode, profile_reads, &b) < 0) {
		if (errno != ECANCELED)
			fprintf(stderr, "dirctl: cannot write %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (old)
		printf("%s: written (the previous one is %s)\n", path, backup);
	else
		printf("%s: written\n", path);
	return EXIT_OK;
}

int cmd_krb5conf(struct ctl *c, int argc, char **argv)
{
	bool write = argc == 1 && !strcmp(argv[0], "--write");
	if (argc > 1 || (argc == 1 && !write)) {
		fprintf(stderr, "Usage: dirctl krb5conf [--write]\n");
		return EXIT_USAGE;
	}
	char *text = NULL;
	size_t len = 0;
	if (krb5conf_render(&c->cfg, &text, &len, true) < 0) {
		fprintf(stderr, "dirctl: out of memory\n");
		return EXIT_FAIL;
	}
	if (!text) {
		fprintf(stderr, "dirctl: no realm in %s: add a [realm/NAME] section (type = ad "
			"domains and auth = krb5 have one too)\n", c->cfg.path);
		return EXIT_FAIL;
	}
	int rc = EXIT_OK;
	if (!write) {
		fwrite(text, 1, len, stdout);
		free(text);
		return rc;
	}
	const char *path = krb5conf_path(&c->cfg);
	size_t old_len = 0;
	char *old = NULL;
	struct stat st;
	if (file_read(path, MAX_KRB5_CONF, &old, &old_len, &st) < 0 && errno != ENOENT) {
		fprintf(stderr, "dirctl: cannot read %s: %s\n", path, strerror(errno));
		rc = EXIT_FAIL;
	} else if (old && old_len == len && !memcmp(old, text, len)) {
		printf("%s: unchanged\n", path);
	} else {
		rc = write_conf(path, text, len, old, old_len, old ? st.st_mode & 0777 : 0644);
	}
	free(old);
	free(text);
	return rc;
}
