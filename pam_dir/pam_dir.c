/* pam_dir: a placeholder until authentication lands.  Every phase answers PAM_IGNORE, so a
 * stack that names the module keeps working exactly as without it. */
#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include <security/pam_modules.h>

#define PAM_EXPORT __attribute__((visibility("default")))
#define UNUSED_ARGS (void)pamh, (void)flags, (void)argc, (void)argv

PAM_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	UNUSED_ARGS;
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	UNUSED_ARGS;
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	UNUSED_ARGS;
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	UNUSED_ARGS;
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	UNUSED_ARGS;
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	UNUSED_ARGS;
	return PAM_IGNORE;
}
