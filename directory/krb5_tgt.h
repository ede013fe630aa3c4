/* dird's own Kerberos ticket, for SASL/GSSAPI binds: got from the domain's keytab into a
 * memory ticket cache of the domain's own, and got again before it expires. */
#ifndef DIRD_KRB5_TGT_H
#define DIRD_KRB5_TGT_H

#include <stddef.h>

#include "config.h"

/* Renew when less than this is left. */
#define TGT_RENEW_BEFORE 300

/* Makes sure the domain's ticket cache holds a ticket valid for TGT_RENEW_BEFORE seconds more,
 * getting one from `keytab` as sasl_authid (else the keytab's first principal) if not.  Writes
 * the cache's name to ccname.  0, or -1 with err set. */
int krb5_tgt_ensure(const struct dir_domain *d, char *ccname, size_t ccnamelen, char *err,
		    size_t errlen);

#endif
