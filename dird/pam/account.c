/* The account phase: whether a directory account may log in now: its state (disabled, locked,
 * expired, a password that must change) and the domain's access rules (access_filter,
 * access_groups).  While the directory is offline the cache answers: the user exists, and is
 * in one of the access groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_names.h"
#include "fetch.h"
#include "pam_phases.h"

enum dir_pam_result pam_account_state(const struct pam_entry *e, struct pam_request *r)
{
	static const enum dir_pam_result results[] = {
		[ACCOUNT_OK] = DIR_PAM_OK, [ACCOUNT_DISABLED] = DIR_PAM_DISABLED,
		[ACCOUNT_EXPIRED] = DIR_PAM_EXPIRED, [ACCOUNT_MUST_CHANGE] = DIR_PAM_NEW_AUTHTOK,
	};
	return results[account_check(e->state, (long long)time(NULL), r->msg, sizeof(r->msg))];
}

/* The account rules of the user's domain.  -1 when the directory did not answer. */
static int answer(struct dird *d, struct pam_request *r, const struct pam_entry *e, char *err,
		  size_t errlen)
{
	(void)d;
	if (!e->dn)
		return DIR_PAM_UNKNOWN;
	const struct dir_domain *dom = e->conn->domain;
	r->path = "the directory entry's state and the domain's access rules";
	enum dir_pam_result res = pam_account_state(e, r);
	if (res != DIR_PAM_OK) {
		snprintf(r->why, sizeof(r->why), "%s", r->msg);
		return (int)res;
	}
	int allowed = 1;
	if (dom->access_filter)
		allowed = fetch_entry_matches(e->conn, e->dn, dom->access_filter, err, errlen);
	if (!allowed)
		snprintf(r->why, sizeof(r->why), "the entry does not match access_filter");
	if (allowed > 0 && dom->n_access_groups) {
		allowed = fetch_in_access_groups(e->conn, e->local, r->user, err, errlen);
		if (!allowed)
			snprintf(r->why, sizeof(r->why), "in none of access_groups");
	}
	if (allowed < 0)
		return -1;
	if (!allowed) {
		snprintf(r->msg, sizeof(r->msg), "You are not allowed to log in to this host.");
		return DIR_PAM_NOT_ALLOWED;
	}
	return DIR_PAM_OK;
}

/* An access group as the cache has it: by its exact name, or for AD in any case or form
 * ("adtest\G_OUTER" is ADTEST\g_outer: one pass over the groups, offline only).  Lock held. */
static const struct dir_group *access_group_locked(const struct dird *d, const struct dir_domain *dom,
						   const char *name)
{
	const struct dir_group *g = db_group_by_name(&d->db, name);
	for (size_t i = 0; !g && dom->type == DIR_DOMAIN_AD && i < d->db.c.n_groups; i++) {
		const struct dir_group *c = d->db.c.groups[i];
		if (c->domain && !strcmp(c->domain, dom->name) && dir_name_answers(name, c->name))
			g = c;
	}
	return g;
}

/* No domain could be asked: the cache says whether the user exists and which groups it is in. */
static enum dir_pam_result offline(struct dird *d, struct pam_request *r)
{
	enum dir_pam_result res = DIR_PAM_UNAVAIL;
	r->path = "the cache (no domain could be asked)";
	pthread_mutex_lock(&d->lock);
	const struct dir_user *u = db_user_by_name(&d->db, r->user);
	for (size_t i = 0; u && i < d->cfg.n_domains; i++) {
		const struct dir_domain *dom = &d->cfg.domains[i];
		if (u->domain && strcmp(u->domain, dom->name))
			continue;
		if (dom->access_filter) {
			/* Cannot be evaluated without the directory: fail closed. */
			snprintf(r->why, sizeof(r->why), "access_filter needs the directory");
			res = DIR_PAM_UNAVAIL;
			break;
		}
		res = dom->n_access_groups ? DIR_PAM_NOT_ALLOWED : DIR_PAM_OK;
		for (size_t j = 0; j < dom->n_access_groups; j++) {
			const struct dir_group *g = access_group_locked(d, dom, dom->access_groups[j]);
			if (g && fetch_user_has_gid(u, g->gid))
				res = DIR_PAM_OK;
		}
		break;
	}
	pthread_mutex_unlock(&d->lock);
	if (!u)
		snprintf(r->why, sizeof(r->why), "the cache has no such user");
	if (res == DIR_PAM_NOT_ALLOWED)
		snprintf(r->why, sizeof(r->why), "in none of access_groups (as the cache has them)");
	if (res == DIR_PAM_NOT_ALLOWED)
		snprintf(r->msg, sizeof(r->msg), "You are not allowed to log in to this host.");
	return res;
}

const struct pam_phase pam_account = { DIR_OP_PAM_ACCOUNT, "account", answer, offline, NULL };
