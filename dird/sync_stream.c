/* A domain's change stream.  On a connection of its own, a thread runs two RFC 4533
 * refreshAndPersist searches, the groups' and then (once the groups are in) the users', each from
 * the position stored with the cache (changes.h), and applies what they send as batches: a
 * refresh phase whole when it ends, then each burst of changes as it arrives.  A position the
 * server refuses (e-syncRefreshRequired) starts that search again from nothing: a complete read
 * of what it serves; a malformed message or a batch changes_apply refuses does so after the
 * reconnection's wait.  An entry without a well-formed id is refused alone, and a DN too long to
 * keep dropped from its entry (add), so that one such entry refuses no batch.  A bind identity with
 * a size limit cannot read everything through a sync search (slapd ends it at the limit, and
 * ends a paged one after its first page): it reads through a paged search instead, from a
 * position taken just before, then persists from there.  A lost connection is tried again,
 * 1 s doubling to 60 s, from the stored position; the cache serves meanwhile.  While both
 * searches persist and the server answers (a heartbeat when it has been quiet), in_sync_until
 * is kept ahead. */
#include "sync_stream.h"

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "changes.h"
#include "content_sync.h"
#include "db.h"
#include "domain.h"
#include "fetch.h"
#include "fetch_members.h"
#include "gone_domains.h"
#include "ldap_map.h"
#include "log.h"
#include "nesting.h"
#include "sync_cookie.h"
#include "threads.h"

#define MAX_BACKOFF 60
#define HEARTBEAT_SECONDS 10	/* a quiet server is asked for its root DSE this often */
#define MAX_BATCH 1000		/* changes applied at once while persisting */

struct stream {
	bool groups;
	char name[CHANGES_MAX_STREAM];	/* "<domain>/users" */
	int msgid;			/* 0: not running */
	bool persisting;		/* the refresh phase is over */
	bool from_scratch;		/* started from no position */
	bool present;			/* the refresh had a present phase */
	bool paged;			/* read everything through a paged search */
	struct berval *stored;		/* the position changes_apply stored last */
	struct berval *pending;		/* the newest one the server sent */
	struct change_batch batch;
	size_t packed;			/* batch.changes below this are packed (pack_read) */
};

struct syncer {
	struct dird *d;
	size_t i;
	const struct dir_domain *dom;
	struct ldap_conn c;
	struct stream s[2];		/* groups, users */
	uint64_t refresh_count;		/* a full refresh since replaces the files: start over */
	uint64_t flush_count;		/* the flushes seen (refreshed_since) */
	int heartbeat;			/* msgid of the root DSE read under way, 0: none */
	time_t last_heard, heartbeat_sent;
	/* members by DN: groups to read again at reread_at (member_dns_take_went) */
	struct dn_list reread;
	time_t reread_at;
	char err[512];
};

static void set_state(struct syncer *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_state(struct syncer *y, const char *fmt, ...)
{
	char text[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&y->d->lock);
	struct domain_state *st = &y->d->domains[y->i];
	if (strcmp(st->changes_state, text))
		log_info("%s: change stream: %s", y->dom->name, text);
	snprintf(st->changes_state, sizeof(st->changes_state), "%s", text);
	pthread_mutex_unlock(&y->d->lock);
}

/* Not after a flush the stream has not seen yet: the cache it kept whole is gone, and until the
 * stream reads it again misses are asked of dird. */
static void set_in_sync(struct syncer *y, bool in_sync)
{
	pthread_mutex_lock(&y->d->lock);
	in_sync = in_sync && y->flush_count == y->d->flush_count;
	y->d->domains[y->i].in_sync_until =
		in_sync ? y->last_heard + HEARTBEAT_SECONDS + (time_t)y->dom->timeout : 0;
	pthread_mutex_unlock(&y->d->lock);
}

static bool stopping(struct syncer *y)
{
	pthread_mutex_lock(&y->d->lock);
	bool stop = y->d->streams_stop;
	pthread_mutex_unlock(&y->d->lock);
	return stop;
}

static void set_position(struct berval **slot, const struct berval *v)
{
	ber_bvfree(*slot);
	*slot = v ? ber_dupbv(NULL, (struct berval *)v) : NULL;
}

static void stream_reset(struct stream *s)
{
	change_batch_clear(&s->batch);
	s->packed = 0;
	s->msgid = 0;
	s->persisting = s->present = false;
	set_position(&s->pending, NULL);
}

/* The position the files hold for s (a full refresh or a flush may have changed it). */
static void load_position(struct syncer *y, struct stream *s)
{
	size_t len = 0;
	void *p = changes_position(y->d, s->name, &len);
	struct berval bv = { len, p };
	set_position(&s->stored, p ? &bv : NULL);
	free(p);
	if (s->stored && !sync_cookie_usable(s->stored)) {
		log_warning("%s: %s: the stored position is not one the server can resume from",
			    y->dom->name, s->name);
		changes_forget_position(y->d, s->name);
		set_position(&s->stored, NULL);
	}
}

/* Starts s's sync search from the position the files hold (none: from scratch). */
static int stream_start(struct syncer *y, struct stream *s)
{
	const struct dir_domain *dom = y->dom;
	const char *attrs[MAP_MAX_ATTRS];
	if (s->groups)
		ldap_map_group_attrs(dom, attrs);
	else
		ldap_map_user_attrs(dom, attrs, NULL);
	stream_reset(s);
	set_in_sync(y, false); /* until its refresh phase ends */
	load_position(y, s);
	s->from_scratch = !s->stored;
	s->batch.domain = y->i;
	s->batch.stream = s->name;
	s->batch.kinds = s->groups ? CHANGES_GROUPS_ONLY : CHANGES_USERS_ONLY;
	if (s->from_scratch) {
		pthread_mutex_lock(&y->d->lock);
		y->d->domains[y->i].full_syncs++;
		pthread_mutex_unlock(&y->d->lock);
	}
	struct berval *sent = s->stored ? sync_cookie_to_send(s->stored) : NULL;
	int rc = content_sync_search(y->c.ld, s->groups ? dom->group_base : dom->user_base,
				     ldap_conn_scope(s->groups ? dom->group_scope : dom->user_scope),
				     s->groups ? dom->group_filter : dom->user_filter, attrs, true,
				     sent ? sent : s->stored, &s->msgid);
	ber_bvfree(sent);
	if (rc != LDAP_SUCCESS) {
		snprintf(y->err, sizeof(y->err), "the sync search failed: %s", ldap_err2string(rc));
		return -1;
	}
	set_state(y, "%s: %s", s->groups ? "groups" : "users",
		  s->from_scratch ? "reading everything (no stored position)" :
				    "resuming from the stored position");
	return 0;
}

/* Ends s's search and starts it again from the position the files hold. */
static int stream_resume(struct syncer *y, struct stream *s)
{
	if (s->msgid > 0)
		ldap_abandon_ext(y->c.ld, s->msgid, NULL, NULL);
	s->paged = false;
	return stream_start(y, s);
}

/* Drops s's position and search: it reads everything again. */
static int stream_restart(struct syncer *y, struct stream *s, const char *why)
{
	log_warning("%s: %s: %s; reading everything again", y->dom->name, s->name, why);
	changes_forget_position(y->d, s->name);
	return stream_resume(y, s);
}

/* Members by DN: the groups that named an entry that went are read again from the server a
 * second or two later: slapd's refint overlay rewrites their member values just after the
 * change, in a task of its own, and no stream sees that (slapo-refint(5)). */
static int keep_rereads(struct syncer *y, const struct dn_list *groups)
{
	for (size_t i = 0; i < groups->n; i++)
		if (!dn_list_has(&y->reread, groups->v[i]) && dn_list_add(&y->reread, groups->v[i]) < 0) {
			snprintf(y->err, sizeof(y->err), "out of memory");
			return -1;
		}
	if (!y->reread_at) /* one second later at least: time() counts whole ones */
		y->reread_at = time(NULL) + 2;
	return 0;
}

/* A batch past this many entries is a whole read, or nearly. */
#define BIG_BATCH 4096

/* Applies s's batch (complete: it lists everything s serves); the position moves to the newest
 * the server sent.  0; 1 when s started over (its search is a new one); -1 (err set) when the
 * connection should be dropped and tried again. */
static int stream_apply(struct syncer *y, struct stream *s, bool complete)
{
	struct change_batch *b = &s->batch;
	b->complete_users = complete && !s->groups;
	b->complete_groups = complete && s->groups;
	b->expected = s->stored ? s->stored->bv_val : NULL;
	b->expected_len = s->stored ? s->stored->bv_len : 0;
	b->position = s->pending ? s->pending->bv_val : NULL;
	b->position_len = s->pending ? s->pending->bv_len : 0;
	if (!b->n && !b->position && !complete)
		return 0;
	size_t n = b->n;
	enum changes_result r = changes_apply(y->d, b, y->err, sizeof(y->err));
	bool users_incomplete = b->users_incomplete, read_again = b->read_again;
	if (r == CHANGES_APPLIED && b->reread_groups && keep_rereads(y, b->reread_groups) < 0)
		r = CHANGES_FAILED; /* out of memory: the connection is tried again */
	change_batch_clear(b);
	s->packed = 0;
	/* The changes are dropped: the position past them goes too, or a later batch would
	 * store it without them. */
	if (r != CHANGES_APPLIED)
		set_position(&s->pending, NULL);
	if (n > BIG_BATCH) {
		/* A whole read (a million entries) leaves its records' pages free in the heap: they
		 * go back to the system, or dird holds the peak for as long as it is in sync. */
		free(b->changes);
		b->changes = NULL;
		b->cap = 0;
		malloc_trim(0);
	}
	if (r == CHANGES_FAILED)
		return -1;
	if (r == CHANGES_REFUSED) {
		/* Read whole again after the reconnection's wait, as a malformed message is: a
		 * server that sends the same batch again each time is not asked in a loop. */
		log_warning("%s: %s: %s; reading everything again", y->dom->name, s->name, y->err);
		return -1;
	}
	if (r == CHANGES_RESYNC) {
		log_warning("%s: %s: %s; starting again from the stored position, if any",
			    y->dom->name, s->name, y->err);
		return stream_resume(y, s) < 0 ? -1 : 1;
	}
	if (complete && !s->groups && (s->from_scratch || s->paged)) {
		/* a whole read of the users: the cache's age (dirctl status) */
		pthread_mutex_lock(&y->d->lock);
		y->d->last_refresh = time(NULL);
		pthread_mutex_unlock(&y->d->lock);
	}
	if (s->pending) {
		set_position(&s->stored, s->pending);
		set_position(&s->pending, NULL);
	}
	if (n) {
		pthread_mutex_lock(&y->d->lock);
		y->d->domains[y->i].last_change = time(NULL);
		pthread_mutex_unlock(&y->d->lock);
		log_debug("%s: %s: %zu changes applied", y->dom->name, s->name, n);
	}
	if (users_incomplete && s->groups && y->s[1].msgid &&
	    stream_restart(y, &y->s[1], "a group of sync_groups gained members") < 0)
		return -1;
	if (read_again) /* the entry that lost, still in the directory, is served */
		return stream_restart(y, s, "an entry that won a clash of name or id went") < 0 ?
			       -1 : 1;
	return 0;
}

/* An entry no change can name (its server id is missing or malformed): left out of the batch
 * (changes_apply would refuse the whole batch for it), logged, and counted for dirctl status. */
static void refuse_entry(struct syncer *y, const char *dn, const char *why)
{
	log_warning("%s: an entry is refused: %s (%.256s%s)", y->dom->name, why, dn ? dn : "no DN",
		    dn && strlen(dn) > 256 ? "..." : "");
	pthread_mutex_lock(&y->d->lock);
	y->d->domains[y->i].refused++;
	pthread_mutex_unlock(&y->d->lock);
}

/* DNs go into the batch normalized (dn_normalize): members by DN name entries by the DNs
 * they were put with (member_dns.h), in whatever case and spacing the group's values have.  A
 * DN too long to keep (CHANGES_MAX_DN) is dropped and the entry kept by its id alone: it cannot
 * be deleted by DN, nor named by a group's member DN.  Elsewhere an entry put keeps no DN
 * (changes.c keeps none): it is not normalized, a sixth of a first read's decoding. */
static int add(struct syncer *y, struct stream *s, enum change_op op, const char *uuid,
	       const char *dn, struct dir_user *u, struct dir_group *g, struct dn_list *member_dns)
{
	bool kept = op != CHANGE_PUT || domain_members_by_dn(y->dom);
	char *id = strdup(uuid), *dn_copy = dn && kept ? dn_normalize(dn) : NULL;
	size_t dn_len = dn_copy ? strlen(dn_copy) : dn ? strlen(dn) : 0;
	if (dn && dn_len > CHANGES_MAX_DN) {
		log_warning("%s: an entry's DN of %zu bytes is too long to keep (%.256s...): it is "
			    "kept by its entryUUID %s alone, and no group's member DN names it",
			    y->dom->name, dn_len, dn_copy ? dn_copy : dn, uuid);
		free(dn_copy);
		dn_copy = NULL;
		dn = NULL;
	}
	if (!kept)
		dn = NULL;
	if (!id || (dn && !dn_copy) || change_batch_add(&s->batch, op, id, dn_copy, u, g) < 0) {
		if (member_dns)
			dn_list_free(member_dns);
		free(member_dns);
		snprintf(y->err, sizeof(y->err), "out of memory");
		return -1;
	}
	s->batch.changes[s->batch.n - 1].member_dns = member_dns;
	return 0;
}

#define PACK_EVERY 1024

/* The records read since last time, packed as db keeps them (db_pack_user, a group's members in
 * one block) once there are PACK_EVERY changes more: db then keeps these blocks, the batch
 * holding no second copy of a whole read; and a thousand packed at once lie side by side in
 * the heap, not each among its entry's transient allocations (the message, the record as
 * mapped), which would be a million holes between them once freed.  (Those left when the batch
 * is applied, db_add_user packs.)  0, or -1 out of memory. */
static int pack_read(struct syncer *y, struct stream *s)
{
	struct change_batch *b = &s->batch;
	if (b->n - s->packed < PACK_EVERY)
		return 0;
	for (; s->packed < b->n; s->packed++) {
		struct change *c = &b->changes[s->packed];
		if (c->group)
			dir_group_pack_members(c->group);
		if (c->user && !(c->user = db_pack_user(c->user))) {
			snprintf(y->err, sizeof(y->err), "out of memory");
			return -1;
		}
	}
	return 0;
}

/* An added or modified entry, mapped as a refresh maps it; refused: a put of nothing (its old
 * copy goes). */
static int add_entry(struct syncer *y, struct stream *s, LDAPMessage *e, const char *uuid,
		     const char *dn)
{
	char why[256];
	enum map_result r;
	struct dir_user *u = NULL;
	struct dir_group *g = NULL;
	/* members by DN: the group's member DNs go with it, to be resolved as it is applied */
	struct dn_list *dns = s->groups && domain_members_by_dn(y->dom) ? calloc(1, sizeof(*dns))
									: NULL;
	if (s->groups) {
		g = calloc(1, sizeof(*g));
		r = g && (dns || !domain_members_by_dn(y->dom)) ?
			    ldap_map_group(y->c.ld, e, y->dom, g, dns, why, sizeof(why)) :
			    MAP_NOMEM;
	} else {
		u = calloc(1, sizeof(*u));
		r = u ? ldap_map_user(y->c.ld, e, y->dom, u, why, sizeof(why)) : MAP_NOMEM;
	}
	if (r != MAP_OK) {
		free(u);
		free(g);
		u = NULL;
		g = NULL;
		if (dns)
			dn_list_free(dns);
		free(dns);
		dns = NULL;
		if (r == MAP_NOMEM) {
			snprintf(y->err, sizeof(y->err), "out of memory");
			return -1;
		}
		fetch_log_unmapped(y->dom, r, why, NULL);
	}
	return add(y, s, CHANGE_PUT, uuid, dn, u, g, dns) < 0 || pack_read(y, s) < 0 ? -1 : 0;
}

/* An entry of a plain search (not a sync search): its entryUUID read as an attribute. */
static int add_read_entry(struct syncer *y, struct stream *s, LDAP *ld, LDAPMessage *e)
{
	struct berval **v = ldap_get_values_len(ld, e, "entryUUID");
	char uuid[CONTENT_SYNC_UUID_LEN + 1] = "";
	if (v && v[0] && v[0]->bv_len == CONTENT_SYNC_UUID_LEN)
		memcpy(uuid, v[0]->bv_val, CONTENT_SYNC_UUID_LEN);
	ldap_value_free_len(v);
	char *dn = ldap_get_dn(ld, e);
	int rc = *uuid && dn ? add_entry(y, s, e, uuid, dn) : 0;
	if (!*uuid)
		refuse_entry(y, dn, "no entryUUID of 36 characters");
	ldap_memfree(dn);
	return rc;
}

/* The paged path's entries. */
static int add_paged_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct syncer *y = arg;
	return add_read_entry(y, y->s[0].msgid == -1 ? &y->s[0] : &y->s[1], ld, e);
}

/* Groups read again (keep_rereads) go into the groups' batch, applied with it. */
static int add_reread_group(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct syncer *y = arg;
	return add_read_entry(y, &y->s[0], ld, e);
}

static int reread_groups(struct syncer *y)
{
	log_debug("%s: reading again %zu groups that named an entry that went", y->dom->name,
		  y->reread.n);
	int rc = fetch_members_read_groups(&y->c, &y->reread, "entryUUID", add_reread_group, y,
					   y->err, sizeof(y->err));
	dn_list_free(&y->reread);
	y->reread_at = 0;
	return rc;
}

/* A position to persist from, taken before the paged read: a refreshOnly sync search of the
 * base entry alone.  Changes made during the read come again once persisting: puts are
 * idempotent. */
static struct berval *position_now(struct syncer *y, const char *base)
{
	const char *attrs[] = { "1.1", NULL };
	int msgid;
	struct berval *cookie = NULL;
	if (content_sync_search(y->c.ld, base, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, false,
				NULL, &msgid) != LDAP_SUCCESS)
		return NULL;
	for (;;) {
		struct timeval tv = { .tv_sec = y->dom->timeout };
		LDAPMessage *m = NULL;
		if (ldap_result(y->c.ld, msgid, LDAP_MSG_ONE, &tv, &m) <= 0) {
			ldap_msgfree(m);
			ldap_abandon_ext(y->c.ld, msgid, NULL, NULL);
			ber_bvfree(cookie);
			return NULL;
		}
		struct sync_msg sm;
		int rc = content_sync_parse(y->c.ld, m, &sm, y->err, sizeof(y->err));
		bool done = rc < 0 || sm.kind == SYNC_MSG_DONE;
		if (rc == 0 && sm.cookie) {
			ber_bvfree(cookie);
			cookie = sm.cookie;
			sm.cookie = NULL;
		}
		if (rc == 0 && sm.kind == SYNC_MSG_DONE && sm.result != LDAP_SUCCESS) {
			ber_bvfree(cookie);
			cookie = NULL;
		}
		sync_msg_free(&sm);
		ldap_msgfree(m);
		if (done)
			return cookie;
	}
}

/* Reads everything s serves through a paged search, from a position taken just before. */
static int stream_read_paged(struct syncer *y, struct stream *s)
{
	const struct dir_domain *dom = y->dom;
	const char *extra[] = { "entryUUID", NULL }, *attrs[MAP_MAX_ATTRS + 1];
	const char *base = s->groups ? dom->group_base : dom->user_base;
	if (s->groups)
		ldap_map_group_attrs(dom, attrs);
	else
		ldap_map_user_attrs(dom, attrs, extra);
	if (s->groups) {
		size_t n = 0;
		while (attrs[n])
			n++;
		attrs[n] = "entryUUID";
		attrs[n + 1] = NULL;
	}
	set_state(y, "%s: reading everything in pages (the bind's size limit ends a sync search)",
		  s->groups ? "groups" : "users");
	struct berval *position = position_now(y, base);
	if (!position) {
		snprintf(y->err, sizeof(y->err), "the server gave no sync position");
		return -1;
	}
	stream_reset(s);
	s->paged = true;
	s->msgid = -1; /* add_paged_entry's mark */
	set_position(&s->pending, position);
	ber_bvfree(position);
	int rc = ldap_conn_search(&y->c, base, s->groups ? dom->group_scope : dom->user_scope,
				  s->groups ? dom->group_filter : dom->user_filter, attrs,
				  add_paged_entry, y, y->err, sizeof(y->err));
	s->msgid = 0;
	if (rc == 0)
		rc = stream_apply(y, s, true);
	if (rc == 0) /* else it failed, or started over */
		rc = stream_start(y, s);
	return rc < 0 ? -1 : 0;
}


/* The end of s's refresh phase: its batch applied whole, then it persists. */
static int refresh_ended(struct syncer *y, struct stream *s)
{
	bool resumed_by_presence = s->present && !s->from_scratch;
	int rc = stream_apply(y, s, s->from_scratch || s->present);
	if (rc == 0 && resumed_by_presence)
		log_info("%s: %s resumed through a present phase", y->dom->name, s->name);
	if (rc == 0) {
		s->persisting = true;
		/* In sync from the refreshDone that ended the phase (RFC 4533 3.4), not from the
		 * next quiet second: first, so that whoever sees "persisting" sees it in sync. */
		set_in_sync(y, y->s[0].persisting && y->s[1].persisting);
		set_state(y, "%s: persisting", s->groups ? "groups" : "users");
	}
	return rc < 0 ? -1 : 0;
}

static int on_entry(struct syncer *y, struct stream *s, LDAPMessage *m, const struct sync_msg *sm)
{
	if (!*sm->uuid) {
		refuse_entry(y, sm->dn, "its syncUUID is not a UUID of 16 bytes");
		return 0;
	}
	switch (sm->state) {
	case SYNC_PRESENT:
		s->present = true;
		return add(y, s, CHANGE_PRESENT, sm->uuid, NULL, NULL, NULL, NULL);
	case SYNC_DELETE:
		return add(y, s, CHANGE_DELETE, sm->uuid, sm->dn, NULL, NULL, NULL);
	default: return add_entry(y, s, m, sm->uuid, sm->dn);
	}
}

static int on_info(struct syncer *y, struct stream *s, const struct sync_msg *sm)
{
	switch (sm->info) {
	case SYNC_INFO_NEW_COOKIE: return 0;
	case SYNC_INFO_REFRESH_PRESENT:
		s->present = true;
		/* fall through */
	case SYNC_INFO_REFRESH_DELETE:
		return sm->refresh_done && !s->persisting ? refresh_ended(y, s) : 0;
	case SYNC_INFO_ID_SET:
		if (!sm->refresh_deletes)
			s->present = true;
		for (size_t i = 0; i < sm->n_uuids; i++)
			if (add(y, s, sm->refresh_deletes ? CHANGE_DELETE : CHANGE_PRESENT,
				sm->uuids[i], NULL, NULL, NULL, NULL) < 0)
				return -1;
		return 0;
	}
	return 0;
}

/* A failure that says nothing of the position: the connection is tried again, keeping it. */
static bool transient(int result)
{
	switch (result) {
	case LDAP_BUSY:
	case LDAP_UNAVAILABLE:
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
	case LDAP_NO_MEMORY:
		return true;
	default: return false;
	}
}

static int on_done(struct syncer *y, struct stream *s, const struct sync_msg *sm)
{
	s->msgid = 0;
	if (sm->result == CONTENT_SYNC_REFRESH_REQUIRED && s->from_scratch) {
		snprintf(y->err, sizeof(y->err), "the server asks for a full refresh of a full read");
		return -1;
	}
	if (sm->result == CONTENT_SYNC_REFRESH_REQUIRED)
		return stream_restart(y, s, "the server asks for a full refresh (e-syncRefreshRequired)");
	if (sm->result == LDAP_SIZELIMIT_EXCEEDED && !s->persisting && !s->paged)
		return stream_read_paged(y, s);
	if (sm->result == LDAP_SUCCESS) {
		/* The server ended the persist phase (or never began it): take what came and go on
		 * from there.  A refresh that ends so says whether it was a present phase. */
		if (!s->persisting && !sm->refresh_deletes)
			s->present = true;
		int rc = s->persisting ? stream_apply(y, s, false) : refresh_ended(y, s);
		return rc < 0 ? -1 : rc == 1 ? 0 : stream_start(y, s);
	}
	if (!s->persisting && s->stored && !transient(sm->result)) {
		char why[320];
		snprintf(why, sizeof(why), "the server refused the stored position (%s)",
			 ldap_err2string(sm->result));
		return stream_restart(y, s, why);
	}
	snprintf(y->err, sizeof(y->err), "the sync search ended: %s%s%s", ldap_err2string(sm->result),
		 *sm->error ? ": " : "", sm->error);
	return -1;
}

static int on_message(struct syncer *y, LDAPMessage *m)
{
	int id = ldap_msgid(m);
	if (id == y->heartbeat) {
		if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
			y->heartbeat = 0;
		return 0;
	}
	struct stream *s = id == y->s[0].msgid ? &y->s[0] : id == y->s[1].msgid ? &y->s[1] : NULL;
	if (!s)
		return 0; /* an abandoned search's last words */
	struct sync_msg sm;
	if (content_sync_parse(y->c.ld, m, &sm, y->err, sizeof(y->err)) < 0) {
		/* Read whole again after the reconnection's wait: a server that sends the same
		 * again each time is not asked in a loop. */
		log_warning("%s: %s: %s; reading everything again", y->dom->name, s->name, y->err);
		changes_forget_position(y->d, s->name);
		return -1;
	}
	if (sm.cookie) {
		struct berval *merged = sync_cookie_merge(s->pending ? s->pending : s->stored, sm.cookie);
		set_position(&s->pending, merged ? merged : sm.cookie);
		ber_bvfree(merged);
	}
	int rc = 0;
	switch (sm.kind) {
	case SYNC_MSG_ENTRY: rc = on_entry(y, s, m, &sm); break;
	case SYNC_MSG_INFO: rc = on_info(y, s, &sm); break;
	case SYNC_MSG_DONE: rc = on_done(y, s, &sm); break;
	case SYNC_MSG_IGNORED: break;
	}
	sync_msg_free(&sm);
	if (rc == 0 && s->persisting && s->batch.n >= MAX_BATCH)
		rc = stream_apply(y, s, false) < 0 ? -1 : 0;
	return rc;
}

/* Long-lived: a peer that vanishes is noticed by TCP (keepalive, and the user timeout for data
 * never acknowledged) rather than by a read that never ends. */
static void keep_alive(struct syncer *y)
{
	int fd = -1, on = 1, idle = HEARTBEAT_SECONDS, intvl = 5, cnt = 3;
	unsigned ms = y->dom->timeout * 1000;
	if (ldap_get_option(y->c.ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
}

/* A connection in the clear has its reads buffered (liblber's read-ahead): without it each
 * message is two or three reads of the socket, its header and then its body, three million
 * system calls in a first read of a million entries.  libldap asks the buffer whether a
 * message waits in it before it polls the socket (LBER_SB_OPT_DATA_READY).  TLS reads whole
 * records of its own already. */
static void read_ahead(struct syncer *y)
{
	Sockbuf *sb = NULL;
	if (!ldap_tls_inplace(y->c.ld) &&
	    ldap_get_option(y->c.ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb &&
	    ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER, NULL) < 0)
		log_debug("%s: the stream's reads are not buffered", y->dom->name);
}

/* A quiet server is asked for its root DSE; one that does not answer within the domain's timeout
 * is gone (a frozen slapd still acknowledges TCP). */
static int heartbeat(struct syncer *y, time_t now)
{
	if (y->heartbeat)
		return now - y->heartbeat_sent > (time_t)y->dom->timeout ? -1 : 0;
	if (now - y->last_heard < HEARTBEAT_SECONDS)
		return 0;
	const char *attrs[] = { "1.1", NULL };
	y->heartbeat_sent = now;
	return ldap_search_ext(y->c.ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", (char **)attrs, 0,
			       NULL, NULL, NULL, 1, &y->heartbeat) == LDAP_SUCCESS ? 0 : -1;
}

static bool refreshed_since(struct syncer *y)
{
	pthread_mutex_lock(&y->d->lock);
	bool replaced = y->d->refresh_count != y->refresh_count;
	y->refresh_count = y->d->refresh_count;
	y->flush_count = y->d->flush_count;
	pthread_mutex_unlock(&y->d->lock);
	return replaced;
}

/* A full refresh replaced the files (with the positions taken before it read, sync_keep.c), or
 * a flush emptied them: a search whose position is not the files' one starts again from it. */
static int resume_if_moved(struct syncer *y)
{
	for (int k = 0; k < 2; k++) {
		struct stream *s = &y->s[k];
		if (!s->msgid)
			continue;
		size_t len = 0;
		void *p = changes_position(y->d, s->name, &len);
		bool held = p, same = p ? s->stored && s->stored->bv_len == len &&
						  memcmp(s->stored->bv_val, p, len) == 0 :
					  !s->stored;
		free(p);
		if (same)
			continue;
		log_info("%s: %s: the cache was replaced: going on from its position%s",
			 y->dom->name, s->name, held ? "" : " (none: reading everything)");
		if (k == 1 && !y->s[0].persisting) {
			/* The users once the groups are in again, as at the start (run): a whole
			 * read of them before would give every user no group (and with
			 * sync_groups, drop them all). */
			ldap_abandon_ext(y->c.ld, s->msgid, NULL, NULL);
			s->paged = false;
			stream_reset(s);
			continue;
		}
		if (stream_resume(y, s) < 0)
			return -1;
	}
	return 0;
}

/* Runs both searches on y->c until the connection fails (-1) or dird stops (0). */
static int run(struct syncer *y)
{
	/* A full refresh under way replaces the files when it ends: start after it. */
	for (;;) {
		pthread_mutex_lock(&y->d->lock);
		bool refreshing = y->d->refreshing;
		pthread_mutex_unlock(&y->d->lock);
		if (!refreshing || stopping(y))
			break;
		set_state(y, "waiting for the full refresh to end");
		usleep(100000);
	}
	/* Each stream goes on from the position the files hold, the users' too until they start
	 * again: what the last connection left in a stream (a batch, the newest position, its
	 * persist phase) is not applied on this one.  A read from no position on this connection
	 * may go through pages again (a flush while the server was away leaves none). */
	for (int k = 0; k < 2; k++) {
		stream_reset(&y->s[k]);
		y->s[k].paged = false;
	}
	y->heartbeat = 0;
	y->last_heard = time(NULL);
	refreshed_since(y);
	if (stream_start(y, &y->s[0]) < 0)
		return -1;
	while (!stopping(y)) {
		/* The users once the groups are in: sync_groups and gid lists need them. */
		if (y->s[0].persisting && !y->s[1].msgid && stream_start(y, &y->s[1]) < 0)
			return -1;
		if (refreshed_since(y) && resume_if_moved(y) < 0)
			return -1;
		bool waiting = y->s[0].batch.n || y->s[1].batch.n;
		struct timeval tv = { .tv_sec = waiting ? 0 : 1 };
		LDAPMessage *m = NULL;
		int r = ldap_result(y->c.ld, LDAP_RES_ANY, LDAP_MSG_ONE, &tv, &m);
		time_t now = time(NULL);
		if (r < 0) {
			ldap_msgfree(m);
			snprintf(y->err, sizeof(y->err), "the connection was lost");
			return -1;
		}
		if (r > 0) {
			y->last_heard = now;
			int rc = on_message(y, m);
			ldap_msgfree(m);
			if (rc < 0)
				return -1;
			continue;
		}
		/* Nothing more came: a burst is over. */
		for (int k = 0; k < 2; k++)
			if (y->s[k].persisting && stream_apply(y, &y->s[k], false) < 0)
				return -1;
		/* A whole rewrite of the files outside a refresh (dirctl cache expire, the local
		 * accounts) drops the positions of a domain it took an entry of: the stream reads
		 * it again now, not at its next change, and is not in sync meanwhile (libnss_dir
		 * would answer that entry's name NOTFOUND itself). */
		if (resume_if_moved(y) < 0)
			return -1;
		if (y->reread.n && y->s[0].persisting && now >= y->reread_at && reread_groups(y) < 0)
			return -1;
		if (heartbeat(y, now) < 0) {
			snprintf(y->err, sizeof(y->err), "the server stopped answering");
			return -1;
		}
		set_in_sync(y, y->s[0].persisting && y->s[1].persisting);
	}
	return 0;
}

static void *sync_thread(void *arg)
{
	struct syncer *y = arg;
	unsigned backoff = 0;
	while (!stopping(y)) {
		bool offered = false;
		if (domain_open(y->d, y->i, &y->c, y->err, sizeof(y->err)) == 0) {
			/* dirctl status names the server the stream reads from: after a failover
			 * it is another of the uris. */
			domain_report(y->d, y->i, &y->c, true, NULL);
			offered = content_sync_offered(y->c.ld, y->dom->timeout);
			if (!offered) {
				ldap_conn_close(&y->c);
				/* It did once (positions are stored), and dird started without a full
				 * refresh on their strength: one is due now. */
				bool had_positions = false;
				for (int k = 0; k < 2; k++) {
					size_t len;
					void *p = changes_position(y->d, y->s[k].name, &len);
					if (p)
						had_positions = true;
					free(p);
					changes_forget_position(y->d, y->s[k].name);
				}
				pthread_mutex_lock(&y->d->lock);
				if (had_positions || y->d->full_read_by_streams)
					y->d->next_refresh = time(NULL);
				snprintf(y->d->domains[y->i].changes, sizeof(y->d->domains[y->i].changes),
					 "full refresh");
				y->d->domains[y->i].streaming = false;
				pthread_mutex_unlock(&y->d->lock);
				set_state(y, "the server offers no RFC 4533 content sync");
				break;
			}
			keep_alive(y);
			read_ahead(y);
			if (run(y) == 0 || stopping(y)) {
				ldap_conn_close(&y->c);
				break;
			}
			if (y->s[0].persisting && y->s[1].persisting)
				backoff = 0;
			ldap_conn_close(&y->c);
		} else {
			/* With every domain streamed no refresh runs at start: the stream is what
			 * finds the domain offline, and dirctl status says why. */
			domain_report(y->d, y->i, &y->c, false, y->err);
		}
		set_in_sync(y, false);
		backoff = backoff ? backoff * 2 : 1;
		if (backoff > MAX_BACKOFF)
			backoff = MAX_BACKOFF;
		set_state(y, "reconnecting in %u s: %s", backoff, y->err);
		for (unsigned t = 0; t < backoff * 10 && !stopping(y); t++)
			usleep(100000);
	}
	set_in_sync(y, false);
	dn_list_free(&y->reread);
	for (int k = 0; k < 2; k++) {
		stream_reset(&y->s[k]);
		free(y->s[k].batch.changes);
		set_position(&y->s[k].stored, NULL);
	}
	pthread_mutex_lock(&y->d->lock);
	y->d->streams_running--;
	pthread_mutex_unlock(&y->d->lock);
	free(y);
	return NULL;
}

static bool may_stream(const struct dird *d, size_t i)
{
	const struct dir_domain *dom = &d->cfg.domains[i];
	/* Members by DN are resolved as they come (member_dns.h), but sync_groups decide which
	 * users are served from members resolved against every user: a full refresh. */
	return d->cfg.enumerate && dom->type == DIR_DOMAIN_LDAP &&
	       !(domain_members_by_dn(dom) && dom->n_sync_groups);
}

/* Why an LDAP domain has no stream, for dirctl status (AD's poll says its own). */
static const char *not_streamed_because(const struct dird *d, size_t i)
{
	if (d->cfg.domains[i].type != DIR_DOMAIN_LDAP)
		return "";
	if (!d->cfg.enumerate)
		return "not streamed: enumerate = no (entries are asked for as they are looked up)";
	return "not streamed: sync_groups with members by DN (rfc2307bis, member_attr) are "
	       "resolved against the whole directory";
}

void sync_start_locked(struct dird *d)
{
	d->streams_stop = false;
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		struct domain_state *st = &d->domains[i];
		if (!may_stream(d, i)) {
			snprintf(st->changes, sizeof(st->changes), "full refresh");
			snprintf(st->changes_state, sizeof(st->changes_state), "%s",
				 not_streamed_because(d, i));
			continue;
		}
		struct syncer *y = calloc(1, sizeof(*y));
		if (!y) {
			log_error("out of memory");
			continue;
		}
		y->d = d;
		y->i = i;
		y->dom = &d->cfg.domains[i];
		y->s[0].groups = true;
		snprintf(y->s[0].name, sizeof(y->s[0].name), "%s/groups", y->dom->name);
		snprintf(y->s[1].name, sizeof(y->s[1].name), "%s/users", y->dom->name);
		snprintf(st->changes, sizeof(st->changes), "RFC 4533 sync");
		st->streaming = true;
		d->streams_running++;
		if (thread_start_detached(sync_thread, y) < 0) {
			log_error("cannot start the change stream of %s", y->dom->name);
			d->streams_running--;
			st->streaming = false;
			free(y);
		}
	}
	/* The configuration now in force (a start, a reload): no stream drops another domain's
	 * entries, nor does a refresh run when every domain streams.  Once the streams are
	 * marked, so that the cache written without them keeps their positions. */
	gone_domains_drop_locked(d);
}

bool sync_streams_all_locked(const struct dird *d)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		if (!may_stream(d, i) || !d->domains[i].streaming)
			return false;
	return d->cfg.n_domains > 0;
}

bool sync_resumes_all(struct dird *d)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		if (!may_stream(d, i))
			return false;
		for (int k = 0; k < 2; k++) {
			char name[CHANGES_MAX_STREAM];
			size_t len;
			snprintf(name, sizeof(name), "%s/%s", d->cfg.domains[i].name, k ? "users" : "groups");
			void *p = changes_position(d, name, &len);
			if (!p)
				return false;
			free(p);
		}
	}
	return d->cfg.n_domains > 0;
}

bool sync_all_in_sync_locked(const struct dird *d)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		if (d->domains[i].in_sync_until <= now)
			return false;
	return d->cfg.n_domains > 0;
}
