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
#include <sys/un.h>
#include <unistd.h>

#include "ldap_uri.h"
#include "names.h"
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

static int set_string(struct parse *ps, char **dst, const char *key, const char *v)
{
	if (!*v)
		return fail(ps, "%s: empty value", key);
	char *copy = strdup(v);
	if (!copy)
		return fail(ps, "out of memory");
	free(*dst);
	*dst = copy;
	return 0;
}

static int set_path(struct parse *ps, char **dst, const char *key, const char *v)
{
	if (v[0] != '/')
		return fail(ps, "%s: '%s' is not an absolute path", key, v);
	if (strlen(v) >= PATH_MAX)
		return fail(ps, "%s: path too long", key);
	return set_string(ps, dst, key, v);
}

static void free_list(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* Names separated by commas or blanks, each a valid account name. */
static int set_name_list(struct parse *ps, char ***dst, size_t *n, const char *key, const char *v)
{
	free_list(dst, n);
	while (*v) {
		size_t len = strcspn(v, ", \t");
		if (len) {
			char *name = strndup(v, len);
			char **grown = name ? realloc(*dst, (*n + 1) * sizeof(**dst)) : NULL;
			if (!grown) {
				free(name);
				return fail(ps, "out of memory");
			}
			*dst = grown;
			(*dst)[(*n)++] = name;
			if (!dir_valid_name(name))
				return fail(ps, "%s: '%s' is not a valid group name", key, name);
		}
		v += len;
		v += strspn(v, ", \t");
	}
	if (!*n)
		return fail(ps, "%s: empty value", key);
	return 0;
}

/* An attribute description: a name of letters, digits and '-' starting with a letter, or an
 * OID (options such as ";range=..." are not ones we would want). */
static bool valid_attr_name(const char *v, size_t len)
{
	bool ok = len && len <= 64 && (isalpha((unsigned char)v[0]) || isdigit((unsigned char)v[0]));
	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '.';
	return ok;
}

static int set_attr_name(struct parse *ps, char **dst, const char *key, const char *v)
{
	if (!valid_attr_name(v, strlen(v)))
		return fail(ps, "%s: '%s' is not an attribute name", key, v);
	return set_string(ps, dst, key, v);
}

/* member_attr: attribute names separated by commas or blanks, each once. */
static int set_member_attrs(struct parse *ps, struct dir_attrs *a, const char *key, const char *v)
{
	free_list(&a->member, &a->n_member);
	if (!(a->member = calloc(DIR_MAX_MEMBER_ATTRS, sizeof(char *))))
		return fail(ps, "out of memory");
	for (v += strspn(v, ", \t"); *v; v += strspn(v, ", \t")) {
		size_t len = strcspn(v, ", \t");
		if (!valid_attr_name(v, len))
			return fail(ps, "%s: '%.*s' is not an attribute name", key, (int)len, v);
		for (size_t i = 0; i < a->n_member; i++)
			if (strlen(a->member[i]) == len && !strncasecmp(a->member[i], v, len))
				return fail(ps, "%s: %.*s is named twice", key, (int)len, v);
		if (a->n_member == DIR_MAX_MEMBER_ATTRS)
			return fail(ps, "%s: more than %d attributes", key, DIR_MAX_MEMBER_ATTRS);
		if (!(a->member[a->n_member] = strndup(v, len)))
			return fail(ps, "out of memory");
		a->n_member++;
		v += len;
	}
	if (!a->n_member)
		return fail(ps, "%s: empty value", key);
	return 0;
}

/* An LDAP filter in parentheses with balanced parentheses; the server checks the rest. */
static int set_filter(struct parse *ps, char **dst, const char *key, const char *v)
{
	int depth = 0;
	bool closed_early = false;
	for (const char *p = v; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0 && p[1])
			closed_early = true;
		if (depth < 0)
			break;
	}
	if (v[0] != '(' || depth != 0 || closed_early)
		return fail(ps, "%s: '%s' is not an LDAP filter in parentheses, like (memberOf=...)", key, v);
	return set_string(ps, dst, key, v);
}

static int set_uint(struct parse *ps, unsigned long *dst, const char *key, const char *v,
		    unsigned long lo, unsigned long hi)
{
	if (!dir_conf_uint(v, lo, hi, dst))
		return fail(ps, "%s: '%s' is not a whole number from %lu to %lu", key, v, lo, hi);
	return 0;
}

static int set_bool(struct parse *ps, bool *dst, const char *key, const char *v)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*dst = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*dst = false;
	else
		return fail(ps, "%s: '%s' is not yes or no", key, v);
	return 0;
}

static int set_seconds_ms(struct parse *ps, unsigned *dst, const char *key, const char *v,
			  unsigned lo_ms, unsigned hi_ms)
{
	if (!dir_conf_seconds_ms(v, lo_ms, hi_ms, dst))
		return fail(ps, "%s: '%s' is not a number of seconds from %u.%03u to %u", key, v,
			    lo_ms / 1000, lo_ms % 1000, hi_ms / 1000);
	return 0;
}

/* The absolute path of a socket: its file name is the userdb service name clients ask for. */
static int set_userdb_socket(struct parse *ps, char **dst, const char *key, const char *v)
{
	const char *name = strrchr(v, '/');
	if (v[0] != '/' || !name[1] || !strcmp(name, "/.") || !strcmp(name, "/.."))
		return fail(ps, "%s: '%s' is not the absolute path of a socket", key, v);
	if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail(ps, "%s: path too long for a socket", key);
	return set_string(ps, dst, key, v);
}

static int add_string(struct parse *ps, struct dir_strings *dst, const char *v, size_t len)
{
	char *copy = strndup(v, len);
	char **grown = copy ? realloc(dst->v, (dst->n + 1) * sizeof(*dst->v)) : NULL;
	if (!grown) {
		free(copy);
		return fail(ps, "out of memory");
	}
	dst->v = grown;
	dst->v[dst->n++] = copy;
	return 0;
}

static void free_strings(struct dir_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

bool dir_config_valid_server(const char *s)
{
	const char *port;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end == s + 1)
			return false;
		for (const char *p = s + 1; p < end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		port = end + 1;
	} else {
		size_t n = strcspn(s, ":");
		if (!n || n > 253)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)s[i]) && !strchr(".-_", s[i]))
				return false;
		port = s + n;
	}
	unsigned long number;
	return !*port || (*port == ':' && dir_conf_uint(port + 1, 1, 65535, &number));
}

/* Servers separated by commas or blanks, each valid_server. */
static int set_servers(struct parse *ps, struct dir_strings *dst, const char *key, const char *v)
{
	free_strings(dst);
	while (*v) {
		size_t len = strcspn(v, ", \t");
		if (len) {
			if (add_string(ps, dst, v, len) < 0)
				return -1;
			if (!dir_config_valid_server(dst->v[dst->n - 1]))
				return fail(ps, "%s: '%s' is not a host, host:port or [address]:port", key,
					    dst->v[dst->n - 1]);
		}
		v += len;
		v += strspn(v, ", \t");
	}
	if (!dst->n)
		return fail(ps, "%s: empty value", key);
	return 0;
}

/* One relation of krb5.conf's [libdefaults] or [appdefaults], "tag = value", kept as
 * "tag = value" with single spaces.  A value may not open a {...} subsection (one line cannot
 * hold one): libkrb5 opens one for a value that starts with '{'.  Braces further in are text,
 * as in default_ccache_name = FILE:/tmp/krb5cc_%{uid}; no '}' can close anything, since the
 * line starts with the tag. */
static int add_krb5_line(struct parse *ps, struct dir_strings *dst, const char *key, const char *v)
{
	size_t tag = strcspn(v, " \t=");
	const char *value = v + tag + strspn(v + tag, " \t");
	bool ok = tag > 0 && *value == '=';
	for (size_t i = 0; ok && i < tag; i++)
		ok = isalnum((unsigned char)v[i]) || v[i] == '_' || v[i] == '-';
	if (ok) {
		value++;
		value += strspn(value, " \t");
		ok = *value && *value != '{';
	}
	if (!ok)
		return fail(ps, "%s: '%s' is not a krb5.conf relation 'tag = value' (like "
			    "ticket_lifetime = 24h) on one line", key, v);
	char line[DIR_CONF_MAX_LINE + 4];
	int n = snprintf(line, sizeof(line), "%.*s = %s", (int)tag, v, value);
	return add_string(ps, dst, line, (size_t)n);
}

/* [kerberos]: what krb5.conf gets besides the realms, and the host keytab.  libdefaults and
 * appdefaults may be given many times, one relation each. */
static int set_kerberos(struct parse *ps, struct dir_config *c, const char *k, const char *v)
{
	if (!strcmp(k, "keytab"))
		return set_path(ps, &c->host_keytab, k, v);
	if (!strcmp(k, "libdefaults"))
		return add_krb5_line(ps, &c->krb5_libdefaults, k, v);
	if (!strcmp(k, "appdefaults"))
		return add_krb5_line(ps, &c->krb5_appdefaults, k, v);
	return fail(ps, "unknown key '%s' in [kerberos]", k);
}

static int set_realm_key(struct parse *ps, struct dir_realm *r, const char *k, const char *v)
{
	if (!strcmp(k, "kdc"))
		return set_servers(ps, &r->kdc, k, v);
	if (!strcmp(k, "admin_server"))
		return set_servers(ps, &r->admin_server, k, v);
	if (!strcmp(k, "kpasswd_server"))
		return set_servers(ps, &r->kpasswd_server, k, v);
	if (!strcmp(k, "local_users"))
		return set_bool(ps, &r->local_users, k, v);
	return fail(ps, "unknown key '%s' in [realm/%s]", k, r->name);
}

static int set_global(struct parse *ps, struct dir_config *c, const char *k, const char *v)
{
	unsigned long n;
	if (!strcmp(k, "cache_dir"))
		return set_path(ps, &c->cache_dir, k, v);
	if (!strcmp(k, "cache_credentials"))
		return set_bool(ps, &c->cache_credentials, k, v);
	if (!strcmp(k, "offline_credentials_expiration")) {
		if (set_uint(ps, &n, k, v, 0, 3650) < 0)
			return -1;
		c->offline_credentials_expiration = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "krb5_config"))
		return set_path(ps, &c->krb5_config, k, v);
	if (!strcmp(k, "krb5_ccache_dir"))
		return set_path(ps, &c->krb5_ccache_dir, k, v);
	if (!strcmp(k, "run_dir"))
		return set_path(ps, &c->run_dir, k, v);
	if (!strcmp(k, "state_dir"))
		return set_path(ps, &c->state_dir, k, v);
	if (!strcmp(k, "refresh_interval")) {
		if (set_uint(ps, &n, k, v, 60, 31536000) < 0)
			return -1;
		c->refresh_interval = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "enumerate"))
		return set_bool(ps, &c->enumerate, k, v);
	if (!strcmp(k, "entry_ttl")) {
		if (set_uint(ps, &n, k, v, 0, 31536000) < 0)
			return -1;
		c->entry_ttl = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "negative_ttl")) {
		if (set_uint(ps, &n, k, v, 0, DIR_NEGATIVE_TTL_MAX) < 0)
			return -1;
		c->negative_ttl = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "nss_timeout"))
		return set_seconds_ms(ps, &c->nss_timeout_ms, k, v, DIR_NSS_TIMEOUT_MIN_MS,
				      DIR_NSS_TIMEOUT_MAX_MS);
	if (!strcmp(k, "userdb_socket"))
		return set_userdb_socket(ps, &c->userdb_socket, k, v);
	if (!strcmp(k, "userdb_enumerate"))
		return set_bool(ps, &c->userdb_enumerate, k, v);
	if (!strcmp(k, "log_level")) {
		static const char *const names[] = { "error", "warning", "info", "debug" };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(v, names[i])) {
				c->log_level = (enum dir_log_level)i;
				return 0;
			}
		return fail(ps, "log_level: '%s' is not error, warning, info or debug", v);
	}
	return fail(ps, "unknown key '%s' in [global]", k);
}

static bool has_lower(const char *s)
{
	for (; *s; s++)
		if (islower((unsigned char)*s))
			return true;
	return false;
}

/* s in upper case, for a message (cut to fit out). */
static void to_upper(const char *s, char *out, size_t outlen)
{
	size_t i = 0;
	for (; s[i] && i + 1 < outlen; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

static int set_realm(struct parse *ps, char **dst, const char *key, const char *v)
{
	for (const char *p = v; *p; p++)
		if (*p == '@' || *p == '/' || *p == '\\' || isspace((unsigned char)*p))
			return fail(ps, "%s: '%s' is not a realm name", key, v);
	return set_string(ps, dst, key, v);
}

/* A NetBIOS domain name: 1-15 letters, digits, '-' or '_' (served names start with it). */
static int set_workgroup(struct parse *ps, char **dst, const char *key, const char *v)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 15;
	for (const char *p = v; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
	if (!ok)
		return fail(ps, "%s: '%s' is not a NetBIOS domain name (1-15 letters, digits, '-', '_')",
			    key, v);
	if (set_string(ps, dst, key, v) < 0)
		return -1;
	for (char *p = *dst; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return 0;
}

#define IDMAP_MIN 1000u
#define IDMAP_MAX 2147000000u
#define IDMAP_MIN_SIZE 10000u

/* LOW-HIGH: low < high, at least IDMAP_MIN_SIZE ids, inside IDMAP_MIN..IDMAP_MAX. */
static int set_idmap_range(struct parse *ps, struct dir_domain *d, const char *key, const char *v)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		return fail(ps, "%s: '%s' is not LOW-HIGH", key, v);
	unsigned long long low = strtoull(v, &end, 10);
	if (errno || *end != '-' || !isdigit((unsigned char)end[1]))
		return fail(ps, "%s: '%s' is not LOW-HIGH", key, v);
	unsigned long long high = strtoull(end + 1, &end, 10);
	if (errno || *end)
		return fail(ps, "%s: '%s' is not LOW-HIGH", key, v);
	if (low >= high)
		return fail(ps, "%s: %llu is not below %llu", key, low, high);
	if (low < IDMAP_MIN || high > IDMAP_MAX)
		return fail(ps, "%s: %s is not inside %u-%u", key, v, IDMAP_MIN, IDMAP_MAX);
	if (high - low + 1 < IDMAP_MIN_SIZE)
		return fail(ps, "%s: %s holds fewer than %u ids", key, v, IDMAP_MIN_SIZE);
	d->idmap_low = (uint32_t)low;
	d->idmap_high = (uint32_t)high;
	return 0;
}

static int set_domain(struct parse *ps, struct dir_domain *d, const char *k, const char *v)
{
	unsigned long n;
	if (!strcmp(k, "type")) {
		if (!strcmp(v, "ldap"))
			d->type = DIR_DOMAIN_LDAP;
		else if (!strcmp(v, "ad"))
			d->type = DIR_DOMAIN_AD;
		else
			return fail(ps, "type: '%s' is not ldap or ad", v);
		return 0;
	}
	if (!strcmp(k, "realm"))
		return set_realm(ps, &d->realm, k, v);
	if (!strcmp(k, "workgroup"))
		return set_workgroup(ps, &d->workgroup, k, v);
	if (!strcmp(k, "use_default_domain"))
		return set_bool(ps, &d->use_default_domain, k, v);
	if (!strcmp(k, "idmap")) {
		if (!strcmp(v, "rid"))
			d->idmap = DIR_IDMAP_RID;
		else if (!strcmp(v, "ad"))
			d->idmap = DIR_IDMAP_AD;
		else
			return fail(ps, "idmap: '%s' is not rid or ad", v);
		return 0;
	}
	if (!strcmp(k, "idmap_range"))
		return set_idmap_range(ps, d, k, v);
	if (!strcmp(k, "machine_password_max_age")) {
		if (set_uint(ps, &n, k, v, 0, 3650) < 0)
			return -1;
		d->machine_password_max_age = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "uri")) {
		if (!strcmp(v, "_srv_")) {
			d->discover = true;
			return 0;
		}
		char why[1200];
		if (dir_ldap_uris_check(v, why, sizeof(why)) < 0)
			return fail(ps, "uri: %s (or uri = _srv_ to find servers in DNS)", why);
		return set_string(ps, &d->uri, k, v);
	}
	if (!strcmp(k, "discover"))
		return set_bool(ps, &d->discover, k, v);
	if (!strcmp(k, "dns_domain"))
		return set_string(ps, &d->dns_domain, k, v);
	if (!strcmp(k, "base_dn"))
		return set_string(ps, &d->base_dn, k, v);
	if (!strcmp(k, "user_base"))
		return set_string(ps, &d->user_base, k, v);
	if (!strcmp(k, "group_base"))
		return set_string(ps, &d->group_base, k, v);
	if (!strcmp(k, "bind_dn"))
		return set_string(ps, &d->bind_dn, k, v);
	if (!strcmp(k, "bind_password_file"))
		return set_path(ps, &d->bind_password_file, k, v);
	if (!strcmp(k, "schema")) {
		if (!strcmp(v, "rfc2307"))
			d->schema = DIR_SCHEMA_RFC2307;
		else if (!strcmp(v, "rfc2307bis"))
			d->schema = DIR_SCHEMA_RFC2307BIS;
		else
			return fail(ps, "schema: '%s' is not rfc2307 or rfc2307bis", v);
		return 0;
	}
	if (!strcmp(k, "user_scope") || !strcmp(k, "group_scope")) {
		enum dir_scope *dst = k[0] == 'u' ? &d->user_scope : &d->group_scope;
		if (!strcmp(v, "sub"))
			*dst = DIR_SCOPE_SUB;
		else if (!strcmp(v, "one"))
			*dst = DIR_SCOPE_ONE;
		else if (!strcmp(v, "base"))
			*dst = DIR_SCOPE_BASE;
		else
			return fail(ps, "%s: '%s' is not sub, one or base", k, v);
		return 0;
	}
	if (!strcmp(k, "user_filter"))
		return set_filter(ps, &d->user_filter, k, v);
	if (!strcmp(k, "group_filter"))
		return set_filter(ps, &d->group_filter, k, v);
	if (!strcmp(k, "sync_groups"))
		return set_name_list(ps, &d->sync_groups, &d->n_sync_groups, k, v);
	static const struct {
		const char *key;
		size_t offset;
	} attr_keys[] = {
		{ "user_name_attr", offsetof(struct dir_attrs, user_name) },
		{ "uid_attr", offsetof(struct dir_attrs, uid) },
		{ "gid_attr", offsetof(struct dir_attrs, gid) },
		{ "gecos_attr", offsetof(struct dir_attrs, gecos) },
		{ "home_attr", offsetof(struct dir_attrs, home) },
		{ "shell_attr", offsetof(struct dir_attrs, shell) },
		{ "email_attr", offsetof(struct dir_attrs, email) },
		{ "group_name_attr", offsetof(struct dir_attrs, group_name) },
		{ "ssh_key_attr", offsetof(struct dir_attrs, ssh_key) },
	};
	if (!strcmp(k, "member_attr"))
		return set_member_attrs(ps, &d->attrs, k, v);
	for (size_t i = 0; i < sizeof(attr_keys) / sizeof(attr_keys[0]); i++)
		if (!strcmp(k, attr_keys[i].key))
			return set_attr_name(ps, (char **)((char *)&d->attrs + attr_keys[i].offset), k, v);
	if (!strcmp(k, "min_id")) {
		if (set_uint(ps, &n, k, v, 0, 4294967294UL) < 0)
			return -1;
		d->min_id = (uint32_t)n;
		return 0;
	}
	if (!strcmp(k, "default_shell"))
		return set_path(ps, &d->default_shell, k, v);
	if (!strcmp(k, "home_template")) {
		if (v[0] != '/' && v[0] != '%')
			return fail(ps, "home_template: '%s' does not start with / or a %% token", v);
		return set_string(ps, &d->home_template, k, v);
	}
	if (!strcmp(k, "timeout")) {
		if (set_uint(ps, &n, k, v, DIR_TIMEOUT_MIN, DIR_TIMEOUT_MAX) < 0)
			return -1;
		d->timeout = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "page_size")) {
		if (set_uint(ps, &n, k, v, 1, 100000) < 0)
			return -1;
		d->page_size = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "auth")) {
		if (!strcmp(v, "ldap"))
			d->auth = DIR_AUTH_LDAP;
		else if (!strcmp(v, "krb5"))
			d->auth = DIR_AUTH_KRB5;
		else
			return fail(ps, "auth: '%s' is not ldap or krb5", v);
		return 0;
	}
	if (!strcmp(k, "keytab"))
		return set_path(ps, &d->keytab, k, v);
	if (!strcmp(k, "sasl_authid"))
		return set_string(ps, &d->sasl_authid, k, v);
	if (!strcmp(k, "tls")) {
		if (strcmp(v, "starttls") && strcmp(v, "none"))
			return fail(ps, "tls: '%s' is not starttls or none (ldaps:// uris use TLS anyway)", v);
		d->starttls = !strcmp(v, "starttls");
		return 0;
	}
	if (!strcmp(k, "allow_insecure_bind"))
		return set_bool(ps, &d->allow_insecure_bind, k, v);
	if (!strcmp(k, "tls_ca_file"))
		return set_path(ps, &d->tls_ca_file, k, v);
	if (!strcmp(k, "tls_ca_dir"))
		return set_path(ps, &d->tls_ca_dir, k, v);
	if (!strcmp(k, "tls_cert_file"))
		return set_path(ps, &d->tls_cert_file, k, v);
	if (!strcmp(k, "tls_key_file"))
		return set_path(ps, &d->tls_key_file, k, v);
	if (!strcmp(k, "tls_reqcert")) {
		static const char *const names[] = { "never", "allow", "try", "demand" };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(v, names[i])) {
				d->tls_reqcert = (enum dir_tls_reqcert)i;
				return 0;
			}
		return fail(ps, "tls_reqcert: '%s' is not never, allow, try or demand", v);
	}
	if (!strcmp(k, "allow_password_change"))
		return set_bool(ps, &d->allow_password_change, k, v);
	if (!strcmp(k, "krb5_realm")) {
		char upper[256];
		to_upper(v, upper, sizeof(upper));
		if (has_lower(v))
			return fail(ps, "krb5_realm: '%s' has lower case letters: Kerberos realms are "
				    "upper case (krb5_realm = %s)", v, upper);
		return set_realm(ps, &d->krb5_realm, k, v);
	}
	if (!strcmp(k, "keytab_principal"))
		return set_string(ps, &d->keytab_principal, k, v);
	if (!strcmp(k, "krb5_keytab"))
		return set_path(ps, &d->krb5_keytab, k, v);
	if (!strcmp(k, "access_groups"))
		return set_name_list(ps, &d->access_groups, &d->n_access_groups, k, v);
	if (!strcmp(k, "access_filter"))
		return set_filter(ps, &d->access_filter, k, v);
	return fail(ps, "unknown key '%s' in [domain/%s]", k, d->name);
}

static bool valid_domain_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* A realm's name: letters, digits, '.', '-', '_', not starting or ending with a dot. */
static bool valid_realm_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 255 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* The section being read: [global] (both NULL, !kerberos), [kerberos], a domain or a realm. */
struct section {
	bool seen_global, seen_kerberos;
	bool kerberos;
	struct dir_domain *domain;
	struct dir_realm *realm;
};

static int start_realm(struct parse *ps, struct dir_config *c, const char *name,
		       struct section *sec)
{
	if (!valid_realm_name(name))
		return fail(ps, "[realm/%s]: not a realm name (letters, digits, '.', '-', '_', as "
			    "EXAMPLE.LAN)", name);
	if (has_lower(name)) {
		char upper[256];
		to_upper(name, upper, sizeof(upper));
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
	sec->realm = r;
	return 0;
}

static int start_section(struct parse *ps, struct dir_config *c, char *name, struct section *sec)
{
	sec->domain = NULL;
	sec->realm = NULL;
	sec->kerberos = false;
	if (!strcmp(name, "global")) {
		if (sec->seen_global)
			return fail(ps, "[global] appears twice");
		sec->seen_global = true;
		return 0;
	}
	if (!strcmp(name, "kerberos")) {
		if (sec->seen_kerberos)
			return fail(ps, "[kerberos] appears twice");
		sec->seen_kerberos = sec->kerberos = true;
		return 0;
	}
	if (!strncmp(name, "realm/", 6))
		return start_realm(ps, c, name + 6, sec);
	if (strncmp(name, "domain/", 7) || !valid_domain_name(name + 7))
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
	d->min_id = 1000;
	d->timeout = DIR_DEFAULT_TIMEOUT;
	d->page_size = 500;
	d->tls_reqcert = DIR_TLS_DEMAND;
	d->machine_password_max_age = 30;
	d->conf_line = ps->line;
	sec->domain = d;
	return 0;
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
	if (!d->attrs.n_member && set_member_attrs(ps, &d->attrs, "member_attr", "member") < 0)
		return -1;
	struct {
		char **field;
		const char *value;
	} defaults[] = {
		{ &d->attrs.user_name, "sAMAccountName" }, { &d->attrs.group_name, "sAMAccountName" },
		{ &d->attrs.gecos, "displayName" }, { &d->attrs.home, "unixHomeDirectory" },
		/* normal user accounts: no computers, no trust accounts */
		{ &d->user_filter, "(&(objectClass=user)(sAMAccountType=805306368))" },
		/* security groups only: distribution lists never are */
		{ &d->group_filter, "(&(objectClass=group)(groupType:1.2.840.113556.1.4.803:=2147483648))" },
		{ &d->home_template, "/home/%D/%U" },
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!*defaults[i].field && !(*defaults[i].field = strdup(defaults[i].value)))
			return fail(ps, "out of memory");
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
	struct {
		char **field;
		const char *value;
	} defaults[] = {
		{ &d->attrs.user_name, "uid" }, { &d->attrs.uid, "uidNumber" },
		{ &d->attrs.gid, "gidNumber" }, { &d->attrs.gecos, "gecos" },
		{ &d->attrs.home, "homeDirectory" }, { &d->attrs.shell, "loginShell" },
		{ &d->attrs.email, "mail" }, { &d->attrs.group_name, "cn" },
		{ &d->attrs.ssh_key, "sshPublicKey" },
		{ &d->user_filter, "(objectClass=posixAccount)" },
		{ &d->group_filter, "(objectClass=posixGroup)" },
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!*defaults[i].field && !(*defaults[i].field = strdup(defaults[i].value)))
			return fail(ps, "out of memory");
	/* A 2307bis tree often holds older posixGroups beside its groupOfNames and
	 * groupOfUniqueNames: read every kind of member.  Plain RFC 2307 reads what it always has. */
	if (!d->attrs.n_member &&
	    set_member_attrs(ps, &d->attrs, "member_attr", d->schema == DIR_SCHEMA_RFC2307BIS ?
			     "member uniqueMember memberUid" : "memberUid") < 0)
		return -1;
	if ((!d->user_base && !(d->user_base = strdup(d->base_dn))) ||
	    (!d->krb5_keytab && !(d->krb5_keytab = strdup(c->host_keytab))) ||
	    (!d->group_base && !(d->group_base = strdup(d->base_dn))) ||
	    (!d->default_shell && !(d->default_shell = strdup("/bin/sh"))) ||
	    (!d->home_template && !(d->home_template = strdup("/home/%U"))))
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

static int parse_stream(struct parse *ps, FILE *f, struct dir_config *c)
{
	char line[DIR_CONF_MAX_LINE + 2];
	bool in_section = false;
	struct section sec = { .seen_global = false };

	while (fgets(line, sizeof(line), f)) {
		ps->line++;
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f))
			return fail(ps, "line longer than %d bytes", DIR_CONF_MAX_LINE);
		if (memchr(line, '\0', len) != NULL && strlen(line) != len)
			return fail(ps, "NUL byte in line");
		char *name, *value;
		switch (dir_conf_split(line, &name, &value)) {
		case DIR_CONF_BLANK:
			continue;
		case DIR_CONF_BAD_SECTION:
			return fail(ps, "malformed section header '%s'", name);
		case DIR_CONF_NO_EQUALS:
			return fail(ps, "expected 'key = value', got '%s'", name);
		case DIR_CONF_NO_KEY:
			return fail(ps, "missing key before '='");
		case DIR_CONF_SECTION:
			if (start_section(ps, c, name, &sec) < 0)
				return -1;
			in_section = true;
			continue;
		case DIR_CONF_KEY:
			break;
		}
		if (!in_section)
			return fail(ps, "key '%s' before any [section]", name);
		for (const char *p = value; *p; p++)
			if (iscntrl((unsigned char)*p) && *p != '\t')
				return fail(ps, "%s: control character in value", name);
		int set = sec.domain ? set_domain(ps, sec.domain, name, value) :
			  sec.realm ? set_realm_key(ps, sec.realm, name, value) :
			  sec.kerberos ? set_kerberos(ps, c, name, value) : set_global(ps, c, name, value);
		if (set < 0)
			return -1;
	}
	if (ferror(f))
		return fail(ps, "read error: %s", strerror(errno));
	if (!c->host_keytab && !(c->host_keytab = strdup(DIR_DEFAULT_HOST_KEYTAB)))
		return fail(ps, "out of memory");
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
	c->refresh_interval = 86400;
	c->enumerate = true;
	c->nss_timeout_ms = DIR_DEFAULT_NSS_TIMEOUT_MS;
	c->negative_ttl = DIR_DEFAULT_NEGATIVE_TTL;
	c->entry_ttl = 5400;
	c->log_level = DIR_LOG_INFO;
	if (!(c->path = strdup(path)) || !(c->cache_dir = strdup(DIR_DEFAULT_CACHE_DIR)) ||
	    !(c->run_dir = strdup(DIR_DEFAULT_RUN_DIR)) ||
	    !(c->krb5_ccache_dir = strdup(DIR_DEFAULT_KRB5_CCACHE_DIR)) ||
	    !(c->state_dir = strdup(DIR_DEFAULT_STATE_DIR))) {
		snprintf(err, errlen, "%s: out of memory", path);
		dir_config_free(c);
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		dir_config_free(c);
		return -1;
	}
	int rc = parse_stream(&ps, f, c);
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

void dir_config_free(struct dir_config *c)
{
	for (size_t i = 0; i < c->n_domains; i++) {
		struct dir_domain *d = &c->domains[i];
		free(d->name);
		free(d->uri);
		free(d->dns_domain);
		free(d->base_dn);
		free(d->user_base);
		free(d->group_base);
		free(d->bind_dn);
		free(d->bind_password_file);
		free(d->default_shell);
		free(d->home_template);
		for (size_t j = 0; j < d->n_access_groups; j++)
			free(d->access_groups[j]);
		free(d->access_groups);
		free(d->access_filter);
		free(d->user_filter);
		free(d->group_filter);
		free(d->attrs.user_name);
		free(d->attrs.uid);
		free(d->attrs.gid);
		free(d->attrs.gecos);
		free(d->attrs.home);
		free(d->attrs.shell);
		free(d->attrs.email);
		free(d->attrs.group_name);
		free_list(&d->attrs.member, &d->attrs.n_member);
		free(d->attrs.ssh_key);
		for (size_t j = 0; j < d->n_sync_groups; j++)
			free(d->sync_groups[j]);
		free(d->sync_groups);
		free(d->keytab);
		free(d->sasl_authid);
		free(d->keytab_principal);
		free(d->tls_ca_file);
		free(d->tls_ca_dir);
		free(d->tls_cert_file);
		free(d->tls_key_file);
		free(d->krb5_realm);
		free(d->krb5_keytab);
		free(d->realm);
		free(d->workgroup);
	}
	free(c->domains);
	for (size_t i = 0; i < c->n_realms; i++) {
		struct dir_realm *r = &c->realms[i];
		free(r->name);
		free_strings(&r->kdc);
		free_strings(&r->admin_server);
		free_strings(&r->kpasswd_server);
	}
	free(c->realms);
	free(c->host_keytab);
	free_strings(&c->krb5_libdefaults);
	free_strings(&c->krb5_appdefaults);
	free(c->path);
	free(c->cache_dir);
	free(c->run_dir);
	free(c->state_dir);
	free(c->krb5_config);
	free(c->krb5_ccache_dir);
	free(c->userdb_socket);
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
