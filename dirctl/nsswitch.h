/* nsswitch.conf as glibc reads it (nss/nss_database.c's process_line and
 * nss/nss_action_parse.c): a line is `database: services`, anything from '#' on is a comment,
 * and a service is a name with an optional action list `[ !STATUS = action ... ]`, which
 * belongs to it whatever the spacing.  dirctl edits services as such units and has glibc
 * itself read the result before it replaces the file. */
#ifndef DIRCTL_NSSWITCH_H
#define DIRCTL_NSSWITCH_H

#include <stdbool.h>
#include <stddef.h>

/* The new text of one line of `database` with `dir` put in (after files or compat, with
 * `first` just before it, else first) or taken out, or NULL when it needs no change.  On a line dirctl must not touch (one
 * glibc rejects or reads otherwise than it looks, or that the change would leave without a
 * service) returns NULL with *why set. */
char *nsswitch_change_line(const char *line, bool enable, bool first, const char **why);

/* The database a line is for, as glibc finds it ("passwd" in "  passwd::files"), with its
 * length; NULL for a comment, a blank line or one glibc skips. */
const char *nsswitch_database(const char *line, size_t *len);

/* Has glibc read `candidate` as /etc/nsswitch.conf (getent in a mount namespace of its own, the
 * file bound over /etc/nsswitch.conf) and look up uid 0 and gid 0, as every login does.  0 when
 * both are found; -1 with err set when glibc rejects the file, does not find them, or the check
 * could not be run. */
int nsswitch_glibc_check(const char *candidate, char *err, size_t errlen);

#endif
