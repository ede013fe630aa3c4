/* The messages of systemd's io.systemd.UserDatabase varlink interface (libcommon/protocol.h):
 * calls parsed, replies and records built, with json-c.  No state: dird/sockets/userdb.c uses them on
 * its connections, tests/unit/test_userdb.c on its own. */
#ifndef DIRD_USERDB_JSON_H
#define DIRD_USERDB_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"

#define USERDB_INTERFACE "io.systemd.UserDatabase"
#define USERDB_ERROR(name) USERDB_INTERFACE "." name
#define VARLINK_ERROR(name) "org.varlink.service." name

enum userdb_method { USERDB_GET_USER, USERDB_GET_GROUP, USERDB_GET_MEMBERSHIPS };

/* One call.  Strings point into `root` (free it with userdb_call_free). */
struct userdb_call {
	json_object *root;
	enum userdb_method method;
	bool more;		/* the client takes several replies */
	bool oneway;		/* the client wants no reply */
	bool has_id;
	uint32_t id;		/* uid (GetUserRecord) or gid (GetGroupRecord) */
	const char *user;	/* userName: GetUserRecord, GetMemberships */
	const char *group;	/* groupName: GetGroupRecord, GetMemberships */
	const char *service;	/* NULL when not given */
};

enum userdb_parse {
	USERDB_CALL,		/* a call of ours, in `call` */
	USERDB_REFUSE,		/* a call to answer with error `error` (and its parameter) */
	USERDB_GARBAGE,		/* not a varlink call: the connection is closed */
};

/* Parses one message (its bytes without the NUL).  A name with a NUL inside becomes "", which
 * names nobody.  With USERDB_REFUSE, *error is the error to send and *key, *value the one
 * parameter it carries (NULL when none); call->root still needs freeing. */
enum userdb_parse userdb_parse_call(const char *msg, size_t len, struct userdb_call *call,
				    const char **error, const char **key, const char **value);
void userdb_call_free(struct userdb_call *call);

/* A user record: userName, uid, gid, realName, homeDirectory, shell, emailAddress, memberOf
 * (the n_groups names), disposition "regular", service, and dirObjectSid for AD.  A text field
 * that is not UTF-8 is left out (JSON must be).  NULL when out of memory or when the name is
 * not UTF-8. */
json_object *userdb_user_record(const struct dir_user *u, const char *service,
				const char *const *groups, size_t n_groups);
/* A group record: groupName, gid, disposition, service, dirObjectSid.  Its members are
 * answered by GetMemberships, the interface's one authority on membership. */
json_object *userdb_group_record(const struct dir_group *g, const char *service);
/* The parameters of a record reply, {"record": ..., "incomplete": false}; takes record. */
json_object *userdb_record_reply(json_object *record);
/* The parameters of a membership reply, {"userName": ..., "groupName": ...}. */
json_object *userdb_membership_reply(const char *user, const char *group);

/* Serializes parameters (taken) as plain JSON into params; false when it does not fit. */
bool userdb_serialize(json_object *parameters, struct buf *params);
/* Appends a reply message, {"parameters": <params>[, "continues": true]} and its NUL. */
void userdb_put_reply(struct buf *out, const struct buf *params, bool continues);
/* Appends an error message, {"error": error, "parameters": {key: value}} and its NUL. */
void userdb_put_error(struct buf *out, const char *error, const char *key, const char *value);

#endif
