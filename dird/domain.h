/* Each domain online or offline, and the probes that bring it back (domain.c). */
#ifndef DIRD_DOMAIN_H
#define DIRD_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "dird.h"

/* All called with lock held. */
void domain_online_locked(struct dird *d, size_t i, const char *server);
void domain_offline_locked(struct dird *d, size_t i, const char *error);
bool domain_usable_locked(const struct dird *d, size_t i);
bool any_domain_usable_locked(const struct dird *d);
/* Starts due probes of offline domains; marks a domain offline when the worker has waited
 * on it for more than half of nss_timeout. */
void domain_tick_locked(struct dird *d);

#endif
