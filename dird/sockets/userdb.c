/* io.systemd.UserDatabase on dird.conf's userdb_socket, answered from the cache (db) by the main
 * loop, without blocking: calls are read and replies written as poll allows (clients.c drives
 * the connections and closes them at their deadlines).  Enumerations are streamed: each turn
 * of the main loop adds one batch of replies once the client has taken the last, so a client
 * that reads slowly, or never, costs one batch of memory and delays nobody. */
#include "userdb.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_names.h"
#include "clients.h"
#include "dird.h"
#include "local_accounts.h"
#include "log.h"
#include "names.h"
#include "protocol.h"
#include "server.h"
#include "userdb_json.h"

/* Replies an enumeration adds at each turn, and the bytes past which it waits for the next. */
#define BATCH 128
#define BATCH_BYTES (64u << 10)
/* An enumeration whose client takes nothing for this long is dropped.  Longer than a single
 * reply's DIR_CLIENT_IO_TIMEOUT_MS: getpwent() hands the records to a program one at a time. */
#define STREAM_STALL_MS 10000

enum stream {
	STREAM_NONE,
	STREAM_USERS,		/* every user, by uid */
	STREAM_GROUPS,		/* every group, by gid */
	STREAM_USER_GROUPS,	/* the groups of user `name`, by gid */
	STREAM_GROUP_MEMBERS,	/* the members of group `name`, by name */
	STREAM_MEMBERSHIPS,	/* every group's members: groups by gid, each group's by name */
};

struct userdb_conn {
	char in[DIR_MAX_REQUEST];	/* calls read and not yet answered; one must fit */
	size_t in_len;
	struct buf out;			/* replies being written */
	size_t sent;
	enum stream stream;
	/* Where a stream goes on, as values rather than places in db, which a refresh or a
	 * lookup may change between two turns: nothing is sent twice, or skipped while it
	 * stays in the cache. */
	uint64_t next_id;		/* the smallest uid or gid still to send (MEMBERSHIPS: whose
					 * members are being sent) */
	bool in_group;			/* MEMBERSHIPS: next_id is a group being sent */
	char name[DIR_MAX_NAME + 1];	/* USER_GROUPS, GROUP_MEMBERS */
	char after[DIR_MAX_NAME + 1];	/* GROUP_MEMBERS, MEMBERSHIPS: the last member sent */
	/* The newest reply of a stream, held back: whether it continues is known only when the
	 * next one exists or the stream has ended. */
	struct buf pending;
	bool has_pending;
};

struct userdb_conn *userdb_conn_new(void)
{
	struct userdb_conn *u = calloc(1, sizeof(*u));
	if (u) {
		buf_init(&u->out, DIR_MAX_REPLY);
		buf_init(&u->pending, DIR_MAX_REPLY);
	}
	return u;
}

void userdb_conn_free(struct userdb_conn *u)
{
	if (!u)
		return;
	buf_free(&u->out);
	buf_free(&u->pending);
	free(u);
}

int userdb_listen(const char *path)
{
	char dir[PATH_MAX], base[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	/* systemd makes /run/systemd/userdb at boot; elsewhere (tests, no systemd) it may not be */
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST) {
		log_error("userdb_socket: cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	return server_listen(dir, basename(base), 0666);
}

/* The service name clients give: the socket's file name. */
static const char *service_name(const struct dird *d)
{
	return strrchr(d->cfg.userdb_socket, '/') + 1;
}

/* /etc/passwd and /etc/group, read again only when they change.  NULL (logged once) when they
 * cannot be read whole: then nobody can tell which names are local, and nothing is served. */
static const struct local_accounts *local_accounts_now(void)
{
	static struct local_accounts local;
	static struct stat seen[2];
	static bool loaded, failing;
	struct stat st[2];
	char err[512];
	if (stat(LOCAL_PASSWD_FILE, &st[0]) == 0 && stat(LOCAL_GROUP_FILE, &st[1]) == 0 && loaded) {
		bool same = true;
		for (int i = 0; i < 2; i++)
			same &= st[i].st_dev == seen[i].st_dev && st[i].st_ino == seen[i].st_ino &&
				st[i].st_size == seen[i].st_size &&
				st[i].st_mtim.tv_sec == seen[i].st_mtim.tv_sec &&
				st[i].st_mtim.tv_nsec == seen[i].st_mtim.tv_nsec &&
				st[i].st_ctim.tv_sec == seen[i].st_ctim.tv_sec &&
				st[i].st_ctim.tv_nsec == seen[i].st_ctim.tv_nsec;
		if (same)
			return &local;
	}
	if (loaded)
		local_accounts_free(&local);
	loaded = local_accounts_load(&local, err, sizeof(err)) == 0;
	if (!loaded && !failing)
		log_error("%s: userdb answers ServiceNotAvailable until it can be read", err);
	failing = !loaded;
	memcpy(seen, st, sizeof(seen)); /* taken before the read: a change during it reads again */
	return loaded ? &local : NULL;
}

static bool user_served(const struct local_accounts *l, const struct dir_user *u)
{
	return u && local_accounts_user_clash(l, u->name, u->uid, u->gid) == LOCAL_CLASH_NONE;
}

static bool group_served(const struct local_accounts *l, const struct dir_group *g)
{
	return g && local_accounts_group_clash(l, g->name, g->gid) == LOCAL_CLASH_NONE;
}

/* A caller's name as db holds it ("adtest\ALICE" and "alice@ad.test" are ADTEST\alice); false
 * for a name nobody can have. */
static bool canonical(const struct dird *d, const char *name, char out[DIR_MAX_NAME + 1])
{
	size_t domain;
	return dir_valid_name(name) &&
	       ad_name_canonical(&d->cfg, name, &domain, out, DIR_MAX_NAME + 1) >= 0;
}

static struct dir_user *find_user(const struct dird *d, const char *name)
{
	char n[DIR_MAX_NAME + 1];
	return canonical(d, name, n) ? db_user_by_name(&d->db, n) : NULL;
}

static struct dir_group *find_group(const struct dird *d, const char *name)
{
	char n[DIR_MAX_NAME + 1];
	return canonical(d, name, n) ? db_group_by_name(&d->db, n) : NULL;
}

/* A user's record with the names of its (served) groups as memberOf.  Lock held. */
static json_object *user_record(struct dird *d, const struct local_accounts *l,
				const struct dir_user *u)
{
	const char **names = calloc(u->n_groups + 1, sizeof(*names));
	if (!names)
		return NULL;
	size_t n = 0;
	for (uint32_t i = 0; i < u->n_groups; i++) {
		const struct dir_group *g = db_group_by_gid(&d->db, u->groups[i]);
		if (group_served(l, g))
			names[n++] = g->name;
	}
	json_object *o = userdb_user_record(u, service_name(d), names, n);
	free(names);
	return o;
}

/* ---- Picking a stream's next items in the order of their values ---- */

/* Items 0 ... n-1 of a list, compared by value, and the cursor: pick() finds the up to k
 * smallest items after the cursor, by a max-heap over one pass.  An id list says how to read an
 * item's id; a name list (id_at NULL) holds strings. */
struct order {
	size_t n;
	const void *list;
	uint64_t (*id_at)(const struct order *o, size_t i);
	uint64_t next_id;	/* id lists: items from this value on */
	const char *after;	/* name lists: items past this name */
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static uint64_t user_uid(const struct order *o, size_t i)
{
	return ((struct dir_user *const *)o->list)[i]->uid;
}

static uint64_t group_gid(const struct order *o, size_t i)
{
	return ((struct dir_group *const *)o->list)[i]->gid;
}

static uint64_t gid_at(const struct order *o, size_t i)
{
	return ((const uint32_t *)o->list)[i];
}

static const char *member_at(const struct order *o, size_t i)
{
	return ((char *const *)o->list)[i];
}

static int cmp(const struct order *o, size_t a, size_t b)
{
	if (!o->id_at)
		return strcmp(member_at(o, a), member_at(o, b));
	return cmp_u64(o->id_at(o, a), o->id_at(o, b));
}

static bool after_cursor(const struct order *o, size_t i)
{
	return o->id_at ? o->id_at(o, i) >= o->next_id : strcmp(member_at(o, i), o->after) > 0;
}

static void sift_down(const struct order *o, size_t *h, size_t n, size_t at)
{
	for (;;) {
		size_t big = at, l = 2 * at + 1, r = l + 1;
		if (l < n && cmp(o, h[l], h[big]) > 0)
			big = l;
		if (r < n && cmp(o, h[r], h[big]) > 0)
			big = r;
		if (big == at)
			return;
		size_t t = h[at];
		h[at] = h[big];
		h[big] = t;
		at = big;
	}
}

/* The indexes, ascending by value, in h[0 ... returned). */
static size_t pick(const struct order *o, size_t *h, size_t k)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++) {
		if (!after_cursor(o, i))
			continue;
		if (n < k) {
			h[n++] = i;
			for (size_t at = n - 1; at > 0 && cmp(o, h[at], h[(at - 1) / 2]) > 0;
			     at = (at - 1) / 2) {
				size_t t = h[at];
				h[at] = h[(at - 1) / 2];
				h[(at - 1) / 2] = t;
			}
		} else if (n && cmp(o, i, h[0]) < 0) {
			h[0] = i;
			sift_down(o, h, n, 0);
		}
	}
	for (size_t end = n; end > 1; end--) { /* heap sort: the largest to the end */
		size_t t = h[0];
		h[0] = h[end - 1];
		h[end - 1] = t;
		sift_down(o, h, end - 1, 0);
	}
	return n;
}

/* ---- Replies ---- */

static void put_error(struct userdb_conn *u, const char *error)
{
	userdb_put_error(&u->out, error, NULL, NULL);
}

/* One reply that ends the call: its parameters (taken), or NoRecordFound without them. */
static void put_single(struct userdb_conn *u, json_object *params)
{
	if (!params) {
		put_error(u, USERDB_ERROR("NoRecordFound"));
		return;
	}
	struct buf text;
	buf_init(&text, DIR_MAX_REPLY);
	if (userdb_serialize(params, &text))
		userdb_put_reply(&u->out, &text, false);
	else
		put_error(u, USERDB_ERROR("ServiceNotAvailable"));
	buf_free(&text);
}

/* The next reply of a stream (parameters taken; NULL: an item not served after all, such as
 * a name that is not UTF-8). */
static void stream_item(struct userdb_conn *u, json_object *params)
{
	if (!params)
		return;
	if (u->has_pending)
		userdb_put_reply(&u->out, &u->pending, true);
	u->has_pending = userdb_serialize(params, &u->pending);
}

static void stream_end(struct userdb_conn *u)
{
	if (u->has_pending)
		userdb_put_reply(&u->out, &u->pending, false);
	else
		put_error(u, USERDB_ERROR("NoRecordFound"));
	u->has_pending = false;
	buf_reset(&u->pending);
	u->stream = STREAM_NONE;
}

static bool batch_full(const struct userdb_conn *u)
{
	return u->out.len + u->pending.len >= BATCH_BYTES;
}

/* Every user or every group: one batch.  Lock held. */
static void batch_records(struct dird *d, struct userdb_conn *u, const struct local_accounts *l)
{
	bool users = u->stream == STREAM_USERS;
	struct order o = users ?
		(struct order){ d->db.c.n_users, d->db.c.users, user_uid, u->next_id, NULL } :
		(struct order){ d->db.c.n_groups, d->db.c.groups, group_gid, u->next_id, NULL };
	size_t h[BATCH], n = pick(&o, h, BATCH), i = 0;
	for (; i < n && !batch_full(u); i++) {
		if (users) {
			const struct dir_user *x = d->db.c.users[h[i]];
			if (user_served(l, x))
				stream_item(u, userdb_record_reply(user_record(d, l, x)));
			u->next_id = (uint64_t)x->uid + 1;
		} else {
			const struct dir_group *x = d->db.c.groups[h[i]];
			if (group_served(l, x))
				stream_item(u, userdb_record_reply(userdb_group_record(x, service_name(d))));
			u->next_id = (uint64_t)x->gid + 1;
		}
	}
	if (i == n && n < BATCH)
		stream_end(u);
}

/* The groups of one user: one batch.  Lock held. */
static void batch_user_groups(struct dird *d, struct userdb_conn *u, const struct local_accounts *l)
{
	const struct dir_user *x = db_user_by_name(&d->db, u->name);
	if (!user_served(l, x)) {
		stream_end(u);
		return;
	}
	struct order o = { x->n_groups, x->groups, gid_at, u->next_id, NULL };
	size_t h[BATCH], n = pick(&o, h, BATCH), i = 0;
	for (; i < n && !batch_full(u); i++) {
		const struct dir_group *g = db_group_by_gid(&d->db, x->groups[h[i]]);
		if (group_served(l, g))
			stream_item(u, userdb_membership_reply(x->name, g->name));
		u->next_id = (uint64_t)x->groups[h[i]] + 1;
	}
	if (i == n && n < BATCH)
		stream_end(u);
}

/* Members of g after u->after, at most `room` of them: how many were looked at.  Lock held. */
static size_t send_members(struct userdb_conn *u, const struct local_accounts *l,
			   const struct dir_group *g, size_t room, bool *done)
{
	struct order o = { g->n_members, g->members, NULL, 0, u->after };
	size_t h[BATCH], n = pick(&o, h, room < BATCH ? room : BATCH), i = 0;
	for (; i < n && !batch_full(u); i++) {
		const char *m = g->members[h[i]];
		if (!local_set_has_name(&l->users, m))
			stream_item(u, userdb_membership_reply(m, g->name));
		snprintf(u->after, sizeof(u->after), "%s", m);
	}
	*done = i == n && n < (room < BATCH ? room : BATCH);
	return i;
}

/* The members of one group: one batch.  Lock held. */
static void batch_group_members(struct dird *d, struct userdb_conn *u,
				const struct local_accounts *l)
{
	const struct dir_group *g = db_group_by_name(&d->db, u->name);
	bool done = true;
	if (group_served(l, g))
		send_members(u, l, g, BATCH, &done);
	if (done)
		stream_end(u);
}

/* Every membership, group after group by gid: one batch.  Lock held. */
static void batch_memberships(struct dird *d, struct userdb_conn *u,
			      const struct local_accounts *l)
{
	size_t room = BATCH;
	while (room && !batch_full(u)) {
		const struct dir_group *g = u->in_group ? db_group_by_gid(&d->db, (uint32_t)u->next_id) : NULL;
		bool done = true;
		if (group_served(l, g))
			room -= send_members(u, l, g, room, &done);
		if (!done)
			return;
		/* On to the group with the next gid. */
		struct order o = { d->db.c.n_groups, d->db.c.groups, group_gid, u->next_id + u->in_group,
				   NULL };
		size_t h[1];
		if (!pick(&o, h, 1)) {
			stream_end(u);
			return;
		}
		u->next_id = d->db.c.groups[h[0]]->gid;
		u->in_group = true;
		u->after[0] = '\0';
		room--;
	}
}

/* Adds the next batch of the connection's stream to its output. */
static void next_batch(struct dird *d, struct userdb_conn *u)
{
	const struct local_accounts *l = local_accounts_now();
	if (!l) {
		buf_reset(&u->pending);
		u->has_pending = false;
		u->stream = STREAM_NONE;
		put_error(u, USERDB_ERROR("ServiceNotAvailable"));
		return;
	}
	pthread_mutex_lock(&d->lock);
	switch (u->stream) {
	case STREAM_USERS:
	case STREAM_GROUPS: batch_records(d, u, l); break;
	case STREAM_USER_GROUPS: batch_user_groups(d, u, l); break;
	case STREAM_GROUP_MEMBERS: batch_group_members(d, u, l); break;
	case STREAM_MEMBERSHIPS: batch_memberships(d, u, l); break;
	case STREAM_NONE: break;
	}
	pthread_mutex_unlock(&d->lock);
}

/* GetUserRecord or GetGroupRecord by uid/gid and/or name.  Lock held. */
static json_object *lookup_record(struct dird *d, const struct local_accounts *l,
				  const struct userdb_call *call, bool *conflict)
{
	*conflict = false;
	if (call->method == USERDB_GET_USER) {
		struct dir_user *by_name = call->user ? find_user(d, call->user) : NULL;
		struct dir_user *by_id = call->has_id ? db_user_by_uid(&d->db, call->id) : NULL;
		struct dir_user *x = call->user ? by_name : by_id;
		if (!user_served(l, by_name))
			by_name = NULL;
		if (!user_served(l, by_id))
			by_id = NULL;
		if (call->user && call->has_id && by_name != by_id) {
			*conflict = by_name || by_id;
			return NULL;
		}
		return user_served(l, x) ? userdb_record_reply(user_record(d, l, x)) : NULL;
	}
	struct dir_group *by_name = call->group ? find_group(d, call->group) : NULL;
	struct dir_group *by_id = call->has_id ? db_group_by_gid(&d->db, call->id) : NULL;
	struct dir_group *x = call->group ? by_name : by_id;
	if (!group_served(l, by_name))
		by_name = NULL;
	if (!group_served(l, by_id))
		by_id = NULL;
	if (call->group && call->has_id && by_name != by_id) {
		*conflict = by_name || by_id;
		return NULL;
	}
	return group_served(l, x) ? userdb_record_reply(userdb_group_record(x, service_name(d))) : NULL;
}

/* GetMemberships for one user and one group: the pair if the user is a member.  Lock held. */
static json_object *lookup_membership(struct dird *d, const struct local_accounts *l,
				      const struct userdb_call *call)
{
	const struct dir_user *x = find_user(d, call->user);
	const struct dir_group *g = find_group(d, call->group);
	if (!user_served(l, x) || !group_served(l, g))
		return NULL;
	bool member = false;
	for (uint32_t i = 0; !member && i < x->n_groups; i++)
		member = x->groups[i] == g->gid;
	for (uint32_t i = 0; !member && i < g->n_members; i++)
		member = !strcmp(g->members[i], x->name);
	return member ? userdb_membership_reply(x->name, g->name) : NULL;
}

/* Starts the stream a call asks for; false when the name names nobody here.  Lock held. */
static bool start_stream(struct dird *d, struct userdb_conn *u, const struct userdb_call *call)
{
	u->next_id = 0;
	u->in_group = false;
	u->after[0] = '\0';
	u->name[0] = '\0';
	if (call->method == USERDB_GET_USER) {
		u->stream = STREAM_USERS;
	} else if (call->method == USERDB_GET_GROUP) {
		u->stream = STREAM_GROUPS;
	} else if (call->user) {
		const struct dir_user *x = find_user(d, call->user);
		if (!x)
			return false;
		u->stream = STREAM_USER_GROUPS;
		snprintf(u->name, sizeof(u->name), "%s", x->name);
	} else if (call->group) {
		const struct dir_group *g = find_group(d, call->group);
		if (!g)
			return false;
		u->stream = STREAM_GROUP_MEMBERS;
		snprintf(u->name, sizeof(u->name), "%s", g->name);
	} else {
		u->stream = STREAM_MEMBERSHIPS;
	}
	return true;
}

/* Why a well-formed call is refused, or NULL. */
static const char *refusal(const struct dird *d, const struct userdb_call *call, bool enumeration,
			   bool several)
{
	if (!call->service || strcmp(call->service, service_name(d)))
		return USERDB_ERROR("BadService");
	if (several && !call->more)
		return VARLINK_ERROR("ExpectedMore");
	/* nss-systemd lists every service's users after libnss_dir has listed ours: see
	 * userdb_enumerate in dird.conf(5). */
	if (enumeration && !d->cfg.userdb_enumerate)
		return USERDB_ERROR("EnumerationNotSupported");
	return NULL;
}

/* Answers a call: one reply, or the start of a stream.  Lock held. */
static void respond(struct dird *d, struct userdb_conn *u, const struct local_accounts *l,
		    const struct userdb_call *call, bool several)
{
	if (several) {
		if (!start_stream(d, u, call))
			put_error(u, USERDB_ERROR("NoRecordFound"));
	} else if (call->method == USERDB_GET_MEMBERSHIPS) {
		put_single(u, lookup_membership(d, l, call));
	} else {
		bool conflict;
		json_object *r = lookup_record(d, l, call, &conflict);
		if (conflict)
			put_error(u, USERDB_ERROR("ConflictingRecordFound"));
		else
			put_single(u, r);
	}
}

/* Answers one call into u->out (a oneway call, which asks for no reply, is dropped: looking
 * up changes nothing).  -1: not a varlink call. */
static int answer(struct dird *d, struct userdb_conn *u, const char *msg, size_t len)
{
	struct userdb_call call;
	const char *error, *key, *value;
	enum userdb_parse p = userdb_parse_call(msg, len, &call, &error, &key, &value);
	if (p == USERDB_GARBAGE || call.oneway) {
		userdb_call_free(&call);
		return p == USERDB_GARBAGE ? -1 : 0;
	}
	bool enumeration = call.method == USERDB_GET_MEMBERSHIPS ? !call.user && !call.group :
			   call.method == USERDB_GET_USER ? !call.user && !call.has_id :
							    !call.group && !call.has_id;
	bool several = enumeration ||
		       (call.method == USERDB_GET_MEMBERSHIPS && !(call.user && call.group));
	const struct local_accounts *l;
	if (p == USERDB_REFUSE) {
		userdb_put_error(&u->out, error, key, value);
	} else if ((error = refusal(d, &call, enumeration, several))) {
		put_error(u, error);
	} else if (!(l = local_accounts_now())) {
		put_error(u, USERDB_ERROR("ServiceNotAvailable"));
	} else {
		pthread_mutex_lock(&d->lock);
		respond(d, u, l, &call, several);
		pthread_mutex_unlock(&d->lock);
		if (u->stream != STREAM_NONE)
			next_batch(d, u);
	}
	userdb_call_free(&call);
	return 0;
}

/* 1: all of u->out is written; 0: the socket takes no more now; -1: the client left. */
static int write_out(struct client *c, struct userdb_conn *u)
{
	while (u->sent < u->out.len) {
		ssize_t w = send(c->fd, u->out.data + u->sent, u->out.len - u->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			u->sent += (size_t)w;
			if (u->stream != STREAM_NONE) /* a stream has as long as it keeps reading */
				c->deadline_ms = now_ms() + STREAM_STALL_MS;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
	return 1;
}

int userdb_service(struct dird *d, struct client *c)
{
	struct userdb_conn *u = c->udb;
	/* Each turn reads the socket at most once and adds at most one batch to a stream, so
	 * that one client cannot hold the main loop; calls already read are all answered, as
	 * poll would not report them. */
	bool read_once = false, batch_once = false;
	for (;;) {
		if (c->state == CLIENT_WRITING) {
			int w = write_out(c, u);
			if (w <= 0)
				return w;
			buf_reset(&u->out);
			u->sent = 0;
			if (u->stream != STREAM_NONE) {
				if (batch_once)
					return 0; /* poll reports the socket writable again */
				next_batch(d, u);
				batch_once = true;
				continue;
			}
			c->state = CLIENT_READING;
			c->deadline_ms = now_ms() + DIR_CLIENT_IO_TIMEOUT_MS;
		}
		char *end = memchr(u->in, '\0', u->in_len);
		if (!end) {
			if (u->in_len == sizeof(u->in))
				return -1; /* a call larger than any of ours */
			if (read_once)
				return 0;
			read_once = true;
			ssize_t r = recv(c->fd, u->in + u->in_len, sizeof(u->in) - u->in_len, MSG_DONTWAIT);
			if (r > 0) {
				u->in_len += (size_t)r;
				continue;
			}
			return r < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		}
		size_t len = (size_t)(end - u->in);
		int a = answer(d, u, u->in, len);
		u->in_len -= len + 1;
		memmove(u->in, end + 1, u->in_len);
		if (a < 0)
			return -1;
		batch_once |= u->stream != STREAM_NONE;
		long long now = now_ms();
		/* A stream's first batch may hold no reply yet (128 empty groups, or one reply held
		 * back as pending): it goes on as poll reports the socket writable. */
		if (u->out.len || u->stream != STREAM_NONE) {
			c->state = CLIENT_WRITING;
			c->deadline_ms = now + (u->stream != STREAM_NONE ? STREAM_STALL_MS : DIR_CLIENT_IO_TIMEOUT_MS);
		} else {
			c->deadline_ms = now + DIR_CLIENT_IO_TIMEOUT_MS; /* a oneway call: the next one */
		}
	}
}
