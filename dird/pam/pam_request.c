/* PAM requests from pam_dir.so (libcommon/protocol.h): each runs in a thread of its own, at
 * most MAX_PAM_THREADS at once, on connections of its own: a bind waits on the network, and a
 * login must neither wait behind cache misses nor hold them up.  Here a request is read, the
 * user's entry found in each domain that may hold it and handed to its phase (pam_phases.h);
 * a local user goes to local_login.c. */
#include "pam_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_names.h"
#include "domain.h"
#include "fetch.h"
#include "local_login.h"
#include "log.h"
#include "names.h"
#include "pam_phases.h"
#include "requests.h"
#include "server.h"
#include "threads.h"

#define MAX_PAM_THREADS 16

struct pam_job {
	struct dird *d;
	uint64_t conn;
	uint32_t op;
	struct buf body;
	struct pam_job *next;	/* d->pam_parked */
};

static bool parse(uint32_t op, const struct buf *body, struct pam_request *r)
{
	static const struct pam_phase *const phases[] = { &pam_auth, &pam_account, &pam_password };
	struct pam_fields f;
	if (!request_parse_pam(op, body, &f))
		return false;
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		if (phases[i]->op == op)
			r->phase = phases[i];
	r->user = f.user;
	r->service = f.service;
	r->rhost = f.rhost;
	r->password = f.password;
	r->new_password = f.new_password;
	r->msg[0] = '\0';
	r->offline = false;
	r->locked = false;
	r->path = NULL;
	r->path_domain[0] = '\0';
	r->why[0] = '\0';
	return true;
}

/* Asks domain i for the user's entry and hands it to the request's phase.  -1 when the domain
 * did not answer. */
static int ask_domain(struct dird *d, size_t i, const struct local_accounts *local,
		      struct pam_request *r)
{
	struct ldap_conn c;
	struct account_state st;
	char *dn = NULL, err[512] = "";
	int found = domain_open(d, i, &c, err, sizeof(err)) < 0 ? -1 :
		    fetch_account(&c, local, r->user, &dn, &st, err, sizeof(err));
	domain_report(d, i, &c, found >= 0, err);
	int res = -1;
	if (found < 0)
		snprintf(r->why, sizeof(r->why), "domain %s: %s", d->cfg.domains[i].name, err);
	if (found >= 0) {
		const struct pam_entry e = { i, &c, dn, &st, local };
		snprintf(r->path_domain, sizeof(r->path_domain), "%s", d->cfg.domains[i].name);
		res = r->phase->answer(d, r, &e, err, sizeof(err));
		if (res < 0) {
			domain_report(d, i, &c, false, err);
			snprintf(r->why, sizeof(r->why), "domain %s: %s", d->cfg.domains[i].name, err);
		}
	}
	free(dn);
	ldap_conn_close(&c);
	return res;
}

static enum dir_pam_result handle(struct dird *d, struct pam_request *r)
{
	bool auth = r->phase == &pam_auth;
	if (!dir_valid_name(r->user)) {
		snprintf(r->why, sizeof(r->why), "not a valid user name");
		return DIR_PAM_UNKNOWN;
	}
	/* "adtest\alice" and "alice@ad.test" are ADTEST\alice, asked of that domain only. */
	size_t name_domain = 0;
	int form = ad_name_canonical(&d->cfg, r->user, &name_domain, r->canonical,
					sizeof(r->canonical));
	if (form < 0) {
		snprintf(r->why, sizeof(r->why), "a domain this host does not serve");
		return DIR_PAM_UNKNOWN;
	}
	r->user = r->canonical;
	/* An empty password would be an unauthenticated bind, which "succeeds". */
	if ((r->password && (!*r->password || strlen(r->password) > DIR_MAX_PASSWORD)) ||
	    (r->new_password && strlen(r->new_password) > DIR_MAX_PASSWORD)) {
		snprintf(r->why, sizeof(r->why), "an empty or over-long password");
		return DIR_PAM_DENIED;
	}
	struct local_accounts local;
	char err[512];
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_error("%s: no directory user logs in until it can be read", err);
		snprintf(r->why, sizeof(r->why), "the local account files cannot be read");
		return DIR_PAM_UNAVAIL;
	}
	/* A local name is never a directory account, whatever the directory holds; it may log in
	 * with Kerberos through a realm that serves local users. */
	if (local_set_has_name(&local.users, r->user)) {
		local_accounts_free(&local);
		r->path = auth ? "local user: Kerberos through a realm with local_users" : NULL;
		snprintf(r->why, sizeof(r->why), "a local account");
		return auth ? local_login(d, r->user, r->password, &r->ccache, r->msg,
					  sizeof(r->msg)) : DIR_PAM_UNKNOWN;
	}
	bool unanswered = false;
	int res = DIR_PAM_UNKNOWN;
	for (size_t i = 0; i < d->cfg.n_domains && res == DIR_PAM_UNKNOWN; i++) {
		if (!ad_name_domain_takes(&d->cfg, i, form, name_domain))
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
		return r->phase->offline(d, r);
	if (res == DIR_PAM_UNKNOWN && !*r->why)
		snprintf(r->why, sizeof(r->why), "no domain has the user");
	if (res == DIR_PAM_UNKNOWN && r->phase->unknown)
		r->phase->unknown(d);
	return (enum dir_pam_result)res;
}

static void log_outcome(const struct pam_request *r, enum dir_pam_result res, long long started_ms)
{
	static const char *const what[] = {
		[DIR_PAM_OK] = "ok", [DIR_PAM_UNKNOWN] = "not a directory user",
		[DIR_PAM_DENIED] = "wrong password", [DIR_PAM_UNAVAIL] = "directory unavailable",
		[DIR_PAM_NEW_AUTHTOK] = "password must be changed", [DIR_PAM_EXPIRED] = "expired",
		[DIR_PAM_DISABLED] = "disabled or locked", [DIR_PAM_NOT_ALLOWED] = "not allowed",
		[DIR_PAM_CHANGE_FIRST] = "password expired: a verified change must come first",
	};
	char user[80], via[300] = "";
	log_printable(r->user, user, sizeof(user));
	const char *how = r->offline ? " (offline, cached credentials)" : "";
	/* The path and the time: what a debugging administrator wants next to the result. */
	int n = r->path ? snprintf(via, sizeof(via), ", via %s", r->path) : 0;
	if (r->path && *r->path_domain && n > 0 && (size_t)n < sizeof(via))
		snprintf(via + n, sizeof(via) - (size_t)n, " (domain %s)", r->path_domain);
	long long ms = now_ms() - started_ms;
	if (res == DIR_PAM_DENIED && r->locked) {
		log_info("pam %s for %s (%s): refused: the account is locked in the directory "
			 "(the password was not judged)%s (%lld ms)", r->phase->name, user, r->where,
			 via, ms);
		return;
	}
	const char *sep = *r->why ? ": " : "";
	if ((res == DIR_PAM_OK && !r->offline) || res == DIR_PAM_UNKNOWN)
		log_debug("pam %s for %s (%s): %s%s%s%s (%lld ms)", r->phase->name, user, r->where,
			  what[res], sep, r->why, via, ms);
	else
		log_info("pam %s for %s (%s): %s%s%s%s%s (%lld ms)", r->phase->name, user, r->where,
			 what[res], how, sep, r->why, via, ms);
}

static void *pam_thread(void *arg)
{
	struct pam_job *job = arg;
	struct dird *d = job->d;
	long long started = now_ms();
	struct pam_request r;
	struct buf reply;
	buf_init(&reply, DIR_MAX_REPLY);
	buf_init(&r.ccache, DIR_MAX_REPLY / 2);
	uint32_t status = DIR_BADREQ;
	if (parse(job->op, &job->body, &r)) {
		char service[80], rhost[80];
		log_printable(r.service, service, sizeof(service));
		log_printable(r.rhost, rhost, sizeof(rhost));
		snprintf(r.where, sizeof(r.where), "service %s%s%s", service, *rhost ? " from " : "",
			 rhost);
		test_hook("pam-asked");
		enum dir_pam_result res = handle(d, &r);
		log_outcome(&r, res, started);
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

static bool start_locked(struct pam_job *job)
{
	if (thread_start_detached(pam_thread, job) < 0)
		return false;
	job->d->pam_running++;
	return true;
}

bool pam_submit_locked(struct dird *d, uint64_t conn, uint32_t op, struct buf *body)
{
	struct pam_job *job = d->pam_running + d->n_pam_parked < MAX_PAM_THREADS ?
				      calloc(1, sizeof(*job)) : NULL;
	if (job) {
		*job = (struct pam_job){ d, conn, op, *body, NULL };
		buf_init(body, 0);
		/* A reload waits for the requests running (they read the configuration): one
		 * started meanwhile would put it off, and logins that overlap (an ssh password
		 * guesser) would hold it, and the change streams it stops, off for good. */
		if (d->reload_pending) {
			struct pam_job **end = &d->pam_parked; /* in the order they came */
			while (*end)
				end = &(*end)->next;
			*end = job;
			d->n_pam_parked++;
			return true;
		}
		if (start_locked(job))
			return true;
		*body = job->body;
		free(job);
	}
	log_warning("too many PAM requests at once; answering one 'unavailable'");
	return false;
}

void pam_start_parked_locked(struct dird *d)
{
	struct pam_job *job;
	while ((job = d->pam_parked)) {
		d->pam_parked = job->next;
		d->n_pam_parked--;
		if (start_locked(job))
			continue;
		log_warning("cannot start a PAM thread; answering one 'unavailable'");
		struct buf empty;
		buf_init(&empty, 0);
		server_post_reply(d, job->conn, DIR_UNAVAIL, &empty);
		buf_free(&empty);
		buf_free_wipe(&job->body);
		free(job);
	}
}
