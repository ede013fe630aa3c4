/* Sessions: every login through the stack is registered (local users too: `dirctl sessions`
 * shows the host's logins), and max_sessions=N refuses a user's session beyond N live ones. */
#define PAM_SM_SESSION
#include <errno.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "pam_dir.h"
#include "sessions.h"

#define DATA_SESSION "pam_dir_session"

static const char *item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v ? v : "";
}

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh, (void)status;
	free(data);
}

PAM_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_dir_options o;
	pam_dir_parse_options(pamh, argc, argv, &o);
	const char *user = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user)
		return PAM_SESSION_ERR;
	struct passwd pw, *found = NULL;
	char pwbuf[4096];
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &found) != 0 || !found) {
		pam_syslog(pamh, LOG_ERR, "open_session: no such user %s", user);
		return PAM_SESSION_ERR;
	}
	struct dir_session s = { .uid = found->pw_uid };
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.service, sizeof(s.service), "%s", item(pamh, PAM_SERVICE));
	snprintf(s.tty, sizeof(s.tty), "%s", item(pamh, PAM_TTY));
	snprintf(s.rhost, sizeof(s.rhost), "%s", item(pamh, PAM_RHOST));

	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	char err[512];
	int rc = session_register(cfg.run_dir, &s, o.max_sessions, err, sizeof(err));
	if (rc == 1) {
		pam_syslog(pamh, LOG_NOTICE, "refused a session for %s: %u open already", user,
			   o.max_sessions);
		if (!(flags & PAM_SILENT))
			pam_error(pamh, "Too many logins for '%s' (at most %u).", user, o.max_sessions);
		return PAM_PERM_DENIED;
	}
	if (rc < 0) {
		/* Without the registry a limit cannot be kept: refuse only when one is set. */
		pam_syslog(pamh, LOG_ERR, "cannot register the session: %s", err);
		return o.max_sessions ? PAM_SESSION_ERR : PAM_SUCCESS;
	}
	/* Tickets from authenticate, for programs that open a session without setcred. */
	if (pam_dir_store_tickets(pamh) != PAM_SUCCESS)
		pam_syslog(pamh, LOG_WARNING, "the session of %s has no ticket cache", user);
	char *id = strdup(s.id);
	if (!id || pam_set_data(pamh, DATA_SESSION, id, free_data) != PAM_SUCCESS)
		free(id);
	pam_dir_session_tickets(pamh);
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "session %s opened for %s", s.id, user);
	return PAM_SUCCESS;
}

void pam_dir_session_tickets(pam_handle_t *pamh)
{
	const void *id = NULL;
	const char *ccache = pam_dir_ticket_cache(pamh);
	if (!ccache || pam_get_data(pamh, DATA_SESSION, &id) != PAM_SUCCESS || !id)
		return;
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	if (session_set_ccache(cfg.run_dir, id, ccache) < 0)
		pam_syslog(pamh, LOG_WARNING, "session %s: its ticket cache %s is not renewed: %s",
			   (const char *)id, ccache, strerror(errno));
}

struct ours {
	const char *user;
	pid_t pid;
	char id[37];
};

static int find_ours(const struct dir_session *s, void *arg)
{
	struct ours *o = arg;
	if (s->pid != o->pid || strcmp(s->user, o->user))
		return 0;
	memcpy(o->id, s->id, sizeof(o->id));
	return 1;
}

PAM_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags, (void)argc, (void)argv;
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	const void *data = NULL;
	const char *user = NULL;
	struct ours o = { .pid = getpid() };
	if (pam_get_data(pamh, DATA_SESSION, &data) == PAM_SUCCESS && data) {
		snprintf(o.id, sizeof(o.id), "%s", (const char *)data);
	} else if (pam_get_user(pamh, &user, NULL) == PAM_SUCCESS && user) {
		/* Another handle opened it (some programs do): the session of this process. */
		o.user = user;
		session_each(cfg.run_dir, find_ours, &o);
	}
	pam_dir_drop_tickets(pamh);
	if (o.id[0] && session_unregister(cfg.run_dir, o.id) < 0)
		pam_syslog(pamh, LOG_WARNING, "session %s was not registered", o.id);
	return PAM_SUCCESS;
}
