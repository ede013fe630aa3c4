#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_keys.h"
#include "secret.h"

#define MAX_SECRET 4096

struct parse {
	const char *file;
	unsigned line;
	char *err;
	size_t errlen;
};

static int fail(struct parse *ps, const char *fmt, ...)
{
	int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->file, ps->line);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The section being read: its kind, the struct its keys set, and its name for messages. */
struct section {
	enum conf_section kind;
	void *base;
	char label[300];	/* "global", "domain/NAME"... */
	bool seen_global, seen_kerberos;
	unsigned *set_on;	/* per key of dir_conf_keys: the line this section set it on */
};

static void enter_section(struct section *sec, enum conf_section kind, void *base)
{
	sec->kind = kind;
	sec->base = base;
	memset(sec->set_on, 0, dir_conf_n_keys * sizeof(*sec->set_on));
}

/* Edits (insertions, deletions, substitutions) from a to b; names of over 63 bytes count as
 * far apart. */
static unsigned edits(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned row[64];
	if (na > 63 || nb > 63)
		return UINT_MAX;
	for (size_t j = 0; j <= nb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= nb; j++) {
			unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			diag = up;
			row[j] = best;
		}
	}
	return row[nb];
}

/* An unknown key: the key of this section it is likeliest a typo of, or one of that name in
 * another section. */
static int unknown_key(struct parse *ps, const struct section *sec, const char *name)
{
	const struct conf_key *near = NULL;
	unsigned best = UINT_MAX;
	for (size_t i = 0; i < dir_conf_n_keys; i++) {
		const struct conf_key *k = &dir_conf_keys[i];
		if (k->section != sec->kind && strcmp(k->name, name))
			continue;
		unsigned e = strcmp(k->name, name) ? edits(k->name, name) : 0;
		if (e < best)
			best = e, near = k;
	}
	if (near && near->section != sec->kind)
		return fail(ps, "unknown key '%s' in [%s]: it belongs in [%s]", name, sec->label,
			    dir_conf_section_name(near->section));
	if (near && best <= (strlen(name) > 4 ? 2u : 1u))
		return fail(ps, "unknown key '%s' in [%s]: did you mean %s?", name, sec->label,
			    near->name);
	return fail(ps, "unknown key '%s' in [%s]", name, sec->label);
}

static int set_value(struct parse *ps, const struct conf_key *k, void *base, const char *value)
{
	char why[DIR_CONF_MAX_LINE + 256];
	if (k->set(k, base, value, why, sizeof(why)) < 0)
		return fail(ps, "%s", why);
	return 0;
}

/* Sets the key `name` of the section being read (sec->kind, its struct at sec->base). */
static int set_key(struct parse *ps, struct section *sec, const char *name, const char *value)
{
	const struct conf_key *k = dir_conf_key(sec->kind, name);
	if (!k)
		return unknown_key(ps, sec, name);
	/* The last of two would win silently: a key is given once (but libdefaults and the like) */
	unsigned *first = &sec->set_on[k - dir_conf_keys];
	if (*first && !k->many)
		return fail(ps, "%s is given twice in [%s] (first on line %u): keep one", name,
			    sec->label, *first);
	*first = ps->line;
	return set_value(ps, k, sec->base, value);
}

/* Which defaults a section gets when: its numbers, yes/no and choices before it is read (the file
 * may change them), its strings and lists once it has been (the AD ones first for type = ad). */
enum defaults { DEFAULT_SCALARS, DEFAULT_UNSET, DEFAULT_UNSET_AD };

static bool is_unset(const struct conf_key *k, const void *base)
{
	const char *field = (const char *)base + k->offset;
	switch (k->storage) {
	case CONF_STRING: return !*(char *const *)field;
	case CONF_LIST: return !*(const size_t *)((const char *)base + k->count_offset);
	case CONF_STRINGS: return !((const struct dir_strings *)field)->n;
	default: return false;
	}
}

static int apply_defaults(struct parse *ps, enum conf_section section, void *base, enum defaults which)
{
	for (size_t i = 0; i < dir_conf_n_keys; i++) {
		const struct conf_key *k = &dir_conf_keys[i];
		const char *def = which == DEFAULT_UNSET_AD ? k->ad_def : k->def;
		if (k->section != section || !def ||
		    (which == DEFAULT_SCALARS) != (k->storage == CONF_SCALAR) ||
		    (which != DEFAULT_SCALARS && !is_unset(k, base)))
			continue;
		if (set_value(ps, k, base, def) < 0)
			return -1; /* out of memory: the table's defaults are valid */
	}
	return 0;
}

/* A realm's name: letters, digits, '.', '-', '_', not starting or ending with a dot. */
static bool valid_realm_name(const char *s)
{
	return dir_conf_plain_name(s, 255) && s[0] != '.' && s[strlen(s) - 1] != '.';
}


static int start_realm(struct parse *ps, struct dir_config *c, const char *name,
		       struct section *sec)
{
	if (!valid_realm_name(name))
		return fail(ps, "[realm/%s]: not a realm name (letters, digits, '.', '-', '_', as "
			    "EXAMPLE.LAN)", name);
	if (dir_conf_has_lower(name)) {
		char upper[256];
		dir_conf_upper(name, upper, sizeof(upper));
		return fail(ps, "[realm/%s]: Kerberos realms are upper case: [realm/%s]", name, upper);
	}
	for (size_t i = 0; i < c->n_realms; i++)
		if (!strcmp(c->realms[i].name, name))
			return fail(ps, "[realm/%s] appears twice", name);
	struct dir_realm *r = realloc(c->realms, (c->n_realms + 1) * sizeof(*r));
	if (!r)
		return fail(ps, "out of memory");
	c->realms = r;
	r = &c->realms[c->n_realms];
	memset(r, 0, sizeof(*r));
	if (!(r->name = strdup(name)))
		return fail(ps, "out of memory");
	c->n_realms++;
	r->conf_line = ps->line;
	enter_section(sec, CONF_REALM, r);
	snprintf(sec->label, sizeof(sec->label), "realm/%s", name);
	return apply_defaults(ps, CONF_REALM, r, DEFAULT_SCALARS);
}

static int start_section(struct parse *ps, struct dir_config *c, char *name, struct section *sec)
{
	bool global = !strcmp(name, "global"), kerberos = !strcmp(name, "kerberos");
	if (global || kerberos) {
		bool *seen = global ? &sec->seen_global : &sec->seen_kerberos;
		if (*seen)
			return fail(ps, "[%s] appears twice", name);
		*seen = true;
		enter_section(sec, global ? CONF_GLOBAL : CONF_KERBEROS, c);
		snprintf(sec->label, sizeof(sec->label), "%s", name);
		return 0;
	}
	if (!strncmp(name, "realm/", 6))
		return start_realm(ps, c, name + 6, sec);
	if (strncmp(name, "domain/", 7) || !dir_conf_plain_name(name + 7, 64))
		return fail(ps, "unknown section [%s] (expected [global], [kerberos], [domain/NAME], "
			    "NAME of letters, digits, '.', '_', '-', or [realm/REALM])", name);
	for (size_t i = 0; i < c->n_domains; i++)
		if (!strcasecmp(c->domains[i].name, name + 7))
			return fail(ps, "[%s] appears twice", name);
	struct dir_domain *d = realloc(c->domains, (c->n_domains + 1) * sizeof(*d));
	if (!d)
		return fail(ps, "out of memory");
	c->domains = d;
	d = &c->domains[c->n_domains];
	memset(d, 0, sizeof(*d));
	d->name = strdup(name + 7);
	if (!d->name)
		return fail(ps, "out of memory");
	c->n_domains++;
	d->conf_line = ps->line;
	enter_section(sec, CONF_DOMAIN, d);
	snprintf(sec->label, sizeof(sec->label), "%s", name);
	return apply_defaults(ps, CONF_DOMAIN, d, DEFAULT_SCALARS);
}

/* "ad.test" -> "DC=ad,DC=test" */
static char *base_of_realm(const char *realm)
{
	size_t cap = 4 * strlen(realm) + 4;
	char *out = malloc(cap), *o = out;
	if (!out)
		return NULL;
	o += sprintf(o, "DC=");
	for (const char *p = realm; *p; p++)
		o += *p == '.' ? sprintf(o, ",DC=") : sprintf(o, "%c", tolower((unsigned char)*p));
	return out;
}

static char *dup_lower(const char *s)
{
	char *out = strdup(s);
	for (char *p = out; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

/* type = ad: what an AD domain is unless the file says otherwise.  The first AD domain is the
 * primary one and gets TrueNAS's range; trusted ones must say theirs. */
static int finish_ad_domain(struct parse *ps, struct dir_domain *d, bool primary)
{
	if (!d->realm)
		return fail(ps, "[domain/%s]: type = ad needs realm (the AD DNS domain, AD.EXAMPLE.COM)",
			    d->name);
	for (char *p = d->realm; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!d->idmap_low) {
		if (!primary)
			return fail(ps, "[domain/%s]: idmap_range is required for all but the first AD "
				    "domain", d->name);
		d->idmap_low = 100000001;
		d->idmap_high = 200000000;
	}
	if (!d->uri)
		d->discover = true;
	if (!d->workgroup)
		return fail(ps, "[domain/%s]: type = ad needs workgroup (the NetBIOS domain name, as "
			    "ADTEST in ADTEST\\alice)", d->name);
	d->schema = DIR_SCHEMA_RFC2307BIS; /* members are DNs */
	if (apply_defaults(ps, CONF_DOMAIN, d, DEFAULT_UNSET_AD) < 0)
		return -1;
	if ((!d->base_dn && !(d->base_dn = base_of_realm(d->realm))) ||
	    (!d->dns_domain && !(d->dns_domain = dup_lower(d->realm))) ||
	    (!d->krb5_realm && !(d->krb5_realm = strdup(d->realm))))
		return fail(ps, "out of memory");
	return 0;
}

static int finish_domain(struct parse *ps, const struct dir_config *c, struct dir_domain *d,
			 bool primary_ad)
{
	if (d->keytab_principal) {
		if (d->keytab || d->sasl_authid || d->bind_dn)
			return fail(ps, "[domain/%s]: keytab_principal (a GSSAPI bind with the host "
				    "keytab) excludes keytab, sasl_authid and bind_dn", d->name);
		if (!(d->keytab = strdup(c->host_keytab)) ||
		    !(d->sasl_authid = strdup(d->keytab_principal)))
			return fail(ps, "out of memory");
	}
	if (d->type == DIR_DOMAIN_AD && finish_ad_domain(ps, d, primary_ad) < 0)
		return -1;
	if (d->type != DIR_DOMAIN_AD && (d->realm || d->workgroup || d->idmap_low ||
					 d->use_default_domain || d->idmap != DIR_IDMAP_RID))
		return fail(ps, "[domain/%s]: realm, workgroup, idmap, idmap_range and "
			    "use_default_domain are for type = ad", d->name);
	if (!d->uri && !d->discover)
		return fail(ps, "[domain/%s]: uri is required (or uri = _srv_ to find servers in DNS)", d->name);
	if (!d->base_dn)
		return fail(ps, "[domain/%s]: base_dn is required", d->name);
	if (d->bind_dn && !d->bind_password_file)
		return fail(ps, "[domain/%s]: bind_dn needs bind_password_file", d->name);
	if (!d->bind_dn && d->bind_password_file)
		return fail(ps, "[domain/%s]: bind_password_file needs bind_dn", d->name);
	if (d->keytab && d->bind_dn)
		return fail(ps, "[domain/%s]: keytab (a GSSAPI bind) and bind_dn (a simple bind) exclude "
			    "each other", d->name);
	if (d->sasl_authid && !d->keytab)
		return fail(ps, "[domain/%s]: sasl_authid needs keytab", d->name);
	if (!d->tls_cert_file != !d->tls_key_file)
		return fail(ps, "[domain/%s]: tls_cert_file and tls_key_file go together", d->name);
	if (d->auth == DIR_AUTH_KRB5 && !d->krb5_realm)
		return fail(ps, "[domain/%s]: auth = krb5 needs krb5_realm", d->name);
	if (apply_defaults(ps, CONF_DOMAIN, d, DEFAULT_UNSET) < 0)
		return -1;
	/* A 2307bis tree often holds older posixGroups beside its groupOfNames and
	 * groupOfUniqueNames: read every kind of member.  Plain RFC 2307 reads what it always has. */
	if (!d->attrs.n_member &&
	    set_value(ps, dir_conf_key(CONF_DOMAIN, "member_attr"), d,
		      d->schema == DIR_SCHEMA_RFC2307BIS ? "member uniqueMember memberUid" :
							   "memberUid") < 0)
		return -1;
	if ((!d->user_base && !(d->user_base = strdup(d->base_dn))) ||
	    (!d->krb5_keytab && !(d->krb5_keytab = strdup(c->host_keytab))) ||
	    (!d->group_base && !(d->group_base = strdup(d->base_dn))))
		return fail(ps, "out of memory");
	return 0;
}

/* Two AD domains may share neither a range nor a workgroup or realm (names would clash). */
static int check_ad_domains(struct parse *ps, const struct dir_config *c)
{
	for (size_t i = 0; i < c->n_domains; i++) {
		const struct dir_domain *a = &c->domains[i];
		for (size_t j = 0; a->type == DIR_DOMAIN_AD && j < i; j++) {
			const struct dir_domain *b = &c->domains[j];
			if (b->type != DIR_DOMAIN_AD)
				continue;
			ps->line = a->conf_line;
			if (a->idmap_low <= b->idmap_high && b->idmap_low <= a->idmap_high)
				return fail(ps, "[domain/%s]: idmap_range %u-%u overlaps [domain/%s]'s "
					    "%u-%u", a->name, a->idmap_low, a->idmap_high, b->name,
					    b->idmap_low, b->idmap_high);
			if (!strcasecmp(a->workgroup, b->workgroup) || !strcasecmp(a->realm, b->realm))
				return fail(ps, "[domain/%s]: the same workgroup or realm as [domain/%s]",
					    a->name, b->name);
		}
	}
	return 0;
}

/* One line as getline read it (len bytes, with its newline if it has one). */
static int parse_line(struct parse *ps, struct dir_config *c, struct section *sec, char *line,
		      size_t len)
{
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > DIR_CONF_MAX_LINE)
		return fail(ps, "line longer than %d bytes", DIR_CONF_MAX_LINE);
	if (memchr(line, '\0', len))
		return fail(ps, "NUL byte in line");
	char *name, *value;
	switch (dir_conf_split(line, &name, &value)) {
	case DIR_CONF_BLANK:
		return 0;
	case DIR_CONF_BAD_SECTION:
		return fail(ps, "malformed section header '%s'", name);
	case DIR_CONF_NO_EQUALS:
		return fail(ps, "expected 'key = value', got '%s'", name);
	case DIR_CONF_NO_KEY:
		return fail(ps, "missing key before '='");
	case DIR_CONF_SECTION:
		if (start_section(ps, c, name, sec) < 0)
			return -1;
		return 0;
	case DIR_CONF_KEY:
		break;
	}
	if (!sec->base)
		return fail(ps, "key '%s' before any [section]", name);
	for (const char *p = value; *p; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t')
			return fail(ps, "%s: control character in value", name);
	return set_key(ps, sec, name, value) < 0 ? -1 : 0;
}

static int parse_stream(struct parse *ps, FILE *f, struct dir_config *c, struct section *sec)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		ps->line++;
		rc = parse_line(ps, c, sec, line, (size_t)len);
	}
	free(line);
	if (rc < 0)
		return -1;
	if (ferror(f))
		return fail(ps, "read error: %s", strerror(errno));
	if (apply_defaults(ps, CONF_GLOBAL, c, DEFAULT_UNSET) < 0 ||
	    apply_defaults(ps, CONF_KERBEROS, c, DEFAULT_UNSET) < 0)
		return -1;
	bool seen_ad = false;
	for (size_t i = 0; i < c->n_domains; i++) {
		ps->line = c->domains[i].conf_line;
		if (finish_domain(ps, c, &c->domains[i], !seen_ad) < 0)
			return -1;
		seen_ad |= c->domains[i].type == DIR_DOMAIN_AD;
	}
	return check_ad_domains(ps, c);
}

int dir_config_load(const char *path, struct dir_config *c, char *err, size_t errlen)
{
	struct parse ps = { .file = path, .err = err, .errlen = errlen };
	memset(c, 0, sizeof(*c));
	if (!(c->path = strdup(path)) || apply_defaults(&ps, CONF_GLOBAL, c, DEFAULT_SCALARS) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		dir_config_free(c);
		return -1;
	}
	FILE *f = dir_conf_open(path);
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, errno == EINVAL ? "not a regular file" :
			 errno == EFBIG ? "larger than 1 MiB: not a dird.conf" : strerror(errno));
		dir_config_free(c);
		return -1;
	}
	struct section sec = { .set_on = calloc(dir_conf_n_keys, sizeof(unsigned)) };
	int rc = sec.set_on ? parse_stream(&ps, f, c, &sec) : fail(&ps, "out of memory");
	free(sec.set_on);
	fclose(f);
	if (rc < 0)
		dir_config_free(c);
	return rc;
}

bool dir_config_local_realm(const struct dir_config *c)
{
	for (size_t i = 0; i < c->n_realms; i++)
		if (c->realms[i].local_users)
			return true;
	return false;
}

/* Frees what the table's keys of section s hold in base. */
static void free_section(enum conf_section s, void *base)
{
	for (size_t i = 0; i < dir_conf_n_keys; i++) {
		const struct conf_key *k = &dir_conf_keys[i];
		char *field = (char *)base + k->offset;
		if (k->section != s)
			continue;
		if (k->storage == CONF_STRING) {
			free(*(char **)field);
		} else if (k->storage == CONF_LIST) {
			char **v = *(char ***)field;
			size_t *n = (size_t *)((char *)base + k->count_offset);
			for (size_t j = 0; j < *n; j++)
				free(v[j]);
			free(v);
		} else if (k->storage == CONF_STRINGS) {
			dir_conf_free_strings((struct dir_strings *)field);
		}
	}
}

void dir_config_free(struct dir_config *c)
{
	for (size_t i = 0; i < c->n_domains; i++) {
		struct dir_domain *d = &c->domains[i];
		for (size_t j = 0; j < 2; j++)
			if (d->tls_ctx[j])
				d->tls_ctx_free(d->tls_ctx[j]);
		free(d->name);
		free_section(CONF_DOMAIN, d);
	}
	free(c->domains);
	for (size_t i = 0; i < c->n_realms; i++) {
		free(c->realms[i].name);
		free_section(CONF_REALM, &c->realms[i]);
	}
	free(c->realms);
	free_section(CONF_GLOBAL, c);
	free_section(CONF_KERBEROS, c);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

static void wipe_free(char *secret)
{
	explicit_bzero(secret, MAX_SECRET + 1);
	free(secret);
}

/* Opens a file only we may read: a regular file of ours, mode 0600 or tighter.  -1, err set. */
static int open_private(const char *file, char *err, size_t errlen)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		snprintf(err, errlen, "%s: not a regular file", file);
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		snprintf(err, errlen, "%s: readable by group or others (mode %04o); chmod 600 it",
			 file, (unsigned)(st.st_mode & 07777));
	else if (st.st_uid != geteuid())
		snprintf(err, errlen, "%s: owned by uid %u, not by us", file, (unsigned)st.st_uid);
	else
		return fd;
	close(fd);
	return -1;
}

int dir_config_check_private(const char *file, char *err, size_t errlen)
{
	int fd = open_private(file, err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

char *dir_config_read_secret(const char *file, char *err, size_t errlen)
{
	int fd = open_private(file, err, errlen);
	if (fd < 0)
		return NULL;
	char *secret = calloc(1, MAX_SECRET + 1);
	if (!secret) {
		snprintf(err, errlen, "%s: out of memory", file);
		goto out;
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, secret + len, MAX_SECRET - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
			wipe_free(secret);
			secret = NULL;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == MAX_SECRET) {
			snprintf(err, errlen, "%s: longer than %d bytes", file, MAX_SECRET);
			wipe_free(secret);
			secret = NULL;
			goto out;
		}
	}
	/* One trailing newline is the file's, not the password's. */
	if (len && secret[len - 1] == '\n')
		secret[--len] = '\0';
	if (len && secret[len - 1] == '\r')
		secret[--len] = '\0';
	if (strlen(secret) != len) {
		snprintf(err, errlen, "%s: NUL byte in password", file);
		wipe_free(secret);
		secret = NULL;
	}
out:
	close(fd);
	return secret;
}

int dir_config_check_usable(const struct dir_config *cfg, char *err, size_t errlen)
{
	/* local users who log in with Kerberos need no directory */
	if (cfg->n_domains == 0 && !dir_config_local_realm(cfg)) {
		snprintf(err, errlen, "%s: no [domain/NAME] section (nor a [realm/NAME] with "
			 "local_users = yes)", cfg->path);
		return -1;
	}
	char why[1024];
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *dom = &cfg->domains[i];
		if (dom->tls_key_file && dir_config_check_private(dom->tls_key_file, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "[domain/%s] tls_key_file: %s", dom->name, why);
			return -1;
		}
		if (!dom->bind_password_file)
			continue;
		/* Read once, so a bad file stops dird at start, not later. */
		char *secret = dir_config_read_secret(dom->bind_password_file, why, sizeof(why));
		if (!secret) {
			snprintf(err, errlen, "[domain/%s] bind_password_file: %s", dom->name, why);
			return -1;
		}
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return 0;
}
