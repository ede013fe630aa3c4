/* The JSON form of records kept in the TrueNAS-style tdb cache (cache/store.h).
 *   user:  {"id": uid+100000000, "uid", "username", "full_name", "home", "shell",
 *           "group": {"id": gid+100000000, "gid"}, "groups": [gid, ...], "domain",
 *           "sid": null, "local": false, "builtin": false, "smb": false,
 *           "sshpubkey": null or the SSH public keys, one a line (as TrueNAS's user records)}
 *   group: {"id": gid+100000000, "gid", "name", "users": [member name, ...], "domain",
 *           "sid": null, "local": false, "builtin": false, "smb": false} */
#ifndef DIR_RECORD_JSON_H
#define DIR_RECORD_JSON_H

#include "record.h"

/* The largest record either side takes: one the writers print is one the readers read back
 * (a restarted dird that cannot read a record discards the whole cache).  A group of a
 * million members with long names is some 30 MB; json-c parses an int's length at most. */
#define RECORD_JSON_MAX (1u << 30)

/* A malloc'd JSON string, or NULL when out of memory or over RECORD_JSON_MAX. */
char *record_user_to_json(const struct dir_user *u);
char *record_group_to_json(const struct dir_group *g);
/* 0 on success; -1 when the text is not a valid record (the struct is left empty). */
int record_user_from_json(const char *text, size_t len, struct dir_user *u);
int record_group_from_json(const char *text, size_t len, struct dir_group *g);
/* The same through json-c alone: what the readers above answer for any text (the tests and
 * the fuzzer compare them). */
int record_user_from_json_c(const char *text, size_t len, struct dir_user *u);
int record_group_from_json_c(const char *text, size_t len, struct dir_group *g);

#endif
