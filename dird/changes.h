/* Applying a batch of changes from a domain's change stream (RFC 4533 content sync, AD's USN
 * polling) to the in-memory db and the tdb cache at once, with the stream's position.
 *
 * A stream reads entries from its server and maps them as a refresh does (ldap_map.h: min_id
 * and the filters' own checks there); changes_apply applies what a refresh applies beside that:
 * local accounts win, clashes of names and ids settled as fetch_all settles them, sync_groups,
 * and each user's gid list kept true as groups change.  Entries are known by their server id
 * (entryUUID, objectGUID, an AD poll's SIDs), and by DN where groups name members by DN: the tdb
 * files keep, for each entry a stream put there, its id and name (and there its DN) under keys
 * of their own (stream_keys.h), so that a delete, a present phase and a rename find it after a
 * restart.
 *
 * A batch is applied whole or not at all: the records, those keys and the stream's new position
 * (an opaque cookie, under the stream's name) go into the two tdb files in one transaction
 * each (store_txn), the position into both, and the db is changed under the same locks.  A
 * malformed change or position, or a stream key the files hold damaged (a batch that is not a
 * whole read), gives CHANGES_REFUSED with nothing applied and the stored position dropped: the
 * stream starts over from no position (a full read of what it serves), after a wait.  Its builder leaves out an entry it cannot name (no id, or a malformed one) and
 * drops a DN over CHANGES_MAX_DN (it is optional), so that one entry refuses no batch.  A position
 * that is not the one the stream last stored (a full refresh replaced the files since, putting
 * back the one it took before it read: sync_keep.h) gives CHANGES_RESYNC with the files' one
 * kept: the stream goes on from it. */
#ifndef DIRD_CHANGES_H
#define DIRD_CHANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "dird.h"
#include "text_pool.h"

struct dn_list;

#define CHANGES_MAX_ID 128	   /* bytes of an entry's server id, as text */
#define CHANGES_MAX_DN 4096
#define CHANGES_MAX_POSITION 4096  /* bytes of a cookie */
#define CHANGES_MAX_STREAM 128	   /* bytes of a stream's name */

enum change_op {
	CHANGE_PUT,	/* an entry added or modified (or renamed): user or group, or neither */
	CHANGE_DELETE,	/* an entry gone, or no longer in the filter: by id, else by DN (found
			 * where DNs are kept: members by DN) */
	CHANGE_PRESENT,	/* an entry unchanged (a present phase): by id */
};

struct change {
	enum change_op op;
	/* PUT of a user: given its gid list before the batch was applied (changes.c); beside op,
	 * in what would be padding (a whole read holds a million changes) */
	bool linked;
	char *id;		/* entryUUID or objectGUID, as text: PUT and PRESENT need it */
	char *dn;		/* may be NULL */
	/* PUT: the entry mapped as a refresh maps it, one of the two; neither when the mapping
	 * refused it (below min_id, a bad name...): the copy served so far, if any, goes. */
	struct dir_user *user;
	struct dir_group *group;
	/* PUT of a group of an LDAP domain with members by DN: its member DNs (normalized, as is
	 * dn), resolved into member names when applied (member_dns.h); the batch owns it. */
	struct dn_list *member_dns;
};

/* The kinds of entry a stream serves: its deletes, presents and refused puts name entries of
 * those only. */
enum change_kinds {
	CHANGES_USERS_AND_GROUPS,	/* an AD poll: both in one batch, a tombstone of either */
	CHANGES_USERS_ONLY,
	CHANGES_GROUPS_ONLY,
};

struct change_batch {
	size_t domain;		/* index in cfg.domains */
	const char *stream;	/* names the position: one per stream, e.g. "ldap1/users" */
	/* An RFC 4533 stream serves one kind: a resumed stream is sent, by entryUUID alone, a
	 * delete for each entry changed since its position that its search does not return
	 * (slapd's session log: a group changed while dird was down is a delete to the users
	 * stream), which must not take the group; and an entry both posixAccount and posixGroup
	 * has one id in both kinds. */
	enum change_kinds kinds;
	struct change *changes;	/* the batch owns the strings and records; changes_apply takes
				 * the records it keeps (the pointers become NULL), and may
				 * free the changes of a complete batch (n 0, changes NULL) */
	size_t n, cap;
	/* The changes' ids and DNs (a million of them, in a whole read), each given back once
	 * its change is applied. */
	struct text_pool text;
	/* The batch lists every user (group) of the domain the stream serves, put or present:
	 * the others go.  A refresh phase from no position, or a present phase. */
	bool complete_users, complete_groups;
	/* The position the stream stored last (NULL: none): a batch that is not complete applies
	 * only on top of it. */
	const void *expected;
	size_t expected_len;
	/* The position after this batch; NULL keeps the stored one. */
	const void *position;
	size_t position_len;
	/* Out: a group of sync_groups gained members db does not hold: the stream must read the
	 * users again (from no position) to serve them. */
	bool users_incomplete;
	/* Out: an entry went whose name or id another entry lost a clash over (settle_user): the
	 * stream must read its kind again (from no position) to serve that one. */
	bool read_again;
	/* Out: members by DN, the groups to read again from the server (member_dns_take_went). */
	struct dn_list *reread_groups;
};

enum changes_result {
	CHANGES_APPLIED,
	CHANGES_RESYNC,	/* nothing applied: start over from the stored position (none: whole) */
	CHANGES_FAILED,	/* nothing applied (the files cannot be written, out of memory): retry */
	CHANGES_REFUSED,	/* nothing applied, a malformed change or position: the stored
				 * position is dropped; read everything again, after a wait (the
				 * server may send the same again) */
};

/* Adds one change; the batch takes id, dn and the record (freed on failure; id and dn are freed
 * at once, the change holding copies of them).  0 or -1 (out of memory). */
int change_batch_add(struct change_batch *b, enum change_op op, char *id, char *dn,
		     struct dir_user *user, struct dir_group *group);
/* Frees the changes (and records changes_apply did not take); the batch can be filled again. */
void change_batch_clear(struct change_batch *b);

/* Applies b, then mark_dirty_locked.  Takes store_lock and lock itself.  A complete batch's
 * changes may be freed once applied, before the files are written (b->n is then 0): the
 * caller counts them before. */
enum changes_result changes_apply(struct dird *d, struct change_batch *b, char *err, size_t errlen);

/* The position stored for stream, malloc'd (*len set), NULL when there is none or the two
 * files disagree on it (a crash between their commits). */
void *changes_position(struct dird *d, const char *stream, size_t *len);
/* Drops the stored position of stream: its next start reads everything. */
void changes_forget_position(struct dird *d, const char *stream);
/* The name domain's stream last put the entry with this server id under (its tdb keys),
 * malloc'd; NULL when none.  Takes store_lock: call it without lock. */
char *changes_name_of_id(struct dird *d, size_t domain, enum store_kind kind, const char *id);

#endif
