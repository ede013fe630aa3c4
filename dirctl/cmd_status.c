/* dirctl status and dirctl cache refresh|flush. */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dirctl.h"
#include "names.h"
#include "log.h"
#include "protocol.h"

struct status {
	uint32_t pid, refreshing, progress, users, groups, n_domains;
	uint64_t last_refresh, refresh_count;
};

static int get_status(struct ctl *c, struct status *s, struct buf *reply, struct cursor *cur)
{
	struct buf body;
	uint32_t st;
	buf_init(&body, 0);
	int rc = ctl_call(c, DIR_OP_STATUS, &body, &st, reply);
	if (rc != EXIT_OK)
		return rc;
	if (st != DIR_OK) {
		fprintf(stderr, "dirctl: dird refused the status request (%" PRIu32 ")\n", st);
		return EXIT_FAIL;
	}
	cursor_init(cur, reply->data, reply->len);
	s->pid = cursor_u32(cur);
	s->refreshing = cursor_u32(cur);
	s->progress = cursor_u32(cur);
	s->last_refresh = cursor_u64(cur);
	s->refresh_count = cursor_u64(cur);
	s->users = cursor_u32(cur);
	s->groups = cursor_u32(cur);
	s->n_domains = cursor_u32(cur);
	if (cur->failed) {
		fprintf(stderr, "dirctl: malformed status from dird\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void format_time(uint64_t t, char *out, size_t len)
{
	if (!t) {
		snprintf(out, len, "never");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	size_t n = strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, len - n, " (%llds ago)", (long long)(time(NULL) - tt));
}

/* One domain's entry of the status reply, in the order dird writes it. */
struct domain_status {
	const char *name, *server, *error, *changes, *changes_state;
	uint32_t state, duplicates, refused, skipped_members, full_syncs;
	bool clock_known;
	long long offset;
	uint64_t since, last_change, in_sync_until;
};

static bool read_domain_status(struct cursor *cur, struct domain_status *d)
{
	d->name = cursor_str(cur, NULL);
	d->state = cursor_u32(cur);
	d->since = cursor_u64(cur);
	d->server = cursor_str(cur, NULL);
	d->error = cursor_str(cur, NULL);
	d->duplicates = cursor_u32(cur);
	d->clock_known = cursor_u32(cur) != 0;
	d->offset = (long long)cursor_u64(cur);
	d->refused = cursor_u32(cur);
	d->skipped_members = cursor_u32(cur);
	d->changes = cursor_str(cur, NULL);
	d->changes_state = cursor_str(cur, NULL);
	d->last_change = cursor_u64(cur);
	d->in_sync_until = cursor_u64(cur);
	d->full_syncs = cursor_u32(cur);
	return !cur->failed;
}

static const char *domain_state_word(uint32_t state)
{
	return state == DIR_DOMAIN_ONLINE ? "online" :
	       state == DIR_DOMAIN_OFFLINE ? "offline" : "not contacted yet";
}

/* The warnings and notes under a domain's line: what dird left out of the cache, the clock. */
static void print_domain_warnings(const struct domain_status *d)
{
	if (d->duplicates)
		printf("  warning: %" PRIu32 " entries share a name or id with another and "
		       "are not served (dird's log names them)\n", d->duplicates);
	if (d->refused)
		printf("  warning: %" PRIu32 " entries are refused: an id below min_id "
		       "(a user's primary gid too) or a local one, a name unfit for "
		       "home_template, or a malformed server id (dird's log names them)\n",
		       d->refused);
	if (d->skipped_members)
		printf("  note: %" PRIu32 " member DNs of groups are no user or group here "
		       "(outside user_base and group_base, another kind of entry, or no "
		       "entry) and were skipped (log_level = debug names them)\n",
		       d->skipped_members);
	if (d->clock_known)
		clock_warning(d->offset);
}

static void print_domain_changes(const struct domain_status *d)
{
	char last[64];
	format_time(d->last_change, last, sizeof(last));
	printf("  changes: %s%s%s", d->changes, *d->changes_state ? ", " : "", d->changes_state);
	if (d->last_change)
		printf(", last change %s", last);
	if (d->full_syncs)
		printf(", %" PRIu32 " full reads", d->full_syncs);
	printf("\n");
}

static void print_domain_status(const struct domain_status *d)
{
	char changed[64];
	format_time(d->since, changed, sizeof(changed));
	printf("domain %s: %s", d->name, domain_state_word(d->state));
	if (d->since)
		printf(" since %s", changed);
	if (*d->server)
		printf(", server %s", d->server);
	printf("\n");
	if (*d->error)
		printf("  last error: %s\n", d->error);
	print_domain_warnings(d);
	print_domain_changes(d);
}

static json_object *domain_status_json(const struct domain_status *d)
{
	json_object *j = json_object_new_object();
	json_object_object_add(j, "name", json_object_new_string(d->name));
	json_object_object_add(j, "state", json_object_new_string(domain_state_word(d->state)));
	json_object_object_add(j, "since", json_object_new_int64((int64_t)d->since));
	json_object_object_add(j, "server", json_object_new_string(d->server));
	json_object_object_add(j, "last_error", json_object_new_string(d->error));
	json_object_object_add(j, "duplicates", json_object_new_int64(d->duplicates));
	json_object_object_add(j, "refused", json_object_new_int64(d->refused));
	json_object_object_add(j, "skipped_members", json_object_new_int64(d->skipped_members));
	json_object_object_add(j, "clock_offset",
			       d->clock_known ? json_object_new_int64(d->offset) : NULL);
	json_object_object_add(j, "changes", json_object_new_string(d->changes));
	json_object_object_add(j, "changes_state", json_object_new_string(d->changes_state));
	json_object_object_add(j, "last_change", json_object_new_int64((int64_t)d->last_change));
	json_object_object_add(j, "in_sync", json_object_new_boolean(
					      (time_t)d->in_sync_until > time(NULL)));
	json_object_object_add(j, "full_syncs", json_object_new_int64(d->full_syncs));
	return j;
}

/* Reads the domains of the reply, prints each (text) and adds it to doms (--json); EXIT_OFFLINE when one
 * is offline, else rc as it was. */
static int status_domains(struct ctl *c, struct cursor *cur, uint32_t n_domains, json_object *doms,
			  int rc)
{
	struct domain_status d;
	for (uint32_t i = 0; i < n_domains && !cur->failed; i++) {
		if (!read_domain_status(cur, &d))
			break;
		if (d.state == DIR_DOMAIN_OFFLINE)
			rc = EXIT_OFFLINE;
		if (!c->json)
			print_domain_status(&d);
		json_object_array_add(doms, domain_status_json(&d));
	}
	return rc;
}

/* dird, the cache, the last refresh and the host's warnings: the text lines and the JSON fields. */
static void status_host(struct ctl *c, const struct status *s, json_object *warnings, json_object *j)
{
	char when[64];
	format_time(s->last_refresh, when, sizeof(when));
	if (!c->json) {
		printf("dird:      running (pid %" PRIu32 ")\n", s->pid);
		printf("cache:     %" PRIu32 " users, %" PRIu32 " groups\n", s->users, s->groups);
		printf("refreshed: %s\n", when);
		if (s->refreshing)
			printf("refresh:   running, %" PRIu32 " entries so far\n", s->progress);
		for (size_t i = 0; i < json_object_array_length(warnings); i++)
			printf("warning:   %s\n",
			       json_object_get_string(json_object_array_get_idx(warnings, i)));
	}
	json_object_object_add(j, "warnings", warnings);
	json_object_object_add(j, "pid", json_object_new_int64(s->pid));
	json_object_object_add(j, "users", json_object_new_int64(s->users));
	json_object_object_add(j, "groups", json_object_new_int64(s->groups));
	json_object_object_add(j, "last_refresh", json_object_new_int64((int64_t)s->last_refresh));
	json_object_object_add(j, "refresh_count", json_object_new_int64((int64_t)s->refresh_count));
	json_object_object_add(j, "refreshing", json_object_new_boolean((int)s->refreshing));
}

/* The refresh dird kept out because it would have shrunk the cache, if there is one (the reply's tail). */
static void status_kept_out_refresh(struct ctl *c, const struct status *s, struct cursor *cur,
				    json_object *j)
{
	uint64_t held_at = cursor_u64(cur);
	uint32_t held_users = cursor_u32(cur), held_groups = cursor_u32(cur);
	if (cur->failed || !held_at)
		return;
	char at[64];
	format_time(held_at, at, sizeof(at));
	if (!c->json)
		printf("warning: a refresh was kept out at %s: it found %" PRIu32 " users and "
		       "%" PRIu32 " groups where the cache holds %" PRIu32 " and %" PRIu32 " (a "
		       "changed base or filter?); the cache stays as it is; dirctl cache refresh "
		       "--accept-shrink takes it\n", at, held_users, held_groups, s->users, s->groups);
	json_object *h = json_object_new_object();
	json_object_object_add(h, "at", json_object_new_int64((int64_t)held_at));
	json_object_object_add(h, "users", json_object_new_int64(held_users));
	json_object_object_add(h, "groups", json_object_new_int64(held_groups));
	json_object_object_add(j, "refresh_kept_out", h);
}

int cmd_status(struct ctl *c)
{
	struct status s;
	struct buf reply;
	struct cursor cur;
	buf_init(&reply, DIR_MAX_REPLY);
	json_object *warnings = host_checks(c);
	int rc = get_status(c, &s, &reply, &cur);
	if (rc != EXIT_OK) {
		for (size_t i = 0; i < json_object_array_length(warnings); i++)
			fprintf(stderr, "warning: %s\n",
				json_object_get_string(json_object_array_get_idx(warnings, i)));
		json_object_put(warnings);
		buf_free(&reply);
		return rc;
	}
	json_object *j = json_object_new_object(), *doms = json_object_new_array();
	if (c->config_error) {
		if (!c->json)
			printf("config:    BAD, dird runs on the configuration it read before: %s\n",
			       c->config_error);
		json_object_object_add(j, "config_error", json_object_new_string(c->config_error));
	}
	status_host(c, &s, warnings, j);
	rc = status_domains(c, &cur, s.n_domains, doms, rc);
	json_object_object_add(j, "domains", doms);
	status_kept_out_refresh(c, &s, &cur, j);
	if (c->json)
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	if (cur.failed) {
		fprintf(stderr, "dirctl: malformed status from dird\n");
		rc = EXIT_FAIL;
	}
	buf_free(&reply);
	return c->config_error ? EXIT_FAIL : rc;
}

/* A root-only request whose body is nothing, or one u32 (arg not NULL). */
static int simple_call(struct ctl *c, uint32_t op, const uint32_t *arg)
{
	struct buf body, reply;
	uint32_t st;
	buf_init(&body, DIR_MAX_REQUEST);
	if (arg)
		buf_put_u32(&body, *arg);
	buf_init(&reply, DIR_MAX_REPLY);
	int rc = ctl_call(c, op, &body, &st, &reply);
	buf_free(&body);
	buf_free(&reply);
	if (rc != EXIT_OK)
		return rc;
	if (st == DIR_DENIED) {
		fprintf(stderr, "dirctl: only root may do that; run it with sudo\n");
		return EXIT_FAIL;
	}
	return st == DIR_OK ? EXIT_OK : EXIT_FAIL;
}

/* Starts a refresh and waits for it, with progress on a terminal. */
static int refresh(struct ctl *c, bool accept_shrink)
{
	struct status before, s;
	struct buf reply;
	struct cursor cur;
	buf_init(&reply, DIR_MAX_REPLY);
	int rc = get_status(c, &before, &reply, &cur);
	if (rc == EXIT_OK)
		rc = simple_call(c, DIR_OP_REFRESH, accept_shrink ? &(uint32_t){ DIR_REFRESH_ACCEPT_SHRINK } : NULL);
	bool tty = isatty(STDOUT_FILENO);
	while (rc == EXIT_OK) {
		usleep(100 * 1000);
		rc = get_status(c, &s, &reply, &cur);
		if (rc != EXIT_OK)
			break;
		if (tty)
			printf("\rrefreshing: %" PRIu32 " entries", s.progress), fflush(stdout);
		if (!s.refreshing)
			break;
	}
	if (tty && rc == EXIT_OK)
		printf("\n");
	if (rc == EXIT_OK && s.refresh_count == before.refresh_count) {
		fprintf(stderr, "dirctl: the refresh failed, or was kept out for dropping most of the cache; 'dirctl status' shows which\n");
		rc = EXIT_FAIL;
	} else if (rc == EXIT_OK) {
		printf("refreshed: %" PRIu32 " users, %" PRIu32 " groups\n", s.users, s.groups);
	}
	buf_free(&reply);
	return rc;
}

/* dirctl cache expire [--group] NAME|ID: that entry is asked of the directory at its next
 * lookup. */
static int expire(struct ctl *c, bool group, const char *what)
{
	bool by_id = what[0] && strspn(what, "0123456789") == strlen(what) && strlen(what) <= 10;
	unsigned long long id = by_id ? strtoull(what, NULL, 10) : 0;
	if ((by_id && id >= UINT32_MAX) || (!by_id && !dir_valid_name(what))) {
		fprintf(stderr, "dirctl: '%s' is not a valid name or id\n", what);
		return EXIT_USAGE;
	}
	struct buf body, reply;
	uint32_t st;
	buf_init(&body, DIR_MAX_REQUEST);
	buf_init(&reply, DIR_MAX_REPLY);
	buf_put_u32(&body, group);
	buf_put_u32(&body, by_id);
	if (by_id)
		buf_put_u32(&body, (uint32_t)id);
	else
		buf_put_str(&body, what);
	int rc = ctl_call(c, DIR_OP_EXPIRE, &body, &st, &reply);
	buf_free(&body);
	buf_free(&reply);
	if (rc != EXIT_OK)
		return rc;
	const char *kind = group ? "group" : "user";
	if (st == DIR_DENIED) {
		fprintf(stderr, "dirctl: only root may do that; run it with sudo\n");
		return EXIT_FAIL;
	}
	if (st == DIR_NOTFOUND) {
		fprintf(stderr, "dirctl: no %s '%s' in the cache\n", kind, what);
		return EXIT_NOT_FOUND;
	}
	if (st != DIR_OK) {
		fprintf(stderr, "dirctl: dird could not write the cache; see its log\n");
		return EXIT_FAIL;
	}
	printf("%s %s expired: its next lookup asks the directory%s\n", kind, what,
	       c->cfg.entry_ttl ? " (served as it is while the directory cannot answer)" :
	       " (entry_ttl = 0: it was taken out of the cache)");
	return EXIT_OK;
}

int cmd_cache(struct ctl *c, int argc, char **argv)
{
	bool group = argc == 3 && !strcmp(argv[1], "--group");
	if (argc >= 2 && argc <= 3 && !strcmp(argv[0], "expire") && (argc == 2 || group))
		return expire(c, group, argv[argc - 1]);
	if (argc == 1 && !strcmp(argv[0], "refresh"))
		return refresh(c, false);
	if (argc == 2 && !strcmp(argv[0], "refresh") && !strcmp(argv[1], "--accept-shrink"))
		return refresh(c, true);
	if (argc == 1 && !strcmp(argv[0], "flush")) {
		int rc = simple_call(c, DIR_OP_FLUSH, NULL);
		if (rc == EXIT_OK)
			printf("cache flushed\n");
		return rc;
	}
	fprintf(stderr, "Usage: dirctl cache refresh [--accept-shrink] | flush | expire [--group] NAME|ID\n");
	return EXIT_USAGE;
}

int cmd_log_level(struct ctl *c, int argc, char **argv)
{
	for (uint32_t level = 0; argc == 1 && dir_log_level_names[level]; level++)
		if (!strcmp(argv[0], dir_log_level_names[level])) {
			int rc = simple_call(c, DIR_OP_LOG_LEVEL, &level);
			if (rc == EXIT_OK)
				printf("dird logs at %s until it reloads (SIGHUP) or restarts; log_level in "
				       "%s keeps it\n", argv[0], c->cfg.path);
			return rc;
		}
	fprintf(stderr, "Usage: dirctl log-level error|warning|info|debug\n");
	return EXIT_USAGE;
}
