/* Why a TLS connection to a directory failed.  libldap says only that it failed; this looks at
 * the server's certificate itself (fetched on a second connection that does not check it) and
 * says which check it fails: the host name, the CA, the dates. */
#ifndef DIRD_TLS_DIAGNOSE_H
#define DIRD_TLS_DIAGNOSE_H

#include <ldap.h>
#include <stddef.h>

#include "config.h"

/* Checks the DER certificate `cert` against the domain's CAs (tls_ca_file, tls_ca_dir, else the
 * system's) and `host`; writes a sentence to out, empty when it passes both. */
void tls_explain_certificate(const struct dir_domain *d, const struct berval *cert,
			     const char *host, char *out, size_t outlen);

#endif
