#include "idmap.h"

bool idmap_domain_takes_id(const struct dir_domain *d, uint32_t id)
{
	return d->type != DIR_DOMAIN_AD || (id >= d->idmap_low && id <= d->idmap_high);
}

bool idmap_rid_to_id(const struct dir_domain *d, uint32_t rid, uint32_t *id)
{
	if (rid > d->idmap_high - d->idmap_low)
		return false;
	*id = d->idmap_low + rid;
	return true;
}

bool idmap_id_to_rid(const struct dir_domain *d, uint32_t id, uint32_t *rid)
{
	if (id < d->idmap_low || id > d->idmap_high)
		return false;
	*rid = id - d->idmap_low;
	return true;
}
