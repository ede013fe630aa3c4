/* Ranged retrieval (MS-ADTS 3.1.1.3.1.3.3): AD sends a big group's members a slice at a time,
 * as "member;range=0-1499" (MaxValRange), and the rest must be asked for, "member;range=1500-*",
 * until a slice ends with '*'.  A plain "member" attribute never comes with it. */
#ifndef DIRD_MEMBER_RANGE_H
#define DIRD_MEMBER_RANGE_H

#include <ldap.h>
#include <stdint.h>

#include "ldap_conn.h"
#include "nesting.h"

/* More slices than this (1.5 million members at AD's 1,500 a slice) are not asked for. */
#define MAX_RANGE_SLICES 1000

/* Whether the attribute description `desc` is a slice of attr ("member;range=LOW-HIGH", any
 * case): 1 with *next the low bound of the next slice (0: this one is the last), 0 when it is
 * not a slice of attr, -1 when it is a malformed one. */
int member_range_parse(const char *desc, const char *attr, uint32_t *next);

/* Adds to dns the members entry e sends in slices of attr, asking its server (c, whose handle
 * is ld) for the others.  0 (also when e has no slices), -1 with err set. */
int member_range_fetch(struct ldap_conn *c, LDAP *ld, LDAPMessage *e, const char *attr,
		       struct dn_list *dns, char *err, size_t errlen);

#endif
