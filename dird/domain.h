/* Each domain online or offline, and the probes that bring it back (domain.c). */
#ifndef DIRD_DOMAIN_H
#define DIRD_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "dird.h"
#include "ldap_conn.h"

/* Every thread that talks to a domain (the worker, PAM requests, refreshes, probes) opens its
 * connection with domain_open and says how it went with domain_report, which marks the domain
 * online or offline.  Neither is called with lock held. */
/* Opens c to domain i as ldap_conn_open does, the server that answered last tried first.  0, or
 * -1 with err set. */
int domain_open(struct dird *d, size_t i, struct ldap_conn *c, char *err, size_t errlen);
/* ok: domain i answered, through c's server; else it is offline, for the reason in err. */
void domain_report(struct dird *d, size_t i, const struct ldap_conn *c, bool ok, const char *err);

/* All called with lock held. */
void domain_online_locked(struct dird *d, size_t i, const char *server);
void domain_offline_locked(struct dird *d, size_t i, const char *error);
bool domain_usable_locked(const struct dird *d, size_t i);
bool any_domain_usable_locked(const struct dird *d);
/* Starts due probes of offline domains; marks a domain offline when the worker has waited
 * on it for more than half of nss_timeout. */
void domain_tick_locked(struct dird *d);

#endif
