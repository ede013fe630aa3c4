/* pam_dir's shared pieces: its options, the configuration, the question it puts to dird. */
#ifndef PAM_DIR_H
#define PAM_DIR_H

#include <pwd.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "module_config.h"
#include "protocol.h"

#define PAM_EXPORT __attribute__((visibility("default")))

struct pam_dir_options {
	bool debug;
	bool use_first_pass;	/* only the password an earlier module got; never ask */
	bool try_first_pass;	/* that password if there is one, else ask */
	unsigned max_sessions;	/* per user; 0: no limit */
	unsigned max_session_age; /* seconds a session counts unless closed first; 0: no limit */
	bool apikey;		/* auth with an API key (raw or SCRAM-SHA-512), not a password */
	bool allow_password_auth; /* apikey: a first answer that is not SCRAM is a raw key */
};

/* Reads the module's arguments; unknown ones are logged and ignored. */
void pam_dir_parse_options(pam_handle_t *pamh, int argc, const char **argv,
			   struct pam_dir_options *o);

/* What pam_dir needs from the configuration (DIR_CONF or /etc/dird.conf), read tolerantly
 * (module_config.h): a typo dird refuses never stops a login.  An unreadable file is logged
 * and gives the defaults. */
void pam_dir_load_config(pam_handle_t *pamh, struct dir_module_config *cfg);

/* The user being authenticated, when it is a name we could serve; NULL (logged) if not. */
const char *pam_dir_user(pam_handle_t *pamh);

/* True when `user` is in /etc/passwd: such a user is pam_unix's, never ours, and its login
 * must not depend on dird.  So is anyone when the file cannot be read whole (logged). */
bool pam_dir_is_local_user(pam_handle_t *pamh, const char *user);

/* Puts op (DIR_OP_PAM_AUTH with a password, DIR_OP_PAM_ACCOUNT without, DIR_OP_PAM_CHAUTHTOK
 * with the old and the new one) to dird's PAM socket.
 * Returns the dir_pam_result, with dird's message for the user in msg and the user's Kerberos
 * tickets appended to `tickets` (may be NULL); DIR_PAM_UNAVAIL when dird cannot be reached in
 * time. */
enum dir_pam_result pam_dir_ask(pam_handle_t *pamh, const struct dir_module_config *cfg,
				uint32_t op, const char *user, const char *password,
				const char *new_password, char *msg, size_t msglen,
				struct buf *tickets);

/* pam_apikey.c: pam_sm_authenticate with the apikey option: PAM_SUCCESS, PAM_AUTH_ERR,
 * PAM_CRED_EXPIRED (a revoked or expired key), PAM_AUTHINFO_UNAVAIL (no key store). */
int pam_dir_apikey_auth(pam_handle_t *pamh, const struct pam_dir_options *o);

/* ticket_cache.c: the tickets authenticate got, kept with the handle until setcred or
 * open_session writes them to a ticket cache the user owns (mode 0600, in krb5_ccache_dir) and
 * sets KRB5CCNAME; close_session (or setcred PAM_DELETE_CRED) removes that file. */
void pam_dir_keep_tickets(pam_handle_t *pamh, const struct buf *tickets);
int pam_dir_store_tickets(pam_handle_t *pamh);
void pam_dir_drop_tickets(pam_handle_t *pamh);
/* The ticket cache written for this handle, or NULL. */
const char *pam_dir_ticket_cache(pam_handle_t *pamh);

/* pam_session.c: records the handle's ticket cache in the session it opened, if both exist,
 * so that dird renews its tickets while the session lives. */
void pam_dir_session_tickets(pam_handle_t *pamh);

#endif
