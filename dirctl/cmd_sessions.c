/* dirctl sessions: the live login sessions pam_dir registered (libcommon/sessions.h), with
 * when their Kerberos tickets end (dird renews renewable ones while the session lives). */
#include <errno.h>
#include <inttypes.h>
#include <krb5.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ccache_file.h"
#include "dirctl.h"
#include "sessions.h"

struct listing {
	bool json;
	json_object *list;
	unsigned n;
	const char *run_dir;
	krb5_context ctx;
};

/* When the session's tickets end and until when they can be renewed; false without tickets. */
static bool ticket_times(const struct listing *l, const struct dir_session *s, long long *end,
			 long long *renew_till)
{
	struct ccache_file f;
	krb5_ccache cc = NULL;
	krb5_creds tgt;
	char scratch[PATH_MAX] = "", err[512];
	bool found = false;
	if (!s->ccache[0] || !l->ctx)
		return false;
	if (ccache_file_read(s->ccache, s->uid, &f, err, sizeof(err)) == 0 &&
	    ccache_scratch(l->ctx, l->run_dir, &f.data, &cc, scratch, err, sizeof(err)) == 0 &&
	    ccache_find_tgt(l->ctx, cc, &tgt) == 0) {
		*end = tgt.times.endtime;
		*renew_till = tgt.ticket_flags & TKT_FLG_RENEWABLE ? tgt.times.renew_till : 0;
		krb5_free_cred_contents(l->ctx, &tgt);
		found = true;
	}
	if (cc)
		krb5_cc_close(l->ctx, cc);
	if (scratch[0])
		unlink(scratch);
	ccache_file_free(&f);
	return found;
}

static int print_one(const struct dir_session *s, void *arg)
{
	struct listing *l = arg;
	long long end = 0, renew_till = 0;
	bool tickets = ticket_times(l, s, &end, &renew_till);
	l->n++;
	if (l->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(s->id));
		json_object_object_add(o, "user", json_object_new_string(s->user));
		json_object_object_add(o, "uid", json_object_new_int64(s->uid));
		json_object_object_add(o, "service", json_object_new_string(s->service));
		json_object_object_add(o, "tty", json_object_new_string(s->tty));
		json_object_object_add(o, "rhost", json_object_new_string(s->rhost));
		json_object_object_add(o, "pid", json_object_new_int64(s->pid));
		json_object_object_add(o, "started", json_object_new_int64((int64_t)s->started));
		json_object_object_add(o, "ccache", s->ccache[0] ? json_object_new_string(s->ccache) : NULL);
		json_object_object_add(o, "tickets_expire", tickets ? json_object_new_int64(end) : NULL);
		json_object_object_add(o, "tickets_renew_until", tickets && renew_till ?
				       json_object_new_int64(renew_till) : NULL);
		json_object_array_add(l->list, o);
		return 0;
	}
	char when[32] = "-", expires[32] = "-";
	time_t t = (time_t)s->started, e = (time_t)end;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (tickets && localtime_r(&e, &tm))
		strftime(expires, sizeof(expires), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-36s %-16s %10" PRIu32 " %-12s %-8s %-20s %8" PRId32 " %-19s %s\n", s->id, s->user,
	       s->uid, s->service, *s->tty ? s->tty : "-", *s->rhost ? s->rhost : "-", s->pid, when,
	       expires);
	return 0;
}

int cmd_sessions(struct ctl *c)
{
	if (geteuid() != 0) {
		fprintf(stderr, "dirctl: the session registry is readable by root only; run it with sudo\n");
		return EXIT_FAIL;
	}
	struct listing l = { .json = c->json, .list = json_object_new_array(),
			     .run_dir = c->cfg.run_dir };
	ctl_directory_env(c);
	if (krb5_init_context(&l.ctx))
		l.ctx = NULL; /* then no ticket times */
	if (!l.json)
		printf("%-36s %-16s %10s %-12s %-8s %-20s %8s %-19s %s\n", "ID", "USER", "UID",
		       "SERVICE", "TTY", "RHOST", "PID", "STARTED", "TICKETS UNTIL");
	int rc = session_each(c->cfg.run_dir, print_one, &l);
	if (l.ctx)
		krb5_free_context(l.ctx);
	if (rc < 0 && errno != ENOENT) {
		fprintf(stderr, "dirctl: %s/%s: %s\n", c->cfg.run_dir, DIR_SESSIONS_DIR, strerror(errno));
		json_object_put(l.list);
		return EXIT_FAIL;
	}
	if (l.json)
		printf("%s\n", json_object_to_json_string_ext(l.list, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(l.list);
	return EXIT_OK;
}
