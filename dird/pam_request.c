/* PAM requests from pam_dir.so (libcommon/protocol.h): check a password with a bind as the
 * user, or whether an account may log in now.  Each runs in a thread of its own, at most
 * MAX_PAM_THREADS at once, on connections of its own: a bind waits on the network, and a login
 * must neither wait behind cache misses nor hold them up. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account_policy.h"
#include "cred_cache.h"
#include "dird.h"
#include "fetch.h"
#include "fetch_ad.h"
#include "idmap.h"
#include "krb5_auth.h"
#include "local_login.h"
#include "log.h"
#include "names.h"
#include "protocol.h"
#include "requests.h"

#define MAX_PAM_THREADS 16

struct pam_job {
	struct dird *d;
	uint64_t conn;
	uint32_t op;
	struct buf body;
};

struct pam_request {
	uint32_t op;
	bool auth;		/* op is DIR_OP_PAM_AUTH */
	const char *user, *service, *rhost, *password;
	const char *new_password;	/* DIR_OP_PAM_CHAUTHTOK; "" only checks */
	char canonical[DIR_MAX_NAME + 1];	/* user as served (an AD name in another form) */
	bool offline;		/* answered from cached credentials */
	bool locked;		/* refused for the entry's lock, not for the password */
	char msg[256];	/* for the user */
	struct buf ccache;	/* auth = krb5: the user's tickets, as a FILE cache's bytes */
	char where[200];	/* "service sshd from 10.1.2.3", for the log */
};

static bool parse(uint32_t op, const struct buf *body, struct pam_request *r)
{
	struct pam_fields f;
	if (!request_parse_pam(op, body, &f))
		return false;
	r->op = op;
	r->auth = op == DIR_OP_PAM_AUTH;
	r->user = f.user;
	r->service = f.service;
	r->rhost = f.rhost;
	r->password = f.password;
	r->new_password = f.new_password;
	r->msg[0] = '\0';
	r->offline = false;
	r->locked = false;
	return true;
}

/* Caller-supplied text as it may appear in the log: printable ASCII only, shortened. */
static void printable(const char *s, char *out, size_t outlen)
{
	size_t i = 0;
	for (; *s && i + 1 < outlen && i < 64; s++)
		out[i++] = isprint((unsigned char)*s) ? *s : '?';
	out[i] = '\0';
}


/* The account rules of the user's domain.  -1 when the directory did not answer. */
static int check_account(struct ldap_conn *c, const struct local_accounts *local,
			 struct pam_request *r, const char *dn, const struct account_state *st,
			 char *err, size_t errlen)
{
	const struct dir_domain *dom = c->domain;
	enum dir_pam_result res = account_check(st, (long long)time(NULL), r->msg, sizeof(r->msg));
	if (res != DIR_PAM_OK)
		return (int)res;
	int allowed = 1;
	if (dom->access_filter)
		allowed = fetch_entry_matches(c, dn, dom->access_filter, err, errlen);
	if (allowed > 0 && dom->n_access_groups)
		allowed = fetch_in_access_groups(c, local, r->user, err, errlen);
	if (allowed < 0)
		return -1;
	if (!allowed) {
		snprintf(r->msg, sizeof(r->msg), "You are not allowed to log in to this host.");
		return DIR_PAM_NOT_ALLOWED;
	}
	return DIR_PAM_OK;
}

/* The name before @REALM in the user's principal: AD's sAMAccountName without the workgroup. */
static const char *krb5_user(const struct dir_domain *dom, const char *user)
{
	const char *account = dom->type == DIR_DOMAIN_AD ? fetch_ad_account(dom, user) : NULL;
	return account ? account : user;
}

/* The domain's own password check: a bind as the user, or the KDC verified with the host keytab
 * (the user's tickets then go to r->ccache). */
static enum user_bind_result check_password(struct dird *d, const struct ldap_conn *c,
					    struct pam_request *r, const char *dn,
					    const char *password, char *err, size_t errlen)
{
	const struct dir_domain *dom = c->domain;
	const struct krb5_target t = krb5_domain_target(dom);
	return dom->auth == DIR_AUTH_KRB5 ?
		       krb5_check_password(&d->cfg, &t, krb5_user(dom, r->user), password,
					   d->cfg.run_dir, &r->ccache, err, errlen) :
		       ldap_conn_bind_user(c, dn, password, err, errlen);
}

/* A password change (or, with an empty new password, whether one would be allowed). */
static int change_password(struct dird *d, struct ldap_conn *c, struct pam_request *r,
			   const char *dn, char *err, size_t errlen)
{
	const struct dir_domain *dom = c->domain;
	if (!dom->allow_password_change) {
		snprintf(r->msg, sizeof(r->msg), "Directory passwords cannot be changed on this host; "
						 "ask your directory administrator.");
		return DIR_PAM_NOT_ALLOWED;
	}
	/* AD has no Password Modify operation: its passwords change through kpasswd. */
	bool by_kpasswd = dom->auth == DIR_AUTH_KRB5 || dom->type == DIR_DOMAIN_AD;
	const struct krb5_target t = krb5_domain_target(dom);
	enum user_bind_result changed =
		by_kpasswd ?
			krb5_change_user_password(&d->cfg, &t, krb5_user(dom, r->user), r->password,
						  r->new_password, r->msg, sizeof(r->msg), err,
						  errlen) :
			ldap_conn_change_password(c, dn, r->password, r->new_password, r->msg,
						  sizeof(r->msg), err, errlen);
	enum user_bind_result proven = USER_BIND_OK;
	switch (changed) {
	case USER_BIND_OK:
	case USER_BIND_MUST_CHANGE:
		if (!*r->new_password)
			return DIR_PAM_OK;
		/* kpasswd's "done" proves nothing of the KDC that said it (a spoofed one takes any
		 * old password): the change counts, and is cached, only once the new password
		 * passes the domain's own check. */
		if (by_kpasswd)
			proven = check_password(d, c, r, dn, r->new_password, err, errlen);
		if (proven != USER_BIND_OK) {
			buf_reset(&r->ccache);
			snprintf(r->msg, sizeof(r->msg), "The new password could not be verified; the "
							 "change is not accepted here.");
			log_error("%s: %s's password change is not accepted: the new password does not "
				  "pass the password check%s%s", dom->name, r->user, *err ? ": " : "", err);
			return proven == USER_BIND_ERROR ? DIR_PAM_UNAVAIL : DIR_PAM_DENIED;
		}
		log_info("%s: %s changed their password", dom->name, r->user);
		if (d->cfg.cache_credentials)
			cred_cache_store(d->cfg.cache_dir, r->user, r->new_password);
		return DIR_PAM_OK;
	case USER_BIND_DENIED:
	case USER_BIND_ACCOUNT_REFUSED:
		if (*err)
			log_info("%s: password change for %s refused: %s", dom->name, r->user, err);
		return DIR_PAM_DENIED;
	default:
		log_error("%s: cannot change %s's password: %s", dom->name, r->user, err);
		return DIR_PAM_UNAVAIL;
	}
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The longest a password check is padded to: a slow directory must not make a refusal slow. */
#define MAX_PAD_US 2000000LL

/* A moving average of domain i's password checks (a bind, or the KDC), so that an unknown user
 * can be answered no sooner than a wrong password would be. */
static void remember_check_time(struct dird *d, size_t i, long long us)
{
	pthread_mutex_lock(&d->lock);
	long long *avg = &d->domains[i].check_us;
	*avg = *avg ? (*avg * 7 + us) / 8 : us;
	pthread_mutex_unlock(&d->lock);
}

/* An unknown user's password is not checked; waiting as long as a check takes, after the same
 * search a known user gets, keeps the answer from telling an unknown user from a wrong
 * password. */
static void pad_unknown(struct dird *d)
{
	long long longest = 0;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		if (d->domains[i].check_us > longest)
			longest = d->domains[i].check_us;
	pthread_mutex_unlock(&d->lock);
	long long left = longest < MAX_PAD_US ? longest : MAX_PAD_US;
	if (left > 0) {
		struct timespec ts = { left / 1000000, (left % 1000000) * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* Asks domain i.  DIR_PAM_UNKNOWN when it does not have the user; -1 when it did not answer. */
static int ask_domain(struct dird *d, size_t i, const struct local_accounts *local,
		      struct pam_request *r)
{
	const struct dir_domain *dom = &d->cfg.domains[i];
	char prefer[DIR_MAX_URI], err[512] = "";
	pthread_mutex_lock(&d->lock);
	snprintf(prefer, sizeof(prefer), "%s", d->domains[i].server);
	pthread_mutex_unlock(&d->lock);

	struct ldap_conn c;
	struct account_state st;
	char *dn = NULL;
	int res = -1;
	if (ldap_conn_open(&c, dom, prefer, err, sizeof(err)) < 0)
		goto offline;
	int found = fetch_account(&c, local, r->user, &dn, &st, err, sizeof(err));
	if (found < 0)
		goto offline;
	pthread_mutex_lock(&d->lock);
	domain_online_locked(d, i, c.server);
	pthread_mutex_unlock(&d->lock);
	if (!found) {
		res = DIR_PAM_UNKNOWN;
		if (r->auth && d->cfg.cache_credentials)
			cred_cache_forget(d->cfg.cache_dir, r->user);
	} else if (r->auth) {
		long long started = now_us();
		enum user_bind_result checked = check_password(d, &c, r, dn, r->password, err,
							       sizeof(err));
		remember_check_time(d, i, now_us() - started);
		switch (checked) {
		case USER_BIND_OK:
			res = DIR_PAM_OK;
			if (d->cfg.cache_credentials)
				cred_cache_store(d->cfg.cache_dir, r->user, r->password);
			break;
		case USER_BIND_MUST_CHANGE: res = DIR_PAM_NEW_AUTHTOK; break;
		case USER_BIND_EXPIRED_UNPROVEN:
			/* No login on this answer alone: only a change, verified, logs in. */
			res = dom->allow_password_change ? DIR_PAM_CHANGE_FIRST : DIR_PAM_DENIED;
			snprintf(r->msg, sizeof(r->msg), "%s", dom->allow_password_change ?
				 "Your password has expired; choose a new one to log in." :
				 "Your password has expired and cannot be changed on this host; ask "
				 "your directory administrator.");
			break;
		case USER_BIND_DENIED:
		case USER_BIND_UNKNOWN: /* in the directory, not at the KDC: a refusal like any */
			/* ppolicy (and AD, locked out) refuses a locked entry's bind before it looks
			 * at the password: the log says so, the user gets the refusal any wrong
			 * password gets. */
			r->locked = st.locked;
			res = DIR_PAM_DENIED;
			break;
		case USER_BIND_ACCOUNT_REFUSED:
			/* The password was right: the user may know why it is not enough. */
			res = account_check(&st, (long long)time(NULL), r->msg, sizeof(r->msg));
			if (res == DIR_PAM_OK) {
				snprintf(r->msg, sizeof(r->msg), "Your account may not log in now; "
								 "contact your administrator.");
				res = DIR_PAM_DISABLED;
			}
			break;
		case USER_BIND_ERROR:
			log_error("%s: cannot check %s's password: %s", dom->name, r->user, err);
			res = DIR_PAM_UNAVAIL;
			break;
		}
	} else if (r->op == DIR_OP_PAM_CHAUTHTOK) {
		res = change_password(d, &c, r, dn, err, sizeof(err));
	} else {
		res = check_account(&c, local, r, dn, &st, err, sizeof(err));
		if (res < 0)
			goto offline;
	}
	free(dn);
	ldap_conn_close(&c);
	return res;
offline:
	free(dn);
	ldap_conn_close(&c);
	pthread_mutex_lock(&d->lock);
	domain_offline_locked(d, i, err);
	pthread_mutex_unlock(&d->lock);
	return -1;
}

/* No domain could be asked: the password the user last logged in with, if cache_credentials
 * keeps them. */
static enum dir_pam_result auth_from_cache(struct dird *d, struct pam_request *r)
{
	if (!d->cfg.cache_credentials)
		return DIR_PAM_UNAVAIL;
	switch (cred_cache_check(d->cfg.cache_dir, r->user, r->password,
				 d->cfg.offline_credentials_expiration)) {
	case CRED_MATCH:
		r->offline = true;
		return DIR_PAM_OK;
	case CRED_MISMATCH:
		return DIR_PAM_DENIED;
	default:
		return DIR_PAM_UNAVAIL;
	}
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
static enum dir_pam_result account_from_cache(struct dird *d, struct pam_request *r)
{
	enum dir_pam_result res = DIR_PAM_UNAVAIL;
	pthread_mutex_lock(&d->lock);
	const struct dir_user *u = db_user_by_name(&d->db, r->user);
	for (size_t i = 0; u && i < d->cfg.n_domains; i++) {
		const struct dir_domain *dom = &d->cfg.domains[i];
		if (u->domain && strcmp(u->domain, dom->name))
			continue;
		if (dom->access_filter) {
			/* Cannot be evaluated without the directory: fail closed. */
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
	if (res == DIR_PAM_NOT_ALLOWED)
		snprintf(r->msg, sizeof(r->msg), "You are not allowed to log in to this host.");
	return res;
}

static enum dir_pam_result handle(struct dird *d, struct pam_request *r)
{
	if (!dir_valid_name(r->user))
		return DIR_PAM_UNKNOWN;
	/* "adtest\alice" and "alice@ad.test" are ADTEST\alice, asked of that domain only. */
	size_t name_domain = 0;
	int form = idmap_canonical_name(&d->cfg, r->user, &name_domain, r->canonical,
					sizeof(r->canonical));
	if (form < 0)
		return DIR_PAM_UNKNOWN;
	r->user = r->canonical;
	/* An empty password would be an unauthenticated bind, which "succeeds". */
	if (r->password && (!*r->password || strlen(r->password) > DIR_MAX_PASSWORD))
		return DIR_PAM_DENIED;
	if (r->new_password && strlen(r->new_password) > DIR_MAX_PASSWORD)
		return DIR_PAM_DENIED;
	struct local_accounts local;
	char err[512];
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_error("%s: no directory user logs in until it can be read", err);
		return DIR_PAM_UNAVAIL;
	}
	/* A local name is never a directory account, whatever the directory holds; it may log in
	 * with Kerberos through a realm that serves local users. */
	if (local_set_has_name(&local.users, r->user)) {
		local_accounts_free(&local);
		return r->auth ? local_login(d, r->user, r->password, &r->ccache, r->msg,
					     sizeof(r->msg)) : DIR_PAM_UNKNOWN;
	}
	bool unanswered = false;
	int res = DIR_PAM_UNKNOWN;
	for (size_t i = 0; i < d->cfg.n_domains && res == DIR_PAM_UNKNOWN; i++) {
		if (!idmap_domain_takes_name(&d->cfg, i, form, name_domain))
			continue;
		pthread_mutex_lock(&d->lock);
		domain_tick_locked(d);
		bool usable = domain_usable_locked(d, i);
		pthread_mutex_unlock(&d->lock);
		int one = usable ? ask_domain(d, i, &local, r) : -1;
		if (one < 0)
			unanswered = true;
		else
			res = one;
	}
	local_accounts_free(&local);
	if (res == DIR_PAM_UNKNOWN && unanswered)
		res = r->auth ? auth_from_cache(d, r) :
		      r->op == DIR_OP_PAM_ACCOUNT ? account_from_cache(d, r) : DIR_PAM_UNAVAIL;
	else if (res == DIR_PAM_UNKNOWN && r->auth)
		pad_unknown(d);
	return (enum dir_pam_result)res;
}

static void log_outcome(const struct pam_request *r, enum dir_pam_result res)
{
	static const char *const what[] = {
		[DIR_PAM_OK] = "ok", [DIR_PAM_UNKNOWN] = "not a directory user",
		[DIR_PAM_DENIED] = "wrong password", [DIR_PAM_UNAVAIL] = "directory unavailable",
		[DIR_PAM_NEW_AUTHTOK] = "password must be changed", [DIR_PAM_EXPIRED] = "expired",
		[DIR_PAM_DISABLED] = "disabled or locked", [DIR_PAM_NOT_ALLOWED] = "not allowed",
		[DIR_PAM_CHANGE_FIRST] = "password expired: a verified change must come first",
	};
	char user[80];
	printable(r->user, user, sizeof(user));
	const char *how = r->offline ? " (offline, cached credentials)" : "";
	const char *op_name = r->auth ? "auth" : r->op == DIR_OP_PAM_ACCOUNT ? "account" : "chauthtok";
	if (res == DIR_PAM_DENIED && r->locked) {
		log_info("pam %s for %s (%s): refused: the account is locked in the directory "
			 "(the password was not judged)", op_name, user, r->where);
		return;
	}
	if ((res == DIR_PAM_OK && !r->offline) || res == DIR_PAM_UNKNOWN)
		log_debug("pam %s for %s (%s): %s", op_name, user, r->where, what[res]);
	else
		log_info("pam %s for %s (%s): %s%s", op_name, user, r->where, what[res], how);
}

static void *pam_thread(void *arg)
{
	struct pam_job *job = arg;
	struct dird *d = job->d;
	struct pam_request r;
	struct buf reply;
	buf_init(&reply, DIR_MAX_REPLY);
	buf_init(&r.ccache, DIR_MAX_REPLY / 2);
	uint32_t status = DIR_BADREQ;
	if (parse(job->op, &job->body, &r)) {
		char service[80], rhost[80];
		printable(r.service, service, sizeof(service));
		printable(r.rhost, rhost, sizeof(rhost));
		snprintf(r.where, sizeof(r.where), "service %s%s%s", service, *rhost ? " from " : "",
			 rhost);
		enum dir_pam_result res = handle(d, &r);
		log_outcome(&r, res);
		if (res != DIR_PAM_OK)
			buf_reset(&r.ccache);
		buf_put_u32(&reply, res);
		buf_put_str(&reply, r.msg);
		buf_put_u32(&reply, (uint32_t)r.ccache.len);
		buf_put_bytes(&reply, r.ccache.data, r.ccache.len);
		status = DIR_OK;
	}
	server_post_reply(d, job->conn, status, &reply);
	buf_free_wipe(&reply); /* tickets are secrets too */
	buf_free_wipe(&r.ccache);
	buf_free_wipe(&job->body);
	free(job);
	pthread_mutex_lock(&d->lock);
	d->pam_running--;
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

bool pam_submit_locked(struct dird *d, uint64_t conn, uint32_t op, struct buf *body)
{
	struct pam_job *job = d->pam_running < MAX_PAM_THREADS ? calloc(1, sizeof(*job)) : NULL;
	if (job) {
		*job = (struct pam_job){ d, conn, op, *body };
		buf_init(body, 0);
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&t, &attr, pam_thread, job);
		pthread_attr_destroy(&attr);
		if (rc == 0) {
			d->pam_running++;
			return true;
		}
		*body = job->body;
		free(job);
	}
	log_warning("too many PAM requests at once; answering one 'unavailable'");
	return false;
}
