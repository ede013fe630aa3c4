/* This host's own accounts: the names and ids in /etc/passwd and /etc/group, read from the files
 * themselves (never through NSS, which would ask us), lines of any length.  Local accounts
 * always win: a directory entry with a local name or id is never served, and a local name never
 * logs in through pam_dir.  When the files cannot be read whole, nobody can tell which names and
 * ids are local: the answer is then "local" (pam_dir) or "serve nothing new" (dird). */
#ifndef DIR_LOCAL_ACCOUNTS_H
#define DIR_LOCAL_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCAL_PASSWD_FILE "/etc/passwd"
#define LOCAL_GROUP_FILE "/etc/group"

/* The names and ids of one file, each sorted. */
struct local_set {
	char **names;
	size_t n_names;
	uint32_t *ids;
	size_t n_ids;
};

struct local_accounts {
	struct local_set users;		/* /etc/passwd: names and uids */
	struct local_set groups;	/* /etc/group: names and gids */
};

/* Reads both files.  0, or -1 with err set when either cannot be read whole (missing,
 * unreadable, a read error, out of memory); `a` is empty then. */
int local_accounts_load(struct local_accounts *a, char *err, size_t errlen);
/* The same from other files (the unit tests). */
int local_accounts_load_files(struct local_accounts *a, const char *passwd, const char *group,
			      char *err, size_t errlen);
void local_accounts_free(struct local_accounts *a);

bool local_set_has_name(const struct local_set *s, const char *name);
bool local_set_has_id(const struct local_set *s, uint32_t id);

/* Why a directory user or group must not be served beside the local accounts. */
enum local_clash {
	LOCAL_CLASH_NONE,
	LOCAL_CLASH_NAME,	/* its name is local: `files` answers for it */
	LOCAL_CLASH_ID,		/* its uid (or a user's primary gid) is a local account's (group's) */
};
enum local_clash local_accounts_user_clash(const struct local_accounts *a, const char *name,
					   uint32_t uid, uint32_t gid);
enum local_clash local_accounts_group_clash(const struct local_accounts *a, const char *name,
					    uint32_t gid);

/* Whether `name` is a user of `passwd` (LOCAL_PASSWD_FILE for pam_dir): 1 yes, 0 no, -1 with err
 * set when the file cannot be read whole, which the caller counts as yes. */
int local_user_lookup(const char *passwd, const char *name, char *err, size_t errlen);

/* Whether a local user with this uid may log in through a realm's local_users: only the uids
 * Debian gives to user accounts, 1000-59999 and 65536 up.  Root, system accounts (below 1000),
 * 60000-65535 (nobody's 65534, which owns root-squashed NFS files, among them) and the overflow
 * ids 4294967294 and 4294967295 are pam_unix's alone, whatever principals a KDC has. */
bool dir_krb5_local_uid(unsigned long uid);
/* Whether local user `name` may log in with a realm's Kerberos (local_users = yes): an account
 * of the passwd database with a dir_krb5_local_uid. */
bool local_user_kerberos_allowed(const char *name);

struct passwd;
/* getpwnam_r (through NSS: directory users too) with a buffer that grows on ERANGE (a long
 * gecos): pw filled and *buf to free, or NULL when there is no such user (*buf to free too). */
struct passwd *dir_getpwnam(const char *name, struct passwd *pw, char **buf);

#endif
