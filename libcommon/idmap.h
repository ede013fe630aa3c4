/* Active Directory ids: SIDs to uids and gids as winbind's rid and ad backends map them, inside
 * each domain's idmap_range.  AD's names are ad_names.h's. */
#ifndef DIR_IDMAP_H
#define DIR_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Whether domain d may hold this uid or gid: LDAP domains any, AD ones only inside their range. */
bool idmap_domain_takes_id(const struct dir_domain *d, uint32_t id);

/* idmap = rid: id = range low + RID, inside the range. */
bool idmap_rid_to_id(const struct dir_domain *d, uint32_t rid, uint32_t *id);
bool idmap_id_to_rid(const struct dir_domain *d, uint32_t id, uint32_t *rid);

#endif
