/* dird.conf's keys (config_keys.h) and the readers of their values. */
#include "config_keys.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "config.h"
#include "ldap_uri.h"
#include "names.h"

#define FIELD(k, base, type) ((type *)((char *)(base) + (k)->offset))

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "numbers are read as unsigned");
_Static_assert(sizeof(enum dir_scope) == sizeof(int) && sizeof(enum dir_log_level) == sizeof(int),
	       "choices are read as int");

static int why_not(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int set_string(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	if (!*v)
		return why_not(why, whylen, "%s: empty value", k->name);
	char *copy = strdup(v);
	if (!copy)
		return why_not(why, whylen, "out of memory");
	char **dst = FIELD(k, base, char *);
	free(*dst);
	*dst = copy;
	return 0;
}

static int set_path(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	if (v[0] != '/')
		return why_not(why, whylen, "%s: '%s' is not an absolute path", k->name, v);
	if (strlen(v) >= PATH_MAX)
		return why_not(why, whylen, "%s: path too long", k->name);
	return set_string(k, base, v, why, whylen);
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
static int set_names(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	char ***dst = FIELD(k, base, char **);
	size_t *n = (size_t *)((char *)base + k->count_offset);
	free_list(dst, n);
	while (*v) {
		size_t len = strcspn(v, ", \t");
		if (len) {
			char *name = strndup(v, len);
			char **grown = name ? realloc(*dst, (*n + 1) * sizeof(**dst)) : NULL;
			if (!grown) {
				free(name);
				return why_not(why, whylen, "out of memory");
			}
			*dst = grown;
			(*dst)[(*n)++] = name;
			if (!dir_valid_name(name))
				return why_not(why, whylen, "%s: '%s' is not a valid group name", k->name,
					       name);
		}
		v += len;
		v += strspn(v, ", \t");
	}
	if (!*n)
		return why_not(why, whylen, "%s: empty value", k->name);
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

static int set_attr(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	if (!valid_attr_name(v, strlen(v)))
		return why_not(why, whylen, "%s: '%s' is not an attribute name", k->name, v);
	return set_string(k, base, v, why, whylen);
}

/* member_attr: attribute names separated by commas or blanks, each once. */
static int set_attrs(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	char ***member = FIELD(k, base, char **);
	size_t *n = (size_t *)((char *)base + k->count_offset);
	free_list(member, n);
	if (!(*member = calloc(DIR_MAX_MEMBER_ATTRS, sizeof(char *))))
		return why_not(why, whylen, "out of memory");
	for (v += strspn(v, ", \t"); *v; v += strspn(v, ", \t")) {
		size_t len = strcspn(v, ", \t");
		if (!valid_attr_name(v, len))
			return why_not(why, whylen, "%s: '%.*s' is not an attribute name", k->name,
				       (int)len, v);
		for (size_t i = 0; i < *n; i++)
			if (strlen((*member)[i]) == len && !strncasecmp((*member)[i], v, len))
				return why_not(why, whylen, "%s: %.*s is named twice", k->name, (int)len,
					       v);
		if (*n == DIR_MAX_MEMBER_ATTRS)
			return why_not(why, whylen, "%s: more than %d attributes", k->name,
				       DIR_MAX_MEMBER_ATTRS);
		if (!((*member)[*n] = strndup(v, len)))
			return why_not(why, whylen, "out of memory");
		(*n)++;
		v += len;
	}
	if (!*n)
		return why_not(why, whylen, "%s: empty value", k->name);
	return 0;
}

/* An LDAP filter in parentheses with balanced parentheses; the server checks the rest. */
static int set_filter(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
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
		return why_not(why, whylen, "%s: '%s' is not an LDAP filter in parentheses, like "
			       "(memberOf=...)", k->name, v);
	return set_string(k, base, v, why, whylen);
}

static int set_uint(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	unsigned long n;
	if (!dir_conf_uint(v, k->lo, k->hi, &n))
		return why_not(why, whylen, "%s: '%s' is not a whole number from %lu to %lu", k->name,
			       v, k->lo, k->hi);
	*FIELD(k, base, unsigned) = (unsigned)n;
	return 0;
}

static int set_bool(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	bool *dst = FIELD(k, base, bool);
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*dst = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*dst = false;
	else
		return why_not(why, whylen, "%s: '%s' is not yes or no", k->name, v);
	return 0;
}

static int set_seconds(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	if (!dir_conf_seconds_ms(v, (unsigned)k->lo, (unsigned)k->hi, FIELD(k, base, unsigned)))
		return why_not(why, whylen, "%s: '%s' is not a number of seconds from %lu.%03lu to %lu",
			       k->name, v, k->lo / 1000, k->lo % 1000, k->hi / 1000);
	return 0;
}

/* One of k->choices, stored as its index (the enum's value); "a, b or c" when not. */
static int choose(const struct conf_key *k, void *base, const char *v, bool any_case, char *why,
		  size_t whylen)
{
	size_t n = 0;
	for (; k->choices[n]; n++)
		if (any_case ? !strcasecmp(v, k->choices[n]) : !strcmp(v, k->choices[n])) {
			*FIELD(k, base, int) = (int)n;
			return 0;
		}
	int len = snprintf(why, whylen, "%s: '%s' is not ", k->name, v);
	for (size_t i = 0; i < n && len >= 0 && (size_t)len < whylen; i++)
		len += snprintf(why + len, whylen - (size_t)len, "%s%s", k->choices[i],
				i + 2 < n ? ", " : i + 2 == n ? " or " : "");
	return -1;
}

static int set_choice(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	return choose(k, base, v, false, why, whylen);
}

static int set_choice_any_case(const struct conf_key *k, void *base, const char *v, char *why,
			       size_t whylen)
{
	return choose(k, base, v, true, why, whylen);
}

/* tls: starttls or none (no TLS but ldaps:// uris' own). */
static int set_tls(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "starttls") && strcmp(v, "none"))
		return why_not(why, whylen, "%s: '%s' is not starttls or none (ldaps:// uris use TLS "
			       "anyway)", k->name, v);
	*FIELD(k, base, bool) = !strcmp(v, "starttls");
	return 0;
}

/* The absolute path of a socket: its file name is the userdb service name clients ask for. */
static int set_socket(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	const char *name = strrchr(v, '/');
	if (v[0] != '/' || !name[1] || !strcmp(name, "/.") || !strcmp(name, "/.."))
		return why_not(why, whylen, "%s: '%s' is not the absolute path of a socket", k->name, v);
	if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return why_not(why, whylen, "%s: path too long for a socket", k->name);
	return set_string(k, base, v, why, whylen);
}

/* uri: ldap://, ldaps:// or ldapi:// uris that libldap reads (ldap_uri.c), or _srv_ (discover =
 * yes). */
static int set_uri(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	if (!strcmp(v, "_srv_")) {
		((struct dir_domain *)base)->discover = true;
		return 0;
	}
	char bad[1200];
	if (dir_ldap_uris_check(v, bad, sizeof(bad)) < 0)
		return why_not(why, whylen, "%s: %s (or uri = _srv_ to find servers in DNS)", k->name,
			       bad);
	return set_string(k, base, v, why, whylen);
}

static int set_home_template(const struct conf_key *k, void *base, const char *v, char *why,
			     size_t whylen)
{
	if (v[0] != '/' && v[0] != '%')
		return why_not(why, whylen, "%s: '%s' does not start with / or a %% token", k->name, v);
	return set_string(k, base, v, why, whylen);
}

static int set_realm(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	for (const char *p = v; *p; p++)
		if (*p == '@' || *p == '/' || *p == '\\' || isspace((unsigned char)*p))
			return why_not(why, whylen, "%s: '%s' is not a realm name", k->name, v);
	return set_string(k, base, v, why, whylen);
}

bool dir_conf_has_lower(const char *s)
{
	for (; *s; s++)
		if (islower((unsigned char)*s))
			return true;
	return false;
}

void dir_conf_upper(const char *s, char *out, size_t outlen)
{
	size_t i = 0;
	for (; s[i] && i + 1 < outlen; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

bool dir_conf_plain_name(const char *s, size_t max)
{
	if (!*s || strlen(s) > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_strings(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!same_string(a[i], b[i]))
			return false;
	return true;
}

/* Field of k in a struct read, not written. */
#define VALUE(k, base, type) ((const type *)((const char *)(base) + (k)->offset))

bool dir_conf_same_value(const struct conf_key *k, const void *a, const void *b)
{
	switch (k->storage) {
	case CONF_SCALAR:
		return memcmp(VALUE(k, a, char), VALUE(k, b, char), k->size) == 0;
	case CONF_STRING:
		return same_string(*VALUE(k, a, char *), *VALUE(k, b, char *));
	case CONF_LIST: {
		const size_t *na = (const size_t *)((const char *)a + k->count_offset);
		const size_t *nb = (const size_t *)((const char *)b + k->count_offset);
		return same_strings(*VALUE(k, a, char **), *na, *VALUE(k, b, char **), *nb);
	}
	case CONF_STRINGS: {
		const struct dir_strings *sa = VALUE(k, a, struct dir_strings);
		const struct dir_strings *sb = VALUE(k, b, struct dir_strings);
		return same_strings((const char *const *)sa->v, sa->n, (const char *const *)sb->v, sb->n);
	}
	}
	return false;
}

/* krb5_realm: a realm name, in upper case as Kerberos realms are. */
static int set_upper_realm(const struct conf_key *k, void *base, const char *v, char *why,
			   size_t whylen)
{
	if (dir_conf_has_lower(v)) {
		char upper[256];
		dir_conf_upper(v, upper, sizeof(upper));
		return why_not(why, whylen, "%s: '%s' has lower case letters: Kerberos realms are "
			       "upper case (%s = %s)", k->name, v, k->name, upper);
	}
	return set_realm(k, base, v, why, whylen);
}

/* A NetBIOS domain name: 1-15 letters, digits, '-' or '_' (served names start with it). */
static int set_workgroup(const struct conf_key *k, void *base, const char *v, char *why,
			 size_t whylen)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 15;
	for (const char *p = v; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
	if (!ok)
		return why_not(why, whylen, "%s: '%s' is not a NetBIOS domain name (1-15 letters, "
			       "digits, '-', '_')", k->name, v);
	if (set_string(k, base, v, why, whylen) < 0)
		return -1;
	for (char *p = *FIELD(k, base, char *); *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return 0;
}

/* idmap_range, LOW-HIGH: low < high, at least IDMAP_MIN_SIZE ids, inside IDMAP_MIN..IDMAP_MAX. */
#define IDMAP_MIN 1000u
#define IDMAP_MAX 2147000000u
#define IDMAP_MIN_SIZE 10000u

static int set_idmap_range(const struct conf_key *k, void *base, const char *v, char *why,
			   size_t whylen)
{
	struct dir_domain *d = base;
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		return why_not(why, whylen, "%s: '%s' is not LOW-HIGH", k->name, v);
	unsigned long long low = strtoull(v, &end, 10);
	if (errno || *end != '-' || !isdigit((unsigned char)end[1]))
		return why_not(why, whylen, "%s: '%s' is not LOW-HIGH", k->name, v);
	unsigned long long high = strtoull(end + 1, &end, 10);
	if (errno || *end)
		return why_not(why, whylen, "%s: '%s' is not LOW-HIGH", k->name, v);
	if (low >= high)
		return why_not(why, whylen, "%s: %llu is not below %llu", k->name, low, high);
	if (low < IDMAP_MIN || high > IDMAP_MAX)
		return why_not(why, whylen, "%s: %s is not inside %u-%u", k->name, v, IDMAP_MIN,
			       IDMAP_MAX);
	if (high - low + 1 < IDMAP_MIN_SIZE)
		return why_not(why, whylen, "%s: %s holds fewer than %u ids", k->name, v,
			       IDMAP_MIN_SIZE);
	d->idmap_low = (uint32_t)low;
	d->idmap_high = (uint32_t)high;
	return 0;
}

static int add_string(struct dir_strings *dst, const char *v, size_t len, char *why, size_t whylen)
{
	char *copy = strndup(v, len);
	char **grown = copy ? realloc(dst->v, (dst->n + 1) * sizeof(*dst->v)) : NULL;
	if (!grown) {
		free(copy);
		return why_not(why, whylen, "out of memory");
	}
	dst->v = grown;
	dst->v[dst->n++] = copy;
	return 0;
}

void dir_conf_free_strings(struct dir_strings *s)
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

/* Servers separated by commas or blanks, each dir_config_valid_server. */
static int set_servers(const struct conf_key *k, void *base, const char *v, char *why, size_t whylen)
{
	struct dir_strings *dst = FIELD(k, base, struct dir_strings);
	dir_conf_free_strings(dst);
	while (*v) {
		size_t len = strcspn(v, ", \t");
		if (len) {
			if (add_string(dst, v, len, why, whylen) < 0)
				return -1;
			if (!dir_config_valid_server(dst->v[dst->n - 1]))
				return why_not(why, whylen, "%s: '%s' is not a host, host:port or "
					       "[address]:port", k->name, dst->v[dst->n - 1]);
		}
		v += len;
		v += strspn(v, ", \t");
	}
	if (!dst->n)
		return why_not(why, whylen, "%s: empty value", k->name);
	return 0;
}

/* One relation of krb5.conf's [libdefaults] or [appdefaults], "tag = value", kept as
 * "tag = value" with single spaces.  A value may not open a {...} subsection (one line cannot
 * hold one): libkrb5 opens one for a value that starts with '{'.  Braces further in are text,
 * as in default_ccache_name = FILE:/tmp/krb5cc_%{uid}; no '}' can close anything, since the
 * line starts with the tag. */
static int add_krb5_line(const struct conf_key *k, void *base, const char *v, char *why,
			 size_t whylen)
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
		return why_not(why, whylen, "%s: '%s' is not a krb5.conf relation 'tag = value' (like "
			       "ticket_lifetime = 24h) on one line", k->name, v);
	char line[DIR_CONF_MAX_LINE + 4];
	int n = snprintf(line, sizeof(line), "%.*s = %s", (int)tag, v, value);
	return add_string(FIELD(k, base, struct dir_strings), line, (size_t)n, why, whylen);
}

#define STR_(x) #x
#define STR(x) STR_(x)

#define AT(type, field) offsetof(type, field), sizeof(((type *)0)->field)
#define G(field) CONF_GLOBAL, AT(struct dir_config, field)
#define K(field) CONF_KERBEROS, AT(struct dir_config, field)
#define D(field) CONF_DOMAIN, AT(struct dir_domain, field)
#define R(field) CONF_REALM, AT(struct dir_realm, field)
/* Two adjacent fields one key sets (idmap_range: low and high). */
#define D_SPAN(first, last) CONF_DOMAIN, offsetof(struct dir_domain, first), \
	offsetof(struct dir_domain, last) + sizeof(((struct dir_domain *)0)->last) - \
	offsetof(struct dir_domain, first)

static const char *const domain_types[] = { "ldap", "ad", NULL };
static const char *const idmaps[] = { "rid", "ad", NULL };
static const char *const schemas[] = { "rfc2307", "rfc2307bis", NULL };
static const char *const scopes[] = { "sub", "one", "base", NULL };
static const char *const auths[] = { "ldap", "krb5", NULL };
static const char *const reqcerts[] = { "never", "allow", "try", "demand", NULL };

/* ENTRY(where, name, reader, storage, what the reader needs, default, sentence): `where` is
 * G(field), K(field), D(field) or R(field), the section and the field in its struct (its offset
 * and size), or D_SPAN(first, last) for a key that sets two adjacent fields. */
#define ROW(section_, offset_, size_, key, set_, storage_, ...) \
	{ .section = section_, .offset = offset_, .size = size_, .name = key, .set = set_, \
	  .storage = storage_, \
	  __VA_ARGS__ }
#define ENTRY(where, ...) ROW(where, __VA_ARGS__)

/* clang-format off */
const struct conf_key dir_conf_keys[] = {
	ENTRY(G(cache_dir), "cache_dir", set_path, CONF_STRING, .def = DIR_DEFAULT_CACHE_DIR,
	      .doc = "Where the tdb cache and the NSS index nss.idx are kept."),
	ENTRY(G(state_dir), "state_dir", set_path, CONF_STRING, .def = DIR_DEFAULT_STATE_DIR,
	      .doc = "What must outlive the cache: the API key store apikeys.tdb."),
	ENTRY(G(run_dir), "run_dir", set_path, CONF_STRING, .def = DIR_DEFAULT_RUN_DIR,
	      .doc = "Where dird's sockets (dird.sock, pam.sock), its lock and the session registry are."),
	ENTRY(G(refresh_interval), "refresh_interval", set_uint, CONF_SCALAR, .lo = 60, .hi = 31536000,
	      .def = "86400", .doc = "Seconds between full refreshes of the cache."),
	ENTRY(G(enumerate), "enumerate", set_bool, CONF_SCALAR, .def = "yes",
	      .doc = "Whether each refresh reads the whole directory; with no, only lookups fill the cache."),
	ENTRY(G(nss_timeout_ms), "nss_timeout", set_seconds, CONF_SCALAR, .lo = DIR_NSS_TIMEOUT_MIN_MS,
	      .hi = DIR_NSS_TIMEOUT_MAX_MS, .def = DIR_DEFAULT_NSS_TIMEOUT,
	      .doc = "Seconds (decimals allowed) a lookup may wait for dird."),
	ENTRY(G(entry_ttl), "entry_ttl", set_uint, CONF_SCALAR, .lo = 0, .hi = 31536000, .def = "5400",
	      .doc = "Seconds an entry is fresh (0: until the next refresh); then it is asked for again."),
	ENTRY(G(negative_ttl), "negative_ttl", set_uint, CONF_SCALAR, .lo = 0, .hi = DIR_NEGATIVE_TTL_MAX,
	      .def = STR(DIR_DEFAULT_NEGATIVE_TTL),
	      .doc = "Seconds a name or id the directory does not have is remembered as absent."),
	ENTRY(G(log_level), "log_level", set_choice_any_case, CONF_SCALAR, .choices = dir_log_level_names,
	      .def = "info", .doc = "How much dird logs: error, warning, info or debug."),
	ENTRY(G(cache_credentials), "cache_credentials", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "Keep a salted hash of each password that worked online, for logins while the directory is offline."),
	ENTRY(G(offline_credentials_expiration), "offline_credentials_expiration", set_uint, CONF_SCALAR,
	      .lo = 0, .hi = 3650, .def = "0",
	      .doc = "Days a cached password keeps working after its last online login (0: no limit)."),
	ENTRY(G(krb5_config), "krb5_config", set_path, CONF_STRING,
	      .doc = "A krb5.conf for dird's Kerberos; unset: the system's."),
	ENTRY(G(krb5_ccache_dir), "krb5_ccache_dir", set_path, CONF_STRING,
	      .def = DIR_DEFAULT_KRB5_CCACHE_DIR,
	      .doc = "Where pam_dir puts a Kerberos user's ticket cache at login."),
	ENTRY(G(userdb_socket), "userdb_socket", set_socket, CONF_STRING,
	      .doc = "A socket where dird serves systemd's user and group records; unset: not served."),
	ENTRY(G(userdb_enumerate), "userdb_enumerate", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "Whether the userdb socket answers enumerations."),

	ENTRY(K(host_keytab), "keytab", set_path, CONF_STRING, .def = DIR_DEFAULT_HOST_KEYTAB,
	      .doc = "The host keytab, which dirctl keytab merges keytabs into; each domain's krb5_keytab by default."),
	ENTRY(K(krb5_libdefaults), "libdefaults", add_krb5_line, CONF_STRINGS, .many = true,
	      .doc = "One 'tag = value' line for krb5.conf's [libdefaults]."),
	ENTRY(K(krb5_appdefaults), "appdefaults", add_krb5_line, CONF_STRINGS, .many = true,
	      .doc = "One 'tag = value' line for krb5.conf's [appdefaults]."),

	ENTRY(D(type), "type", set_choice, CONF_SCALAR, .choices = domain_types, .def = "ldap",
	      .doc = "ldap, or ad for Active Directory."),
	ENTRY(D(realm), "realm", set_realm, CONF_STRING,
	      .doc = "type = ad: the AD DNS domain, which gives base_dn, dns_domain and krb5_realm; required."),
	ENTRY(D(workgroup), "workgroup", set_workgroup, CONF_STRING,
	      .doc = "type = ad: the NetBIOS domain name, served names' prefix (ADTEST\\alice); required."),
	ENTRY(D(use_default_domain), "use_default_domain", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "type = ad: serve this domain's names bare, without the workgroup."),
	ENTRY(D(idmap), "idmap", set_choice, CONF_SCALAR, .choices = idmaps, .def = "rid",
	      .doc = "type = ad: ids from the RID (rid) or from uidNumber and gidNumber (ad)."),
	ENTRY(D_SPAN(idmap_low, idmap_high), "idmap_range", set_idmap_range, CONF_SCALAR,
	      .doc = "type = ad: LOW-HIGH, the ids this domain may use (the first AD domain: 100000001-200000000)."),
	ENTRY(D(machine_password_max_age), "machine_password_max_age", set_uint, CONF_SCALAR, .lo = 0,
	      .hi = 3650, .def = "30",
	      .doc = "type = ad: days after which dirctl ads rotate --auto changes the machine password (0: never)."),
	ENTRY(D(uri), "uri", set_uri, CONF_STRING,
	      .doc = "The servers' uris, tried in order, or _srv_ to find them in DNS; required."),
	ENTRY(D(discover), "discover", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "yes is uri = _srv_: the servers from DNS SRV records."),
	ENTRY(D(dns_domain), "dns_domain", set_string, CONF_STRING,
	      .doc = "The DNS domain servers are discovered in; default: the dc= parts of base_dn."),
	ENTRY(D(base_dn), "base_dn", set_string, CONF_STRING, .doc = "The search base; required."),
	ENTRY(D(user_base), "user_base", set_string, CONF_STRING,
	      .doc = "Where users are searched; default: base_dn."),
	ENTRY(D(group_base), "group_base", set_string, CONF_STRING,
	      .doc = "Where groups are searched; default: base_dn."),
	ENTRY(D(user_scope), "user_scope", set_choice, CONF_SCALAR, .choices = scopes, .def = "sub",
	      .doc = "How deep users are searched under user_base: sub, one or base."),
	ENTRY(D(group_scope), "group_scope", set_choice, CONF_SCALAR, .choices = scopes, .def = "sub",
	      .doc = "How deep groups are searched under group_base: sub, one or base."),
	ENTRY(D(user_filter), "user_filter", set_filter, CONF_STRING, .def = "(objectClass=posixAccount)",
	      .ad_def = "(&(objectClass=user)(sAMAccountType=805306368))", .doc = "Which entries are users."),
	ENTRY(D(group_filter), "group_filter", set_filter, CONF_STRING, .def = "(objectClass=posixGroup)",
	      .ad_def = "(&(objectClass=group)(groupType:1.2.840.113556.1.4.803:=2147483648))",
	      .doc = "Which entries are groups."),
	ENTRY(D(attrs.user_name), "user_name_attr", set_attr, CONF_STRING, .def = "uid",
	      .ad_def = "sAMAccountName", .doc = "The attribute holding a user's name."),
	ENTRY(D(attrs.uid), "uid_attr", set_attr, CONF_STRING, .def = "uidNumber",
	      .doc = "The attribute holding a user's uid."),
	ENTRY(D(attrs.gid), "gid_attr", set_attr, CONF_STRING, .def = "gidNumber",
	      .doc = "The attribute holding a user's primary gid and a group's gid."),
	ENTRY(D(attrs.gecos), "gecos_attr", set_attr, CONF_STRING, .def = "gecos", .ad_def = "displayName",
	      .doc = "The attribute holding a user's gecos (else cn)."),
	ENTRY(D(attrs.home), "home_attr", set_attr, CONF_STRING, .def = "homeDirectory",
	      .ad_def = "unixHomeDirectory", .doc = "The attribute holding a user's home directory."),
	ENTRY(D(attrs.shell), "shell_attr", set_attr, CONF_STRING, .def = "loginShell",
	      .doc = "The attribute holding a user's shell."),
	ENTRY(D(attrs.email), "email_attr", set_attr, CONF_STRING, .def = "mail",
	      .doc = "The attribute holding a user's e-mail address."),
	ENTRY(D(attrs.group_name), "group_name_attr", set_attr, CONF_STRING, .def = "cn",
	      .ad_def = "sAMAccountName", .doc = "The attribute holding a group's name."),
	ENTRY(D(attrs.member), "member_attr", set_attrs, CONF_LIST,
	      .count_offset = offsetof(struct dir_domain, attrs.n_member), .ad_def = "member",
	      .doc = "The attributes holding a group's members (memberUid; with rfc2307bis member uniqueMember memberUid)."),
	ENTRY(D(attrs.ssh_key), "ssh_key_attr", set_attr, CONF_STRING, .def = "sshPublicKey",
	      .doc = "The attribute holding a user's SSH public keys."),
	ENTRY(D(sync_groups), "sync_groups", set_names, CONF_LIST,
	      .count_offset = offsetof(struct dir_domain, n_sync_groups),
	      .doc = "Only users in one of these groups are served; unset: everyone."),
	ENTRY(D(bind_dn), "bind_dn", set_string, CONF_STRING,
	      .doc = "The DN dird binds as (a simple bind); unset: anonymous."),
	ENTRY(D(bind_password_file), "bind_password_file", set_path, CONF_STRING,
	      .doc = "The file holding bind_dn's password (mode 0600, root's)."),
	ENTRY(D(keytab), "keytab", set_path, CONF_STRING,
	      .doc = "Bind with SASL/GSSAPI, with dird's own ticket from this keytab."),
	ENTRY(D(sasl_authid), "sasl_authid", set_string, CONF_STRING,
	      .doc = "The principal dird binds as with keytab; default: the keytab's first."),
	ENTRY(D(keytab_principal), "keytab_principal", set_string, CONF_STRING,
	      .doc = "Bind with SASL/GSSAPI as this principal of the host keytab."),
	ENTRY(D(starttls), "tls", set_tls, CONF_SCALAR, .def = "none",
	      .doc = "starttls: StartTLS on ldap:// uris (ldaps:// uses TLS anyway)."),
	ENTRY(D(allow_insecure_bind), "allow_insecure_bind", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "Send bind_dn's password in clear text to another host anyway."),
	ENTRY(D(tls_ca_file), "tls_ca_file", set_path, CONF_STRING,
	      .doc = "The CAs that sign the servers' certificates (PEM); unset: the system's."),
	ENTRY(D(tls_ca_dir), "tls_ca_dir", set_path, CONF_STRING,
	      .doc = "A directory of such CAs; unset: the system's."),
	ENTRY(D(tls_reqcert), "tls_reqcert", set_choice, CONF_SCALAR, .choices = reqcerts, .def = "demand",
	      .doc = "What a server certificate must pass: never, allow, try or demand."),
	ENTRY(D(tls_cert_file), "tls_cert_file", set_path, CONF_STRING,
	      .doc = "A client certificate, for servers that want one."),
	ENTRY(D(tls_key_file), "tls_key_file", set_path, CONF_STRING,
	      .doc = "The client certificate's key (mode 0600, ours)."),
	ENTRY(D(schema), "schema", set_choice, CONF_SCALAR, .choices = schemas, .def = "rfc2307",
	      .doc = "Which attributes hold members unless member_attr says: rfc2307 or rfc2307bis (type = ad: rfc2307bis)."),
	ENTRY(D(min_id), "min_id", set_uint, CONF_SCALAR, .lo = 0, .hi = 4294967294UL, .def = "1000",
	      .doc = "Lower uids and gids (a user's primary gid included) are never served."),
	ENTRY(D(default_shell), "default_shell", set_path, CONF_STRING, .def = "/bin/sh",
	      .doc = "The shell of users without one."),
	ENTRY(D(home_template), "home_template", set_home_template, CONF_STRING, .def = "/home/%U",
	      .ad_def = "/home/%D/%U",
	      .doc = "The home directory of users without one: %U user, %D domain, %u uid, %% a percent sign."),
	ENTRY(D(timeout), "timeout", set_uint, CONF_SCALAR, .lo = DIR_TIMEOUT_MIN, .hi = DIR_TIMEOUT_MAX,
	      .def = STR(DIR_DEFAULT_TIMEOUT),
	      .doc = "Seconds for each network step: connect, bind, each page of a search."),
	ENTRY(D(page_size), "page_size", set_uint, CONF_SCALAR, .lo = 1, .hi = 100000, .def = "500",
	      .doc = "Entries per page of a paged search."),
	ENTRY(D(auth), "auth", set_choice, CONF_SCALAR, .choices = auths, .def = "ldap",
	      .doc = "How PAM checks passwords: ldap (a bind as the user) or krb5 (the KDC, verified with the host keytab)."),
	ENTRY(D(allow_password_change), "allow_password_change", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "Whether directory users may change their password here."),
	ENTRY(D(krb5_realm), "krb5_realm", set_upper_realm, CONF_STRING,
	      .doc = "The users' Kerberos realm (auth = krb5; type = ad: realm)."),
	ENTRY(D(krb5_keytab), "krb5_keytab", set_path, CONF_STRING,
	      .doc = "Host keys that prove the KDC's answer (auth = krb5); default: the host keytab."),
	ENTRY(D(access_groups), "access_groups", set_names, CONF_LIST,
	      .count_offset = offsetof(struct dir_domain, n_access_groups),
	      .doc = "PAM: only members of one of these groups may log in; unset: anyone."),
	ENTRY(D(access_filter), "access_filter", set_filter, CONF_STRING,
	      .doc = "PAM: only users whose entry matches this LDAP filter may log in; unset: anyone."),
	ENTRY(D(sync_interval), "sync_interval", set_uint, CONF_SCALAR, .lo = 0, .hi = 86400, .def = "30",
	      .doc = "type = ad: seconds between reads of the DC's changes since the last (uSNChanged, deletions); 0: full refreshes only."),

	ENTRY(R(kdc), "kdc", set_servers, CONF_STRINGS,
	      .doc = "The realm's KDCs: host, host:port or [address]:port; unset: found in DNS."),
	ENTRY(R(admin_server), "admin_server", set_servers, CONF_STRINGS,
	      .doc = "The realm's kadmind hosts; unset: the KDC's."),
	ENTRY(R(kpasswd_server), "kpasswd_server", set_servers, CONF_STRINGS,
	      .doc = "The realm's password-change hosts; unset: the KDC's."),
	ENTRY(R(local_users), "local_users", set_bool, CONF_SCALAR, .def = "no",
	      .doc = "Users of /etc/passwd (uid 1000 and up) with a principal here log in with it."),
};
/* clang-format on */

const size_t dir_conf_n_keys = sizeof(dir_conf_keys) / sizeof(dir_conf_keys[0]);

const struct conf_key *dir_conf_key(enum conf_section s, const char *name)
{
	for (size_t i = 0; i < dir_conf_n_keys; i++)
		if (dir_conf_keys[i].section == s && !strcmp(dir_conf_keys[i].name, name))
			return &dir_conf_keys[i];
	return NULL;
}

const char *dir_conf_section_name(enum conf_section s)
{
	static const char *const names[] = { "global", "kerberos", "domain/NAME", "realm/NAME" };
	return names[s];
}
