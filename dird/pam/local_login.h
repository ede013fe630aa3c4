/* Local users who log in with Kerberos: a realm with local_users = yes (local_login.c). */
#ifndef DIRD_LOCAL_LOGIN_H
#define DIRD_LOCAL_LOGIN_H

#include <stddef.h>

#include "buf.h"
#include "dird.h"
#include "protocol.h"

/* The password of `user`, a user of /etc/passwd, checked in each realm that serves local users
 * (local_users = yes) in turn: user@REALM at its KDC, the answer verified with the host keytab
 * ([kerberos] keytab), as directory users' are.  DIR_PAM_OK with the user's tickets in ccache;
 * DIR_PAM_UNKNOWN when no such realm has the principal (or there is none, or the user is root or
 * a system account: not dir_krb5_local_uid), so the user is pam_unix's alone; a refusal, with
 * msg for the user when there is something to say. */
enum dir_pam_result local_login(struct dird *d, const char *user, const char *password,
				struct buf *ccache, char *msg, size_t msglen);

#endif
