/* LDAP entries from a server to records: the fuzz input becomes the attributes of a real
 * SearchResultEntry (BER-encoded with liblber), which libldap reads from a socket as it would
 * from a server; every mapper dird has then reads it: users and groups under RFC 2307,
 * RFC 2307bis (members by name and by DN), AD with idmap = rid and with idmap = ad (objectSid as
 * raw bytes), SSH public keys, and the account state attributes.  Input: repeated [u8 name length][name][u8 value count]
 * ([u16 value length][value])... */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "account_policy.h"
#include "fuzz_ldap.h"
#include "ldap_map.h"
#include "nesting.h"

#define MAX_ATTRS 32
#define MAX_VALUES 16

static struct dir_domain domains[4];

static void domain_init(struct dir_domain *d, const char *name, enum dir_domain_type type,
			enum dir_schema schema, enum dir_idmap idmap)
{
	memset(d, 0, sizeof(*d));
	d->name = (char *)name;
	d->type = type;
	d->schema = schema;
	d->idmap = idmap;
	d->min_id = 1000;
	d->workgroup = "ADTEST";
	d->realm = "AD.TEST";
	d->idmap_low = 100000001;
	d->idmap_high = 200000000;
	d->home_template = type == DIR_DOMAIN_AD ? "/home/%D/%U" : "/home/%U";
	d->default_shell = "/bin/sh";
	bool ad = type == DIR_DOMAIN_AD;
	static char *rfc2307_members[] = { "memberUid" }, *bis_members[] = { "member", "uniqueMember",
									     "memberUid" };
	d->attrs = (struct dir_attrs){ ad ? "sAMAccountName" : "uid", "uidNumber", "gidNumber",
				       ad ? "displayName" : "gecos", ad ? "unixHomeDirectory" : "homeDirectory",
				       "loginShell", "mail", ad ? "sAMAccountName" : "cn",
				       schema == DIR_SCHEMA_RFC2307 ? rfc2307_members : bis_members,
				       schema == DIR_SCHEMA_RFC2307 ? 1 : ad ? 1 : 3, "sshPublicKey" };
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	signal(SIGPIPE, SIG_IGN);
	domain_init(&domains[0], "ldap", DIR_DOMAIN_LDAP, DIR_SCHEMA_RFC2307, DIR_IDMAP_RID);
	domain_init(&domains[1], "bis", DIR_DOMAIN_LDAP, DIR_SCHEMA_RFC2307BIS, DIR_IDMAP_RID);
	domain_init(&domains[2], "adrid", DIR_DOMAIN_AD, DIR_SCHEMA_RFC2307BIS, DIR_IDMAP_RID);
	domain_init(&domains[3], "adad", DIR_DOMAIN_AD, DIR_SCHEMA_RFC2307BIS, DIR_IDMAP_AD);
	return 0;
}

/* The input as one SearchResultEntry and a SearchResultDone, flattened. */
static struct berval *encode(const uint8_t *data, size_t size)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	if (!ber)
		return NULL;
	ber_printf(ber, "{it{s{", 1, LDAP_RES_SEARCH_ENTRY, "cn=entry,dc=example,dc=test");
	size_t pos = 0;
	for (int a = 0; a < MAX_ATTRS && pos < size; a++) {
		size_t nlen = data[pos++];
		if (nlen == 0 || nlen > size - pos)
			break;
		char name[256];
		memcpy(name, data + pos, nlen);
		name[nlen] = '\0';
		pos += nlen;
		size_t nvals = pos < size ? data[pos++] % (MAX_VALUES + 1) : 0;
		ber_printf(ber, "{s[", name);
		for (size_t v = 0; v < nvals && size - pos >= 2; v++) {
			size_t vlen = (size_t)data[pos] << 8 | data[pos + 1];
			pos += 2;
			if (vlen > size - pos)
				vlen = size - pos;
			ber_printf(ber, "o", (const char *)data + pos, (ber_len_t)vlen);
			pos += vlen;
		}
		ber_printf(ber, "]}");
	}
	ber_printf(ber, "}}}");
	ber_printf(ber, "{it{ess}}", 1, LDAP_RES_SEARCH_RESULT, (ber_int_t)0, "", "");
	struct berval *bv = NULL;
	ber_flatten(ber, &bv);
	ber_free(ber, 1);
	return bv;
}

static void map_entry(LDAP *ld, LDAPMessage *e)
{
	char why[256];
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		struct dir_user u;
		struct dir_group g;
		struct dn_list dns = { 0 };
		if (ldap_map_user(ld, e, &domains[i], &u, why, sizeof(why)) == MAP_OK)
			dir_user_clear(&u);
		if (ldap_map_group(ld, e, &domains[i], &g, &dns, why, sizeof(why)) == MAP_OK)
			dir_group_clear(&g);
		dn_list_free(&dns);
	}
	struct account_state st;
	char msg[256];
	account_state_read(ld, e, &st);
	account_check(&st, 1700000000, msg, sizeof(msg));
}

static void read_entries(LDAP *ld)
{
	int msgid;
	LDAPMessage *res = NULL;
	struct timeval tv = { 0, 200000 };
	if (ldap_search_ext(ld, "dc=example,dc=test", LDAP_SCOPE_SUBTREE, "(objectClass=*)", NULL, 0,
			    NULL, NULL, NULL, 0, &msgid) == LDAP_SUCCESS &&
	    ldap_result(ld, LDAP_RES_ANY, LDAP_MSG_ALL, &tv, &res) > 0)
		for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e))
			map_entry(ld, e);
	ldap_msgfree(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ldap_serve(encode(data, size), read_entries);
	return 0;
}
