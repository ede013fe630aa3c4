#include "ldap_map.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_names.h"
#include "buf.h"
#include "idmap.h"
#include "names.h"
#include "sid.h"
#include "protocol.h"
#include "ssh_key.h"

#define MAX_VALUE 4096

void ldap_map_user_attrs(const struct dir_domain *d, const char **out, const char *const *extra)
{
	const struct dir_attrs *a = &d->attrs;
	size_t n = 0;
	const char *mine[] = { a->user_name, a->uid, a->gid, a->gecos, "cn", a->home, a->shell, a->email,
			       a->ssh_key };
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if (mine[i])
			out[n++] = mine[i];
	if (d->type == DIR_DOMAIN_AD) {
		out[n++] = "objectSid";
		out[n++] = "primaryGroupID";
	}
	for (; extra && *extra && n + 1 < MAP_MAX_ATTRS; extra++)
		out[n++] = *extra;
	out[n] = NULL;
}

void ldap_map_group_id_attrs(const struct dir_domain *d, const char **out)
{
	out[0] = d->attrs.group_name;
	out[1] = d->attrs.gid;
	out[2] = d->type == DIR_DOMAIN_AD ? "objectSid" : NULL;
	out[3] = NULL;
}

void ldap_map_group_attrs(const struct dir_domain *d, const char **out)
{
	ldap_map_group_id_attrs(d, out);
	size_t n = out[2] ? 3 : 2;
	for (size_t i = 0; i < d->attrs.n_member && n + 1 < MAP_MAX_ATTRS; i++)
		out[n++] = d->attrs.member[i];
	out[n] = NULL;
}

/* An entry's attributes, read in one pass: their values point into the message (each
 * ldap_get_values_len walks the entry from its start and copies every value, which a refresh
 * of a million entries with ten attributes each paid for with ten million allocations).  An
 * entry may hold more attribute descriptions than were asked for (a request for cn returns
 * cn;lang-de too): the table grows past its first MAP_MAX_ATTRS, which need no allocation. */
struct entry_attr {
	struct berval name;
	struct berval *vals; /* ends with a NULL bv_val */
};

struct entry_attrs {
	BerElement *ber;
	size_t n, cap;
	struct entry_attr *a;
	struct entry_attr first[MAP_MAX_ATTRS];
};

static void entry_attrs_free(struct entry_attrs *ea)
{
	for (size_t i = 0; i < ea->n; i++)
		ber_memfree(ea->a[i].vals);
	if (ea->a != ea->first)
		free(ea->a);
	if (ea->ber)
		ber_free(ea->ber, 0);
	ea->n = 0;
	ea->ber = NULL;
	ea->a = ea->first;
}

static bool entry_attrs_grow(struct entry_attrs *ea)
{
	struct entry_attr *a = malloc(ea->cap * 2 * sizeof(*a));
	if (!a)
		return false;
	memcpy(a, ea->a, ea->n * sizeof(*a));
	if (ea->a != ea->first)
		free(ea->a);
	ea->a = a;
	ea->cap *= 2;
	return true;
}

/* -1 when the entry cannot be decoded (or memory for its values ran out). */
static int entry_attrs_read(LDAP *ld, LDAPMessage *e, struct entry_attrs *ea)
{
	struct berval dn, name;
	BerVarray vals;
	ea->n = 0;
	ea->cap = MAP_MAX_ATTRS;
	ea->a = ea->first;
	ea->ber = NULL;
	if (ldap_get_dn_ber(ld, e, &ea->ber, &dn) != LDAP_SUCCESS)
		return -1;
	int rc;
	while ((rc = ldap_get_attribute_ber(ld, e, ea->ber, &name, &vals)) == LDAP_SUCCESS &&
	       name.bv_val) {
		if (!vals) /* no values */
			continue;
		if (ea->n == ea->cap && !entry_attrs_grow(ea)) {
			ber_memfree(vals);
			rc = LDAP_NO_MEMORY;
			break;
		}
		ea->a[ea->n].name = name;
		ea->a[ea->n++].vals = vals;
	}
	if (rc != LDAP_SUCCESS) {
		entry_attrs_free(ea);
		return -1;
	}
	return 0;
}

static const struct berval *values_of(const struct entry_attrs *ea, const char *attr)
{
	size_t len = attr ? strlen(attr) : 0;
	for (size_t i = 0; attr && i < ea->n; i++)
		if (ea->a[i].name.bv_len == len && !strncasecmp(ea->a[i].name.bv_val, attr, len))
			return ea->a[i].vals;
	return NULL;
}

/* The first value of attr as a C string: NULL when absent, empty, too long or holding a NUL. */
static char *first_value(const struct entry_attrs *ea, const char *attr)
{
	const struct berval *v = values_of(ea, attr);
	if (v && v[0].bv_val && v[0].bv_len > 0 && v[0].bv_len <= MAX_VALUE &&
	    !memchr(v[0].bv_val, '\0', v[0].bv_len))
		return strndup(v[0].bv_val, v[0].bv_len);
	return NULL;
}

/* A decimal id: digits only, no sign, below 2^32 - 1 (which means "none" to the kernel). */
static int parse_id(const char *s, uint32_t *out)
{
	if (!s || !*s || strlen(s) > 10)
		return -1;
	uint64_t n = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n >= UINT32_MAX)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/* passwd fields may not hold ':' or line breaks; gecos text is kept readable instead. */
static void sanitize_gecos(char *s)
{
	for (; *s; s++)
		if (*s == ':' || (unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int valid_path_field(const char *s)
{
	if (!s || s[0] != '/')
		return 0;
	for (; *s; s++)
		if (*s == ':' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* A name that stays one path component wherever the template puts it. */
static bool stays_in_directory(const char *name)
{
	return !strchr(name, '/') && !strstr(name, "..") && strcmp(name, ".") != 0;
}

enum map_result ldap_map_home(const char *tmpl, const char *user, const char *domain, uint32_t uid,
			      char **out)
{
	*out = NULL;
	struct buf b;
	buf_init(&b, 4096);
	char num[16];
	snprintf(num, sizeof(num), "%" PRIu32, uid);
	for (const char *p = tmpl; *p; p++) {
		const char *piece = NULL;
		if (*p == '%' && p[1]) {
			switch (*++p) {
			case 'U':
				if (!stays_in_directory(user)) {
					buf_free(&b);
					return MAP_REFUSED;
				}
				piece = user;
				break;
			case 'D': piece = domain; break;
			case 'u': piece = num; break;
			case '%': piece = "%"; break;
			default: buf_put_bytes(&b, p - 1, 2); continue;
			}
			buf_put_bytes(&b, piece, strlen(piece));
		} else {
			buf_put_bytes(&b, p, 1);
		}
	}
	buf_put_bytes(&b, "", 1);
	if (b.failed) {
		buf_free(&b);
		return MAP_NOMEM;
	}
	*out = (char *)b.data;
	return MAP_OK;
}

/* AD: the entry's name as served (WORKGROUP\name) and its objectSid, which must be a domain
 * account's (S-1-5-21-a-b-c-RID: BUILTIN and well-known SIDs are not served). */
static enum map_result ad_identity(const struct entry_attrs *ea, const struct dir_domain *d,
				   const char *name_attr, char **name, char **sid_text,
				   uint32_t *rid, char *why, size_t whylen)
{
	char *account = first_value(ea, name_attr), served[DIR_MAX_NAME + 1];
	const struct berval *v = values_of(ea, "objectSid");
	struct sid sid;
	enum map_result r = MAP_SKIP;
	if (!account || ad_name_served(d, account, served, sizeof(served)) < 0 ||
	    !dir_valid_name(served))
		snprintf(why, whylen, "missing or invalid %s", name_attr);
	else if (!v || !v[0].bv_val || v[1].bv_val ||
		 sid_from_binary(v[0].bv_val, v[0].bv_len, &sid) < 0)
		snprintf(why, whylen, "%s: missing or malformed objectSid", served);
	else if (!sid_split_rid(&sid, NULL, rid))
		snprintf(why, whylen, "%s: not a domain account's SID", served);
	else {
		char text[SID_MAX_STRING];
		sid_to_string(&sid, text, sizeof(text));
		r = (*name = strdup(served)) && (*sid_text = strdup(text)) ? MAP_OK : MAP_NOMEM;
	}
	free(account);
	return r;
}

/* An id of an AD entry: RID-based (idmap = rid) or the RFC 2307 attribute (idmap = ad),
 * either way inside the domain's range. */
static int ad_id(const struct dir_domain *d, uint32_t rid, const char *attr_value, uint32_t *id)
{
	if (d->idmap == DIR_IDMAP_RID)
		return idmap_rid_to_id(d, rid, id) ? 0 : -1;
	return parse_id(attr_value, id) == 0 && idmap_domain_takes_id(d, *id) ? 0 : -1;
}

/* The user's ids.  -1 with why set when they cannot be served. */
static int ad_user_ids(const struct entry_attrs *ea, const struct dir_domain *d,
		       struct dir_user *u, uint32_t rid, const char *uid, const char *gid, char *why,
		       size_t whylen)
{
	uint32_t primary_rid = 0;
	char *primary = d->idmap == DIR_IDMAP_RID ? first_value(ea, "primaryGroupID") : NULL;
	int rc = -1;
	if (ad_id(d, rid, uid, &u->uid) < 0)
		snprintf(why, whylen, "user %s: %s outside idmap_range %" PRIu32 "-%" PRIu32, u->name,
			 d->idmap == DIR_IDMAP_RID ? "RID" : d->attrs.uid, d->idmap_low, d->idmap_high);
	else if (d->idmap == DIR_IDMAP_RID && parse_id(primary, &primary_rid) < 0)
		snprintf(why, whylen, "user %s: missing or invalid primaryGroupID", u->name);
	else if (ad_id(d, primary_rid, gid, &u->gid) < 0)
		snprintf(why, whylen, "user %s: primary group outside idmap_range", u->name);
	else
		rc = 0;
	free(primary);
	return rc;
}

enum map_result ldap_map_user(LDAP *ld, LDAPMessage *e, const struct dir_domain *d,
			      struct dir_user *u, char *why, size_t whylen)
{
	memset(u, 0, sizeof(*u));
	const struct dir_attrs *a = &d->attrs;
	struct entry_attrs ea;
	if (entry_attrs_read(ld, e, &ea) < 0) {
		snprintf(why, whylen, "an entry that cannot be decoded");
		return MAP_SKIP;
	}
	char *uid = first_value(&ea, a->uid), *gid = first_value(&ea, a->gid);
	enum map_result r = MAP_SKIP;
	uint32_t rid;
	if (d->type == DIR_DOMAIN_AD) {
		r = ad_identity(&ea, d, a->user_name, &u->name, &u->sid, &rid, why, whylen);
		if (r != MAP_OK || ad_user_ids(&ea, d, u, rid, uid, gid, why, whylen) < 0) {
			r = r == MAP_OK ? MAP_SKIP : r;
			goto out;
		}
		r = MAP_SKIP;
	} else if (!(u->name = first_value(&ea, a->user_name)) || !dir_valid_name(u->name)) {
		snprintf(why, whylen, "missing or invalid %s", a->user_name);
		goto out;
	} else if (parse_id(uid, &u->uid) < 0 || parse_id(gid, &u->gid) < 0) {
		snprintf(why, whylen, "user %s: missing or invalid %s/%s", u->name, a->uid, a->gid);
		goto out;
	}
	if (u->uid < d->min_id || u->gid < d->min_id) {
		bool by_uid = u->uid < d->min_id;
		snprintf(why, whylen, "user %s: %s %" PRIu32 " is below min_id %" PRIu32, u->name,
			 by_uid ? "uid" : "primary gid", by_uid ? u->uid : u->gid, d->min_id);
		r = MAP_REFUSED;
		goto out;
	}
	r = MAP_NOMEM;
	if (!(u->gecos = first_value(&ea, a->gecos)) && !(u->gecos = first_value(&ea, "cn")) &&
	    !(u->gecos = strdup("")))
		goto out;
	sanitize_gecos(u->gecos);
	u->home = first_value(&ea, a->home);
	u->shell = first_value(&ea, a->shell);
	u->email = first_value(&ea, a->email);
	if (u->email)
		sanitize_gecos(u->email);
	/* from the values decoded already: a second decoding of the entry was a twentieth of a
	 * stream's first read */
	if (a->ssh_key && ssh_keys_read(values_of(&ea, a->ssh_key), a->ssh_key, u->name,
					&u->ssh_keys, &u->n_ssh_keys) < 0)
		goto out;
	if (!valid_path_field(u->home)) {
		free(u->home);
		/* %U is the account without its domain, %D the AD workgroup */
		const char *bs = d->type == DIR_DOMAIN_AD ? strchr(u->name, '\\') : NULL;
		r = ldap_map_home(d->home_template, bs ? bs + 1 : u->name,
				  d->type == DIR_DOMAIN_AD ? d->workgroup : d->name, u->uid, &u->home);
		if (r == MAP_REFUSED)
			snprintf(why, whylen, "user %s: the name would take home_template %s out of "
				 "its directory", u->name, d->home_template);
		if (r != MAP_OK)
			goto out;
		r = MAP_NOMEM;
	}
	if (!valid_path_field(u->shell)) {
		free(u->shell);
		if (!(u->shell = strdup(d->default_shell)))
			goto out;
	}
	if (!(u->domain = strdup(d->name)))
		goto out;
	u->fetched = (uint64_t)time(NULL);
	r = MAP_OK;
out:
	entry_attrs_free(&ea);
	free(uid);
	free(gid);
	if (r != MAP_OK)
		dir_user_clear(u);
	return r;
}

/* memberUid values that are valid names, after those g->members holds. */
static int add_member_names(struct dir_group *g, const struct berval *v)
{
	size_t n = 0;
	while (v && v[n].bv_val)
		n++;
	if (!n)
		return 0;
	char **grown = realloc(g->members, ((size_t)g->n_members + n + 1) * sizeof(char *));
	if (!grown)
		return -1;
	g->members = grown;
	for (size_t i = 0; i < n; i++) {
		if (v[i].bv_len == 0 || v[i].bv_len > DIR_MAX_NAME ||
		    memchr(v[i].bv_val, '\0', v[i].bv_len))
			continue;
		char *m = strndup(v[i].bv_val, v[i].bv_len);
		if (!m)
			return -1;
		if (!dir_valid_name(m)) {
			free(m);
			continue;
		}
		g->members[g->n_members++] = m;
	}
	g->members[g->n_members] = NULL;
	return 0;
}

static int add_member_dns(struct dn_list *dns, const struct berval *v)
{
	for (size_t i = 0; v && v[i].bv_val; i++)
		if (dn_list_add_value(dns, &v[i]) < 0)
			return -1;
	return 0;
}

enum map_result ldap_map_group(LDAP *ld, LDAPMessage *e, const struct dir_domain *d,
			       struct dir_group *g, struct dn_list *dns, char *why, size_t whylen)
{
	memset(g, 0, sizeof(*g));
	const struct dir_attrs *a = &d->attrs;
	struct entry_attrs ea;
	if (entry_attrs_read(ld, e, &ea) < 0) {
		snprintf(why, whylen, "an entry that cannot be decoded");
		return MAP_SKIP;
	}
	char *gid = first_value(&ea, a->gid);
	enum map_result r = MAP_SKIP;
	uint32_t rid;
	if (d->type == DIR_DOMAIN_AD) {
		r = ad_identity(&ea, d, a->group_name, &g->name, &g->sid, &rid, why, whylen);
		if (r != MAP_OK)
			goto out;
		r = MAP_SKIP;
		if (ad_id(d, rid, gid, &g->gid) < 0) {
			snprintf(why, whylen, "group %s: %s outside idmap_range %" PRIu32 "-%" PRIu32,
				 g->name, d->idmap == DIR_IDMAP_RID ? "RID" : a->gid, d->idmap_low,
				 d->idmap_high);
			goto out;
		}
	} else if (!(g->name = first_value(&ea, a->group_name)) || !dir_valid_name(g->name)) {
		snprintf(why, whylen, "missing or invalid %s", a->group_name);
		goto out;
	} else if (parse_id(gid, &g->gid) < 0) {
		snprintf(why, whylen, "group %s: missing or invalid %s", g->name, a->gid);
		goto out;
	}
	if (g->gid < d->min_id) {
		snprintf(why, whylen, "group %s: gid %" PRIu32 " is below min_id %" PRIu32, g->name,
			 g->gid, d->min_id);
		r = MAP_REFUSED;
		goto out;
	}
	r = MAP_NOMEM;
	if (!(g->domain = strdup(d->name)))
		goto out;
	g->fetched = (uint64_t)time(NULL);
	if (!(g->members = calloc(1, sizeof(char *))))
		goto out;
	for (size_t i = 0; i < a->n_member; i++) {
		bool by_dn = member_attr_is_dn(a->member[i]);
		const struct berval *members = values_of(&ea, a->member[i]);
		if ((by_dn && dns && add_member_dns(dns, members) < 0) ||
		    (!by_dn && add_member_names(g, members) < 0))
			goto out;
	}
	r = MAP_OK;
out:
	entry_attrs_free(&ea);
	free(gid);
	if (r != MAP_OK)
		dir_group_clear(g);
	return r;
}
