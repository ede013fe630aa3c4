#include "ad_changes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "fetch_ad.h"
#include "sid.h"

/* The value of attr as a C string into out: false when absent, several, too long or not text. */
static bool one_text(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t outlen)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	bool ok = v && v[0] && !v[1] && v[0]->bv_len < outlen &&
		  !memchr(v[0]->bv_val, '\0', v[0]->bv_len);
	if (ok) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return ok;
}

/* One base entry's attributes, through fn. */
static int read_base(struct ldap_conn *c, const char *dn, const char *const *attrs,
		     ldap_entry_fn fn, void *arg, char *err, size_t errlen)
{
	return ldap_conn_search(c, dn, DIR_SCOPE_BASE, "(objectClass=*)", attrs, fn, arg, err,
				errlen);
}

struct root_read {
	struct ad_position *p;
	char service[1024];	/* dsServiceName: the DC's NTDS Settings */
	bool usn_ok;
};

static int take_root(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct root_read *r = arg;
	char usn[32];
	char *end;
	one_text(ld, e, "dnsHostName", r->p->dc, sizeof(r->p->dc));
	one_text(ld, e, "dsServiceName", r->service, sizeof(r->service));
	if (one_text(ld, e, "highestCommittedUSN", usn, sizeof(usn)) && usn[0] >= '0' &&
	    usn[0] <= '9') {
		r->p->usn = strtoull(usn, &end, 10);
		r->usn_ok = *end == '\0';
	}
	return 0;
}

/* MS-DTYP 2.3.4: the first three fields little-endian, the last eight bytes in order. */
static void guid_to_string(const unsigned char *g, char *out, size_t outlen)
{
	snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

static int take_invocation(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct ad_position *p = arg;
	struct berval **v = ldap_get_values_len(ld, e, "invocationId");
	if (v && v[0] && !v[1] && v[0]->bv_len == 16)
		guid_to_string((const unsigned char *)v[0]->bv_val, p->invocation_id,
			       sizeof(p->invocation_id));
	ldap_value_free_len(v);
	return 0;
}

int ad_position_read(struct ldap_conn *c, struct ad_position *p, char *err, size_t errlen)
{
	static const char *const root_attrs[] = { "dnsHostName", "dsServiceName",
						  "highestCommittedUSN", NULL };
	static const char *const ntds_attrs[] = { "invocationId", NULL };
	struct root_read r = { p, "", false };
	memset(p, 0, sizeof(*p));
	if (read_base(c, "", root_attrs, take_root, &r, err, errlen) < 0)
		return -1;
	if (!r.usn_ok || !*p->dc || !*r.service) {
		snprintf(err, errlen, "%s publishes no highestCommittedUSN, dnsHostName or "
			 "dsServiceName in its root DSE: not an AD DC?", c->server);
		return -1;
	}
	if (read_base(c, r.service, ntds_attrs, take_invocation, p, err, errlen) < 0)
		return -1;
	if (!*p->invocation_id) {
		snprintf(err, errlen, "%s: no invocationId on %s", c->server, r.service);
		return -1;
	}
	return 0;
}

const char *ad_position_mismatch(const struct ad_position *stored, const struct ad_position *now)
{
	if (strcasecmp(stored->dc, now->dc))
		return "another DC answers (its USNs are its own)";
	if (strcmp(stored->invocation_id, now->invocation_id))
		return "the DC's invocationId changed (its database was restored)";
	if (now->usn < stored->usn)
		return "the DC's USN went back (its database was restored)";
	return NULL;
}

void ad_position_format(const struct ad_position *p, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s %s %" PRIu64, p->dc, p->invocation_id, p->usn);
}

int ad_position_parse(const char *text, struct ad_position *p)
{
	char dc[sizeof(p->dc)], inv[AD_GUID_STRING];
	unsigned long long usn;
	int used = 0;
	memset(p, 0, sizeof(*p));
	if (sscanf(text, "%255s %36s %llu%n", dc, inv, &usn, &used) != 3 || text[used] ||
	    strlen(inv) != AD_GUID_STRING - 1)
		return -1;
	snprintf(p->dc, sizeof(p->dc), "%s", dc);
	snprintf(p->invocation_id, sizeof(p->invocation_id), "%s", inv);
	p->usn = usn;
	return 0;
}

/* The accounts to read again: each once, by SID, with the DN it was found at (a group's DN
 * finds the groups that hold it). */
struct pending {
	char sid[SID_MAX_STRING];
	char *dn;
};

struct work {
	struct pending *v;
	size_t n, cap;
};

static bool work_has(const struct work *w, const char *sid)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].sid, sid))
			return true;
	return false;
}

static int work_add(struct work *w, const char *sid, const char *dn)
{
	if (work_has(w, sid))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		struct pending *v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	char *copy = dn ? strdup(dn) : NULL;
	if (dn && !copy)
		return -1;
	snprintf(w->v[w->n].sid, sizeof(w->v[w->n].sid), "%s", sid);
	w->v[w->n++].dn = copy;
	return 0;
}

static void work_free(struct work *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].dn);
	free(w->v);
}

/* An entry's objectSid as text; false when it has none a domain account could have. */
static bool entry_sid(LDAP *ld, LDAPMessage *e, char *out, size_t outlen)
{
	struct berval **v = ldap_get_values_len(ld, e, "objectSid");
	struct sid sid;
	uint32_t rid;
	bool ok = v && v[0] && !v[1] && sid_from_binary(v[0]->bv_val, v[0]->bv_len, &sid) == 0 &&
		  sid_split_rid(&sid, NULL, &rid);
	if (ok)
		sid_to_string(&sid, out, outlen);
	ldap_value_free_len(v);
	return ok;
}

static int take_changed(LDAP *ld, LDAPMessage *e, void *arg)
{
	char sid[SID_MAX_STRING];
	if (!entry_sid(ld, e, sid, sizeof(sid)))
		return 0;
	char *dn = fetch_entry_dn(ld, e);
	int rc = dn ? work_add(arg, sid, dn) : -1;
	free(dn);
	return rc;
}

static int take_gone(LDAP *ld, LDAPMessage *e, void *arg)
{
	char sid[SID_MAX_STRING];
	return entry_sid(ld, e, sid, sizeof(sid)) ? work_add(arg, sid, NULL) : 0;
}

static int push(void *vp, size_t *n, size_t size, const void *item)
{
	void **v = vp;
	void *grown = realloc(*v, (*n + 1) * size);
	if (!grown)
		return -1;
	*v = grown;
	memcpy((char *)grown + *n * size, item, size);
	(*n)++;
	return 0;
}

static int add_gone(struct ad_change_batch *b, const char *sid)
{
	char *copy = strdup(sid);
	if (copy && push(&b->gone_sids, &b->n_gone, sizeof(copy), &copy) == 0)
		return 0;
	free(copy);
	return -1;
}

/* The groups that hold the group at dn: read again too, their members changed with it. */
static int add_parents(struct ldap_conn *c, const char *dn, struct work *w, char *err,
		       size_t errlen)
{
	const struct dir_domain *d = c->domain;
	static const char *const attrs[] = { "objectSid", NULL };
	for (size_t i = 0; i < d->attrs.n_member; i++) {
		if (!member_attr_is_dn(d->attrs.member[i]))
			continue;
		char *filter = fetch_filter(d->group_filter, d->attrs.member[i], dn, 0);
		int rc = filter ? ldap_conn_search(c, d->group_base, d->group_scope, filter, attrs,
						   take_changed, w, err, errlen) : -1;
		free(filter);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One account read again as a lookup reads it: into the batch, or gone. */
static int read_again(struct ldap_conn *c, const struct local_accounts *local,
		      const struct pending *p, struct work *w, struct ad_change_batch *b,
		      char *err, size_t errlen)
{
	struct sid sid;
	struct dir_user *u = NULL, *user = NULL;
	struct dir_group *g = NULL, *group = NULL;
	if (sid_from_string(p->sid, &sid) < 0)
		return 0;
	int rc = fetch_ad_by_sid(c, local, &sid, &u, &g, err, errlen);
	if (rc > 0 && u)
		rc = fetch_user(c, local, u->name, 0, &user, err, errlen);
	else if (rc > 0 && g)
		rc = fetch_group(c, local, g->name, 0, &group, NULL, err, errlen);
	dir_user_destroy(u);
	dir_group_destroy(g);
	if (rc < 0)
		return -1;
	if (user && push(&b->users, &b->n_users, sizeof(user), &user) < 0) {
		dir_user_destroy(user);
		return -1;
	}
	if (group && push(&b->groups, &b->n_groups, sizeof(group), &group) < 0) {
		dir_group_destroy(group);
		return -1;
	}
	if (group && p->dn && add_parents(c, p->dn, w, err, errlen) < 0)
		return -1;
	return user || group ? 0 : add_gone(b, p->sid);
}

static int read_all(struct ldap_conn *c, const struct local_accounts *local, struct work *w,
		    struct ad_change_batch *b, char *err, size_t errlen)
{
	/* w grows while it is read: groups bring the groups that hold them */
	for (size_t i = 0; i < w->n; i++)
		if (read_again(c, local, &w->v[i], w, b, err, errlen) < 0)
			return -1;
	return 0;
}

int ad_changes_read(struct ldap_conn *c, const struct local_accounts *local, uint64_t since,
		    struct ad_change_batch *b, char *err, size_t errlen)
{
	static const char *const attrs[] = { "objectSid", NULL };
	const struct dir_domain *d = c->domain;
	struct work changed = { 0 }, gone = { 0 };
	char filter[256];
	LDAPControl *show_deleted = NULL;
	int rc = -1;
	*err = '\0';
	/* Computers are never users here; every other account is read again, so one that left
	 * the filters is seen to be gone. */
	snprintf(filter, sizeof(filter), "(&(|(objectClass=user)(objectClass=group))"
		 "(!(objectClass=computer))(uSNChanged>=%" PRIu64 "))", since + 1);
	if (ldap_conn_search(c, d->base_dn, DIR_SCOPE_SUB, filter, attrs, take_changed, &changed,
			     err, errlen) < 0)
		goto out;
	/* Deleted accounts are tombstones in CN=Deleted Objects, seen only with Show Deleted;
	 * they keep their objectSid. */
	if (ldap_create_show_deleted_control(c->ld, &show_deleted) != LDAP_SUCCESS) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(filter, sizeof(filter), "(&(isDeleted=TRUE)(uSNChanged>=%" PRIu64 "))", since + 1);
	if (ldap_conn_search_ctrl(c, d->base_dn, DIR_SCOPE_SUB, filter, attrs, show_deleted,
				  take_gone, &gone, err, errlen) < 0)
		goto out;
	rc = read_all(c, local, &changed, b, err, errlen);
	for (size_t i = 0; rc == 0 && i < gone.n; i++)
		rc = add_gone(b, gone.v[i].sid);
out:
	if (show_deleted)
		ldap_control_free(show_deleted);
	work_free(&changed);
	work_free(&gone);
	if (rc < 0) {
		if (!*err)
			snprintf(err, errlen, "out of memory");
		ad_change_batch_free(b);
	}
	return rc;
}

void ad_change_batch_free(struct ad_change_batch *b)
{
	for (size_t i = 0; i < b->n_users; i++)
		dir_user_destroy(b->users[i]);
	for (size_t i = 0; i < b->n_groups; i++)
		dir_group_destroy(b->groups[i]);
	for (size_t i = 0; i < b->n_gone; i++)
		free(b->gone_sids[i]);
	free(b->users);
	free(b->groups);
	free(b->gone_sids);
	memset(b, 0, sizeof(*b));
}
