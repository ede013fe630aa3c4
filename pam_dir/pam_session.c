/* Sessions: every login through the stack is registered (local users too: `dirctl sessions`
 * shows the host's logins), and max_sessions=N refuses an account's session beyond N live ones
 * (never root's).
 *
 * A session is the one the application opened: its id is kept in the PAM handle (and in the
 * PAM environment as DIR_SESSION_ID, for an application that closes it through another
 * handle), and it ends at close_session, or when the handle ends without one (pam_end; not in a
 * child after fork, which ends its copy with PAM_DATA_SILENT), or when its process dies, or
 * after max_session_age seconds: a long-lived application (the web UI's middleware) that
 * forgets a session does not keep it forever.  A close with neither id removes a session only
 * when exactly one of this process matches the account, service, tty and remote host: never
 * another live session of the same user.
 *
 * Local users' sessions never depend on the registry: when it cannot be written they are let
 * in and the failure is logged. */
#define PAM_SM_SESSION
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "local_accounts.h"
#include "pam_dir.h"
#include "sessions.h"

#define DATA_SESSION "pam_dir_session"
#define ENV_SESSION "DIR_SESSION_ID"

struct open_session {
	char id[37];
	char run_dir[PATH_MAX];
};

static const char *item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v ? v : "";
}

/* pam_end without close_session ends the session, except in a child after fork
 * (PAM_DATA_SILENT) and when close_session replaced the data. */
static void end_with_handle(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	struct open_session *o = data;
	if (!(status & (PAM_DATA_SILENT | PAM_DATA_REPLACE)))
		session_unregister(o->run_dir, o->id);
	free(o);
}

/* Without the registry a limit cannot be kept: a directory user with one is refused, anyone
 * else let in. */
static int without_registry(pam_handle_t *pamh, const struct pam_dir_options *o, const char *user)
{
	return o->max_sessions && !pam_dir_is_local_user(pamh, user) ? PAM_SESSION_ERR : PAM_SUCCESS;
}

PAM_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_dir_options o;
	pam_dir_parse_options(pamh, argc, argv, &o);
	const char *user = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user)
		return PAM_SESSION_ERR;
	struct passwd pw;
	char *pwbuf = NULL;
	if (!dir_getpwnam(user, &pw, &pwbuf)) {
		free(pwbuf);
		pam_syslog(pamh, LOG_ERR, "open_session: no such user %s", user);
		return PAM_SESSION_ERR;
	}
	/* The account, by its own name and uid, whatever name it logged in with. */
	struct dir_session s = { .uid = pw.pw_uid };
	snprintf(s.user, sizeof(s.user), "%s", pw.pw_name);
	free(pwbuf);
	snprintf(s.service, sizeof(s.service), "%s", item(pamh, PAM_SERVICE));
	snprintf(s.tty, sizeof(s.tty), "%s", item(pamh, PAM_TTY));
	snprintf(s.rhost, sizeof(s.rhost), "%s", item(pamh, PAM_RHOST));

	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	struct open_session *mine = calloc(1, sizeof(*mine));
	char err[512];
	/* Root's sessions are registered but never refused, as pam_limits' maxlogins spares uid 0:
	 * sessions an application forgot to close must not shut the administrator out. */
	unsigned limit = s.uid == 0 ? 0 : o.max_sessions;
	int rc = mine ? session_register(cfg.run_dir, &s, limit, o.max_session_age, err,
					 sizeof(err)) :
			-1;
	if (mine)
		snprintf(mine->run_dir, sizeof(mine->run_dir), "%s", cfg.run_dir);
	if (rc == 1) {
		free(mine);
		pam_syslog(pamh, LOG_NOTICE, "refused a session for %s: %u open already", s.user,
			   o.max_sessions);
		if (!(flags & PAM_SILENT))
			pam_error(pamh, "Too many logins for '%s' (at most %u).", user, o.max_sessions);
		return PAM_PERM_DENIED;
	}
	if (rc < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot register the session of %s: %s", s.user,
			   mine ? err : "out of memory");
		free(mine);
		return without_registry(pamh, &o, user);
	}
	/* Tickets from authenticate, for programs that open a session without setcred. */
	if (pam_dir_store_tickets(pamh) != PAM_SUCCESS)
		pam_syslog(pamh, LOG_WARNING, "the session of %s has no ticket cache", s.user);
	char env[64];
	snprintf(mine->id, sizeof(mine->id), "%s", s.id);
	snprintf(env, sizeof(env), ENV_SESSION "=%s", s.id);
	if (pam_set_data(pamh, DATA_SESSION, mine, end_with_handle) != PAM_SUCCESS) {
		session_unregister(mine->run_dir, mine->id);
		free(mine);
		return without_registry(pamh, &o, user);
	}
	pam_putenv(pamh, env);
	pam_dir_session_tickets(pamh);
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "session %s opened for %s", s.id, s.user);
	return PAM_SUCCESS;
}

void pam_dir_session_tickets(pam_handle_t *pamh)
{
	const void *data = NULL;
	const char *ccache = pam_dir_ticket_cache(pamh);
	if (!ccache || pam_get_data(pamh, DATA_SESSION, &data) != PAM_SUCCESS || !data)
		return;
	const struct open_session *o = data;
	if (session_set_ccache(o->run_dir, o->id, ccache) < 0)
		pam_syslog(pamh, LOG_WARNING, "session %s: its ticket cache %s is not renewed: %s",
			   o->id, ccache, strerror(errno));
}

/* The session close_session ends when the handle holds none: the one DIR_SESSION_ID names, if
 * it is this account's; else the one session of this process for this account, service, tty
 * and remote host, when there is exactly one. */
struct match {
	const char *id;
	uint32_t uid;
	pid_t pid;
	const char *service, *tty, *rhost;
	unsigned n;
	char found[37];
};

static int matches(const struct dir_session *s, void *arg)
{
	struct match *m = arg;
	if (s->uid != m->uid)
		return 0;
	if (m->id ? strcmp(s->id, m->id) != 0 :
		    s->pid != m->pid || strcmp(s->service, m->service) || strcmp(s->tty, m->tty) ||
			    strcmp(s->rhost, m->rhost))
		return 0;
	m->n++;
	memcpy(m->found, s->id, sizeof(m->found));
	return 0;
}

PAM_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags, (void)argc, (void)argv;
	pam_dir_drop_tickets(pamh);
	const void *data = NULL;
	if (pam_get_data(pamh, DATA_SESSION, &data) == PAM_SUCCESS && data) {
		const struct open_session *mine = data;
		if (session_unregister(mine->run_dir, mine->id) < 0)
			pam_syslog(pamh, LOG_WARNING, "session %s was not registered", mine->id);
		pam_set_data(pamh, DATA_SESSION, NULL, NULL); /* closed: nothing for pam_end to do */
		pam_putenv(pamh, ENV_SESSION);
		return PAM_SUCCESS;
	}
	/* Another handle opened it (some programs do). */
	const char *user = NULL;
	struct passwd pw;
	char *pwbuf = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !dir_getpwnam(user, &pw, &pwbuf)) {
		free(pwbuf);
		return PAM_SUCCESS;
	}
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	struct match m = { .id = pam_getenv(pamh, ENV_SESSION), .uid = pw.pw_uid, .pid = getpid(),
			   .service = item(pamh, PAM_SERVICE), .tty = item(pamh, PAM_TTY),
			   .rhost = item(pamh, PAM_RHOST) };
	free(pwbuf);
	session_each(cfg.run_dir, matches, &m);
	if (m.n == 1)
		session_unregister(cfg.run_dir, m.found);
	else if (m.n > 1)
		pam_syslog(pamh, LOG_NOTICE, "close_session for %s: %u sessions of this process match, "
					     "none is closed (each ends with its process or its age limit)",
			   user, m.n);
	pam_putenv(pamh, ENV_SESSION);
	return PAM_SUCCESS;
}
