/* dirctl sessions: the live login sessions pam_dir registered (libcommon/sessions.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dirctl.h"
#include "sessions.h"

struct listing {
	bool json;
	json_object *list;
	unsigned n;
};

static int print_one(const struct dir_session *s, void *arg)
{
	struct listing *l = arg;
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
		json_object_array_add(l->list, o);
		return 0;
	}
	char when[32] = "-";
	time_t t = (time_t)s->started;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-36s %-16s %10" PRIu32 " %-12s %-8s %-20s %8" PRId32 " %s\n", s->id, s->user,
	       s->uid, s->service, *s->tty ? s->tty : "-", *s->rhost ? s->rhost : "-", s->pid, when);
	return 0;
}

int cmd_sessions(struct ctl *c)
{
	if (geteuid() != 0) {
		fprintf(stderr, "dirctl: the session registry is readable by root only; run it with sudo\n");
		return EXIT_FAIL;
	}
	struct listing l = { .json = c->json, .list = json_object_new_array() };
	if (!l.json)
		printf("%-36s %-16s %10s %-12s %-8s %-20s %8s %s\n", "ID", "USER", "UID", "SERVICE",
		       "TTY", "RHOST", "PID", "STARTED");
	int rc = session_each(c->cfg.run_dir, print_one, &l);
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
