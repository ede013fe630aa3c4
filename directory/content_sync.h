/* RFC 4533 content synchronization, the client's side of the protocol: the sync request
 * control on a search, and the messages that come back (entries with their syncState, syncInfo
 * intermediates, the search's end), read one at a time.  Driven by the caller with ldap_result
 * (LDAP_MSG_ONE) rather than libldap's ldap_sync_* API, whose 2.5 version hands a burst of
 * messages read at once to its handlers as one. */
#ifndef DIRD_CONTENT_SYNC_H
#define DIRD_CONTENT_SYNC_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

#define CONTENT_SYNC_OID "1.3.6.1.4.1.4203.1.9.1.1"	    /* the sync request control */
#define CONTENT_SYNC_UUID_LEN 36			    /* an entryUUID as text */
#define CONTENT_SYNC_REFRESH_REQUIRED 4096		    /* e-syncRefreshRequired */

/* Whether the server's root DSE lists the sync request control; bounded by timeout seconds. */
bool content_sync_offered(LDAP *ld, unsigned timeout);

/* Starts a sync search: refreshAndPersist (persist) or refreshOnly, from cookie (NULL: from
 * nothing).  LDAP_SUCCESS with *msgid set, or the error. */
int content_sync_search(LDAP *ld, const char *base, int scope, const char *filter,
			const char *const *attrs, bool persist, const struct berval *cookie,
			int *msgid);

enum sync_msg_kind {
	SYNC_MSG_ENTRY,		/* state, uuid (and the entry itself, for the caller to map) */
	SYNC_MSG_INFO,		/* info and what goes with it */
	SYNC_MSG_DONE,		/* the search ended: result, error */
	SYNC_MSG_IGNORED,	/* a referral, or another intermediate */
};

enum sync_state { SYNC_PRESENT = 0, SYNC_ADD = 1, SYNC_MODIFY = 2, SYNC_DELETE = 3 };

enum sync_info {
	SYNC_INFO_NEW_COOKIE,
	SYNC_INFO_REFRESH_DELETE,	/* the end of a delete phase */
	SYNC_INFO_REFRESH_PRESENT,	/* the end of a present phase */
	SYNC_INFO_ID_SET,		/* uuids: deleted (refresh_deletes) or present */
};

struct sync_msg {
	enum sync_msg_kind kind;
	enum sync_state state;
	char uuid[CONTENT_SYNC_UUID_LEN + 1];	/* ENTRY: "" when its syncUUID is no UUID */
	char *dn;			/* ENTRY: malloc'd */
	enum sync_info info;
	bool refresh_done;		/* REFRESH_DELETE, REFRESH_PRESENT: the refresh is over */
	bool refresh_deletes;		/* ID_SET: deletes; DONE: the refresh was a delete phase */
	char (*uuids)[CONTENT_SYNC_UUID_LEN + 1];
	size_t n_uuids;
	int result;			/* DONE: the LDAP result code */
	char error[256];		/* DONE: the server's message, if any */
	struct berval *cookie;		/* NULL when the message carries none */
};

/* Reads m (a message of the sync search).  0, or -1 with err set when it is malformed. */
int content_sync_parse(LDAP *ld, LDAPMessage *m, struct sync_msg *out, char *err, size_t errlen);
void sync_msg_free(struct sync_msg *m);

#endif
