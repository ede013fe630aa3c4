/* Online and offline.  A domain goes offline at its first failure (or when the worker has
 * waited on it for half of what a caller may wait); from then on misses for it are answered at once
 * from the cache, and a probe thread tries it again after 1 s, doubling to 60 s.  When a probe
 * gets through, the domain is online again and a refresh brings stale entries up to date. */
#include "domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dird.h"
#include "log.h"
#include "refresh.h"
#include "threads.h"

#define MAX_PROBE_DELAY 60

void domain_online_locked(struct dird *d, size_t i, const char *server)
{
	struct domain_state *s = &d->domains[i];
	bool was_offline = s->contacted && !s->online;
	if (!s->online || !s->contacted)
		s->since = time(NULL);
	s->online = true;
	s->contacted = true;
	s->probe_delay = 0;
	s->last_error[0] = '\0';
	if (server && *server)
		snprintf(s->server, sizeof(s->server), "%s", server);
	if (was_offline) {
		log_info("domain %s is online again (%s)", d->cfg.domains[i].name, s->server);
		/* a stream resumes by itself, but sends nothing of the entries it holds that a
		 * name or id that went while it was offline left to it */
		if (d->cfg.enumerate && (!s->streaming || s->reclaim_behind)) {
			s->reclaim_behind = false;
			refresh_start_locked(d);
		}
	}
}

void domain_offline_locked(struct dird *d, size_t i, const char *error)
{
	struct domain_state *s = &d->domains[i];
	snprintf(s->last_error, sizeof(s->last_error), "%s", error);
	if (s->online || !s->contacted) {
		log_warning("domain %s is offline: %s", d->cfg.domains[i].name, error);
		s->since = time(NULL);
		s->probe_delay = 1;
		s->next_probe = time(NULL) + s->probe_delay;
	}
	s->online = false;
	s->contacted = true;
}

int domain_open(struct dird *d, size_t i, struct ldap_conn *c, char *err, size_t errlen)
{
	char prefer[DIR_MAX_URI];
	pthread_mutex_lock(&d->lock);
	const struct dir_domain *dom = &d->cfg.domains[i];
	snprintf(prefer, sizeof(prefer), "%s", d->domains[i].server);
	pthread_mutex_unlock(&d->lock);
	return ldap_conn_open(c, dom, prefer, err, errlen);
}

void domain_report(struct dird *d, size_t i, const struct ldap_conn *c, bool ok, const char *err)
{
	pthread_mutex_lock(&d->lock);
	if (ok)
		domain_online_locked(d, i, c->server);
	else
		domain_offline_locked(d, i, err);
	pthread_mutex_unlock(&d->lock);
}

bool domain_usable_locked(const struct dird *d, size_t i)
{
	return d->domains[i].online || !d->domains[i].contacted;
}

bool any_domain_usable_locked(const struct dird *d)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		if (domain_usable_locked(d, i))
			return true;
	return false;
}

struct probe {
	struct dird *d;
	size_t i;
};

/* Connects, binds and reads the base entry: the directory answers, or it does not. */
static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	struct dird *d = p->d;
	size_t i = p->i;
	free(p);
	struct ldap_conn c;
	char err[512];
	int rc = domain_open(d, i, &c, err, sizeof(err));
	if (rc == 0)
		rc = ldap_conn_read_base(&c, err, sizeof(err));
	domain_report(d, i, &c, rc == 0, err);
	ldap_conn_close(&c);

	pthread_mutex_lock(&d->lock);
	struct domain_state *s = &d->domains[i];
	s->probing = false;
	d->probes_running--;
	if (rc < 0) {
		s->probe_delay = s->probe_delay ? s->probe_delay * 2 : 1;
		if (s->probe_delay > MAX_PROBE_DELAY)
			s->probe_delay = MAX_PROBE_DELAY;
		s->next_probe = time(NULL) + s->probe_delay;
		log_debug("domain %s still offline; next probe in %u s: %s", d->cfg.domains[i].name,
			  s->probe_delay, err);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void start_probe(struct dird *d, size_t i)
{
	struct probe *p = malloc(sizeof(*p));
	if (!p)
		return;
	p->d = d;
	p->i = i;
	d->domains[i].probing = true;
	d->probes_running++;
	if (thread_start_detached(probe_thread, p) < 0) {
		d->domains[i].probing = false;
		d->probes_running--;
		free(p);
	}
}

void domain_tick_locked(struct dird *d)
{
	/* Half a caller's patience: the caller after it must not wait for the same silence. */
	long long busy = d->worker_busy_since_ms, limit = d->cfg.nss_timeout_ms / 2;
	if (busy && now_ms() - busy > limit && d->domains[d->worker_domain].online) {
		char why[128];
		snprintf(why, sizeof(why), "no answer within %lld ms", limit);
		domain_offline_locked(d, d->worker_domain, why);
	}
	time_t now = time(NULL);
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		struct domain_state *s = &d->domains[i];
		/* The worker's own query will tell about the domain it is asking; no probe starts
		 * while a reload waits for those running. */
		if (!s->online && s->contacted && !s->probing && now >= s->next_probe &&
		    !d->reload_pending &&
		    !(busy && d->worker_domain == i))
			start_probe(d, i);
	}
}
