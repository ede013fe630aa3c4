/* A domain's TLS context: made once from its settings, shared by all its connections. */
#ifndef DIRD_TLS_CTX_H
#define DIRD_TLS_CTX_H

#include <ldap.h>
#include <stdbool.h>

#include "config.h"

/* Gives ld the domain's TLS settings: its tls_reqcert (or, when `lax`, none: a connection that
 * only fetches a certificate to explain why it was refused) and the domain's context for it,
 * made at the first call from tls_ca_file, tls_ca_dir, tls_cert_file and tls_key_file and kept
 * in the domain until dir_config_free (a reload makes new ones from the new settings).
 * Thread safe.  LDAP_SUCCESS, or libldap's error. */
int tls_ctx_use(LDAP *ld, const struct dir_domain *d, bool lax);

#endif
