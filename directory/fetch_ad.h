/* What AD adds to a lookup: SIDs in filters, and a user's groups (nested ones too) from
 * tokenGroups, which the DC computes. */
#ifndef DIRD_FETCH_AD_H
#define DIRD_FETCH_AD_H

#include <stdbool.h>

#include "ldap_conn.h"
#include "local_accounts.h"
#include "record.h"
#include "sid.h"

/* The domain's SID, read once per connection from the base entry.  -1 with err set. */
int fetch_ad_domain_sid(struct ldap_conn *c, struct sid *out, char *err, size_t errlen);

/* A filter for the user (or group) with this uid (gid): its objectSid (idmap = rid) or its RFC
 * 2307 attribute (idmap = ad).  0 with *filter set (caller frees), 1 when the id cannot be this
 * domain's, -1 with err set. */
int fetch_ad_id_filter(struct ldap_conn *c, bool user, uint32_t id, char **filter, char *err,
		       size_t errlen);

/* Adds the gids of the groups in the tokenGroups of the user's entry `dn` (every security group
 * it is in, nested ones included) that this domain serves.  -1 with err set. */
int fetch_ad_user_groups(struct ldap_conn *c, const char *dn, struct dir_user *u, char *err,
			 size_t errlen);

/* The user (or else the group) whose objectSid is sid.  1 found (one of *user, *group set; the
 * caller frees), 0 this domain serves no such account, -1 with err set. */
int fetch_ad_by_sid(struct ldap_conn *c, const struct local_accounts *local, const struct sid *sid,
		    struct dir_user **user, struct dir_group **group, char *err, size_t errlen);

#endif
