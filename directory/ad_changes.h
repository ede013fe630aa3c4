/* Active Directory's changes since a USN of one DC: what a poll reads (dird/ad_poll.c).
 *
 * USNs count one DC's own writes: a position means something only on the DC that gave it, and
 * only while that DC's database is the one it was (its invocationId changes when it is
 * restored from a backup).  So a position is the DC's name, its invocationId and its
 * highestCommittedUSN, and a poll that finds another DC, another invocationId or a lower USN
 * must read the whole domain again. */
#ifndef DIRD_AD_CHANGES_H
#define DIRD_AD_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

#include "ldap_conn.h"
#include "local_accounts.h"
#include "record.h"

/* A GUID as text: 8-4-4-4-12 hex digits and a NUL. */
#define AD_GUID_STRING 37

struct ad_position {
	char dc[256];			  /* the DC's dnsHostName */
	char invocation_id[AD_GUID_STRING]; /* of the DC's database (its NTDS Settings) */
	uint64_t usn;			  /* its highestCommittedUSN */
};

/* Reads where the DC c is connected to stands now.  -1 with err set. */
int ad_position_read(struct ldap_conn *c, struct ad_position *p, char *err, size_t errlen);

/* Why a stored position cannot be continued from at `now`: NULL when it can (same DC, same
 * database, a USN no lower), else a reason for the log. */
const char *ad_position_mismatch(const struct ad_position *stored, const struct ad_position *now);

/* A position as one line ("dc1.ad.test 0f2c...-... 4711") and back: for the cache. */
void ad_position_format(const struct ad_position *p, char *out, size_t outlen);
int ad_position_parse(const char *text, struct ad_position *p);

/* What changed: every user and group whose uSNChanged is above the USN, read as a lookup reads
 * it (a user with its groups from tokenGroups, a group with its members, nesting resolved), and
 * the SIDs of accounts that are gone: deleted (tombstones, through the Show Deleted control), or
 * no longer served (out of the filters or bases, a local name or id, out of sync_groups).  A
 * group's change reaches the groups that hold it (their flattened members change too). */
struct ad_change_batch {
	struct dir_user **users;
	size_t n_users;
	struct dir_group **groups;
	size_t n_groups;
	char **gone_sids;	/* S-1-5-21-... */
	size_t n_gone;
};

/* Reads the changes after `since` into b (empty at first).  -1 with err set (b is freed). */
int ad_changes_read(struct ldap_conn *c, const struct local_accounts *local, uint64_t since,
		    struct ad_change_batch *b, char *err, size_t errlen);
void ad_change_batch_free(struct ad_change_batch *b);

#endif
