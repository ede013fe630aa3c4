#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "module_config.h"
#include "run_case.h"
#include "secret.h"

static char dir[] = "/tmp/dir-test-config-XXXXXX";

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

/* Loads text and returns the error ("" on success). */
static const char *load(const char *text, struct dir_config *cfg)
{
	static char err[1024];
	err[0] = '\0';
	if (dir_config_load(write_file("dird.conf", text, 0644), cfg, err, sizeof(err)) == 0)
		return "";
	return err;
}

START_TEST(full_config_parses)
{
	struct dir_config c;
	const char *err = load("# comment\n; also a comment\n[global]\ncache_dir = /var/x\n"
			       "run_dir=/run/x\nrefresh_interval = 3600\nenumerate = no\n"
			       "nss_timeout = 0.5\nlog_level = debug\n"
			       "userdb_socket = /run/systemd/userdb/dird\nuserdb_enumerate = yes\n\n"
			       "[domain/example]\ntype = ldap\nuri = ldap://a:389 ldap://b\n"
			       "base_dn = dc=example,dc=test\ngroup_base = ou=g,dc=example,dc=test\n"
			       "min_id = 2000\ndefault_shell = /bin/bash\nhome_template = /u/%U\n"
			       "timeout = 5\naccess_groups = admins, ops  wheel\n"
			       "access_filter = (&(objectClass=posixAccount)(!(uid=x)))\n", &c);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(c.cache_dir, "/var/x");
	ck_assert_str_eq(c.run_dir, "/run/x");
	ck_assert_uint_eq(c.refresh_interval, 3600);
	ck_assert(!c.enumerate);
	ck_assert_uint_eq(c.nss_timeout_ms, 500);
	ck_assert_int_eq(c.log_level, DIR_LOG_DEBUG);
	ck_assert_str_eq(c.userdb_socket, "/run/systemd/userdb/dird");
	ck_assert(c.userdb_enumerate);
	ck_assert_uint_eq(c.n_domains, 1);
	ck_assert_str_eq(c.domains[0].name, "example");
	ck_assert_str_eq(c.domains[0].uri, "ldap://a:389 ldap://b");
	ck_assert_str_eq(c.domains[0].user_base, "dc=example,dc=test");
	ck_assert_str_eq(c.domains[0].group_base, "ou=g,dc=example,dc=test");
	ck_assert_uint_eq(c.domains[0].min_id, 2000);
	ck_assert_uint_eq(c.domains[0].timeout, 5);
	ck_assert_uint_eq(c.domains[0].n_access_groups, 3);
	ck_assert_str_eq(c.domains[0].access_groups[0], "admins");
	ck_assert_str_eq(c.domains[0].access_groups[2], "wheel");
	ck_assert_str_eq(c.domains[0].access_filter, "(&(objectClass=posixAccount)(!(uid=x)))");
	dir_config_free(&c);
}
END_TEST

START_TEST(defaults)
{
	struct dir_config c;
	ck_assert_str_eq(load("[domain/a]\nuri = ldap://x\nbase_dn = dc=x\n", &c), "");
	ck_assert_str_eq(c.cache_dir, "/var/cache/dird");
	ck_assert_str_eq(c.run_dir, "/run/dird");
	ck_assert_uint_eq(c.refresh_interval, 86400);
	ck_assert(c.enumerate);
	ck_assert_uint_eq(c.nss_timeout_ms, 2000);
	ck_assert_uint_eq(c.domains[0].min_id, 1000);
	ck_assert_str_eq(c.domains[0].default_shell, "/bin/sh");
	ck_assert_str_eq(c.domains[0].home_template, "/home/%U");
	ck_assert_int_eq(c.domains[0].auth, DIR_AUTH_LDAP);
	ck_assert_int_eq(c.domains[0].tls_reqcert, DIR_TLS_DEMAND);
	ck_assert_str_eq(c.domains[0].attrs.user_name, "uid");
	ck_assert_uint_eq(c.domains[0].attrs.n_member, 1);
	ck_assert_str_eq(c.domains[0].attrs.member[0], "memberUid");
	ck_assert_str_eq(c.domains[0].attrs.ssh_key, "sshPublicKey");
	ck_assert_str_eq(c.domains[0].user_filter, "(objectClass=posixAccount)");
	ck_assert_int_eq(c.domains[0].user_scope, DIR_SCOPE_SUB);
	ck_assert_uint_eq(c.domains[0].n_sync_groups, 0);
	ck_assert(!c.domains[0].starttls);
	ck_assert_ptr_null(c.domains[0].tls_ca_file);
	ck_assert_str_eq(c.domains[0].krb5_keytab, "/etc/krb5.keytab");
	ck_assert_str_eq(c.host_keytab, "/etc/krb5.keytab");
	ck_assert_uint_eq(c.n_realms, 0);
	ck_assert_str_eq(c.krb5_ccache_dir, "/tmp");
	ck_assert_ptr_null(c.krb5_config);
	ck_assert_ptr_null(c.userdb_socket); /* not served */
	ck_assert(!c.userdb_enumerate);
	ck_assert_uint_eq(c.domains[0].timeout, 10);
	dir_config_free(&c);
}
END_TEST

/* Each bad input gives file:line and names the problem. */
static const struct {
	const char *text;
	const char *expect;
} bad[] = {
	{ "[global]\nfoo = 1\n", ":2: unknown key 'foo' in [global]" },
	{ "[global]\n\nnss_timeout = soon\n", ":3: nss_timeout: 'soon'" },
	{ "[global]\nnss_timeout = 1.\n", ":2: nss_timeout" },
	{ "[global]\nnss_timeout = 99999999999999999999\n", ":2: nss_timeout" },
	{ "[global]\nenumerate = maybe\n", ":2: enumerate: 'maybe' is not yes or no" },
	{ "[global]\nrefresh_interval = -5\n", ":2: refresh_interval" },
	{ "[global]\nrefresh_interval = 18446744073709551617\n", ":2: refresh_interval" },
	{ "[global]\ncache_dir = relative\n", ":2: cache_dir: 'relative' is not an absolute path" },
	{ "[global\n", ":1: malformed section header" },
	{ "[global]\njust words\n", ":2: expected 'key = value'" },
	{ "key = 1\n", ":1: key 'key' before any [section]" },
	{ "[weird]\n", ":1: unknown section [weird]" },
	{ "[domain/a b]\n", ":1: unknown section" },
	{ "[global]\n[global]\n", ":2: [global] appears twice" },
	{ "[domain/a]\nuri = http://x\n", ":2: uri: 'http://x' must start with ldap://" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\n\nbase_dn = dc=y\n", ":5: base_dn is given twice in [domain/a] (first on line 3): keep one" },
	{ "[global]\nlog_level = info\n[domain/a]\nuri = ldap://x\nbase_dn = dc=x\n[global]\n", ":6: [global] appears twice" },
	{ "[domain/a]\nbsae_dn = dc=x\n", ":2: unknown key 'bsae_dn' in [domain/a]: did you mean base_dn?" },
	{ "[domain/a]\nuser_fliter = (a=b)\n", ":2: unknown key 'user_fliter' in [domain/a]: did you mean user_filter?" },
	{ "[global]\nuri = ldap://x\n", ":2: unknown key 'uri' in [global]: it belongs in [domain/NAME]" },
	{ "[domain/a]\nfrobnicate = 1\n", ":2: unknown key 'frobnicate' in [domain/a]" },
	{ "[domain/a]\n\nuri = ldap://127.0.0.1:389x\n", ":3: uri: 'ldap://127.0.0.1:389x' is not a valid LDAP uri" },
	{ "[domain/a]\nuri = ldap://a ldap://b:99999\n", ":2: uri: 'ldap://b:99999': port 99999 is not in 1 ... 65535" },
	{ "[domain/a]\nuri = ldap://a ldaps://\n", ":2: uri: 'ldaps://' names no host" },
	{ "[domain/a]\nuri = ldap://a http://b\n", ":2: uri: 'http://b' must start with ldap://" },
	{ "[domain/a]\nbogus = 1\n", ":2: unknown key 'bogus' in [domain/a]" },
	{ "[domain/a]\nmin_id = 4294967295\n", ":2: min_id" },
	{ "[domain/a]\ntimeout = 0\n", ":2: timeout" },
	{ "[domain/a]\ntype = nis\n", ":2: type: 'nis' is not ldap or ad" },
	{ "[domain/a]\nuri = ldap://x\n", ":1: [domain/a]: base_dn is required" },
	{ "\n[domain/b]\nbase_dn = x\n", ":2: [domain/b]: uri is required" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nbind_dn = cn=y\n", "bind_dn needs bind_password_file" },
	{ "[domain/a]\nbase_dn =\n", ":2: base_dn: empty value" },
	{ "[domain/a]\nbase_dn = a\x01b\n", ":2: base_dn: control character" },
	{ "[domain/a]\nschema = ad\n", ":2: schema: 'ad' is not rfc2307 or rfc2307bis" },
	{ "[domain/a]\nuser_scope = subtree\n", ":2: user_scope: 'subtree' is not sub, one or base" },
	{ "[domain/a]\nuid_attr = uid number\n", ":2: uid_attr: 'uid number' is not an attribute name" },
	{ "[domain/a]\nmember_attr = member)(x\n", ":2: member_attr: 'member)(x' is not an attribute name" },
	{ "[domain/a]\nmember_attr = , ,\n", ":2: member_attr: empty value" },
	{ "[domain/a]\nmember_attr = member memberUid MEMBER\n", ":2: member_attr: MEMBER is named twice" },
	{ "[domain/a]\nmember_attr = a b c d e f g h i\n", ":2: member_attr: more than 8 attributes" },
	{ "[domain/a]\nssh_key_attr = ssh key\n", ":2: ssh_key_attr: 'ssh key' is not an attribute name" },
	{ "[domain/a]\nuser_filter = objectClass=person\n", ":2: user_filter" },
	{ "[domain/a]\nsync_groups = a:b\n", ":2: sync_groups: 'a:b' is not a valid group name" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nbind_dn = cn=y\nbind_password_file = /p\nkeytab = /k\n", "keytab (a GSSAPI bind) and bind_dn (a simple bind) exclude each other" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nsasl_authid = host/x\n", "sasl_authid needs keytab" },
	{ "[domain/a]\ntls = ssl\n", ":2: tls: 'ssl' is not starttls or none" },
	{ "[domain/a]\ntls_reqcert = hard\n", ":2: tls_reqcert: 'hard' is not never, allow, try or demand" },
	{ "[domain/a]\ntls_ca_file = ca.pem\n", ":2: tls_ca_file: 'ca.pem' is not an absolute path" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\ntls_cert_file = /c\n", "tls_cert_file and tls_key_file go together" },
	{ "[domain/a]\nallow_password_change = si\n", ":2: allow_password_change: 'si' is not yes or no" },
	{ "[domain/a]\nauth = ntlm\n", ":2: auth: 'ntlm' is not ldap or krb5" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nauth = krb5\n", "auth = krb5 needs krb5_realm" },
	{ "[domain/a]\nkrb5_realm = A@B\n", ":2: krb5_realm: 'A@B' is not a realm name" },
	{ "[domain/a]\nkrb5_realm = example.test\n", ":2: krb5_realm: 'example.test' has lower case letters: Kerberos realms are upper case (krb5_realm = EXAMPLE.TEST)" },
	{ "[realm/example.lan]\n", ":1: [realm/example.lan]: Kerberos realms are upper case: [realm/EXAMPLE.LAN]" },
	{ "[realm/.LAN]\n", ":1: [realm/.LAN]: not a realm name" },
	{ "[realm/A B]\n", ":1: [realm/A B]: not a realm name" },
	{ "[realm/A]\n[realm/A]\n", ":2: [realm/A] appears twice" },
	{ "[realm/A]\nkdc = kdc1 kdc:x\n", ":2: kdc: 'kdc:x' is not a host, host:port or [address]:port" },
	{ "[realm/A]\nkdc = kdc:70000\n", ":2: kdc: 'kdc:70000' is not a host" },
	{ "[realm/A]\nadmin_server = [zz]:749\n", ":2: admin_server: '[zz]:749'" },
	{ "[realm/A]\nkpasswd_server = ,\n", ":2: kpasswd_server: empty value" },
	{ "[realm/A]\nlocal_users = perhaps\n", ":2: local_users: 'perhaps' is not yes or no" },
	{ "[realm/A]\nkdcs = x\n", ":2: unknown key 'kdcs' in [realm/A]" },
	{ "[kerberos]\nlibdefaults = forwardable\n", ":2: libdefaults: 'forwardable' is not a krb5.conf relation 'tag = value'" },
	{ "[kerberos]\nappdefaults = pam = {\n", ":2: appdefaults: 'pam = {' is not a krb5.conf relation" },
	{ "[kerberos]\nlibdefaults = a b = c\n", ":2: libdefaults: 'a b = c'" },
	{ "[kerberos]\nkeytab = krb5.keytab\n", ":2: keytab: 'krb5.keytab' is not an absolute path" },
	{ "[kerberos]\nrealm = X\n", ":2: unknown key 'realm' in [kerberos]" },
	{ "[kerberos]\n[kerberos]\n", ":2: [kerberos] appears twice" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nkeytab_principal = host/x\nkeytab = /k\n", ":1: [domain/a]: keytab_principal (a GSSAPI bind with the host keytab) excludes keytab, sasl_authid and bind_dn" },
	{ "[domain/a]\nkrb5_keytab = krb5.keytab\n", ":2: krb5_keytab: 'krb5.keytab' is not an absolute path" },
	{ "[global]\nkrb5_ccache_dir = tmp\n", ":2: krb5_ccache_dir" },
	{ "[global]\noffline_credentials_expiration = 9999\n", ":2: offline_credentials_expiration" },
	{ "[global]\ncache_credentials = sometimes\n", ":2: cache_credentials: 'sometimes' is not yes or no" },
	{ "[global]\nuserdb_socket = dird\n", ":2: userdb_socket: 'dird' is not the absolute path of a socket" },
	{ "[global]\nuserdb_socket = /run/systemd/userdb/\n", ":2: userdb_socket: '/run/systemd/userdb/' is not" },
	{ "[global]\nuserdb_socket = /run/..\n", ":2: userdb_socket: '/run/..' is not" },
	{ "[global]\nuserdb_socket = /run/systemd/userdb/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\n",
	  ":2: userdb_socket: path too long for a socket" },
	{ "[global]\nuserdb_enumerate = all\n", ":2: userdb_enumerate: 'all' is not yes or no" },
	{ "[domain/a]\naccess_groups = ok bad:name\n", ":2: access_groups: 'bad:name' is not a valid group name" },
	{ "[domain/a]\naccess_groups = ,\n", ":2: access_groups: empty value" },
	{ "[domain/a]\naccess_filter = uid=x\n", ":2: access_filter: 'uid=x' is not an LDAP filter" },
	{ "[domain/a]\naccess_filter = (uid=x))(\n", ":2: access_filter" },
	{ "[domain/a]\naccess_filter = (uid=x)(uid=y)\n", ":2: access_filter" },
	{ "[domain/a]\naccess_filter = ((uid=x)\n", ":2: access_filter" },
	{ "[domain/a]\ntype = ad\nworkgroup = x\n", ":1: [domain/a]: type = ad needs realm" },
	{ "[domain/a]\ntype = ad\nrealm = ad.test\n", ":1: [domain/a]: type = ad needs workgroup" },
	{ "[domain/a]\nworkgroup = ABCDEFGHIJKLMNOP\n", ":2: workgroup: 'ABCDEFGHIJKLMNOP' is not a NetBIOS domain name" },
	{ "[domain/a]\nworkgroup = A\\B\n", ":2: workgroup" },
	{ "[domain/a]\nrealm = a b\n", ":2: realm: 'a b' is not a realm name" },
	{ "[domain/a]\nidmap = tdb\n", ":2: idmap: 'tdb' is not rid or ad" },
	{ "[domain/a]\nidmap_range = 200000-100000\n", ":2: idmap_range: 200000 is not below 100000" },
	{ "[domain/a]\nidmap_range = 100000-100000\n", ":2: idmap_range: 100000 is not below" },
	{ "[domain/a]\nidmap_range = 100000-100999\n", ":2: idmap_range: 100000-100999 holds fewer than 10000 ids" },
	{ "[domain/a]\nidmap_range = 500-100000\n", ":2: idmap_range: 500-100000 is not inside 1000-2147000000" },
	{ "[domain/a]\nidmap_range = 10000-3000000000\n", ":2: idmap_range: 10000-3000000000 is not inside" },
	{ "[domain/a]\nidmap_range = 10000-99999999999999999999999\n", ":2: idmap_range: '10000-99999999999999999999999' is not LOW-HIGH" },
	{ "[domain/a]\nidmap_range = -5-100000\n", ":2: idmap_range: '-5-100000' is not LOW-HIGH" },
	{ "[domain/a]\nidmap_range = 10000\n", ":2: idmap_range: '10000' is not LOW-HIGH" },
	{ "[domain/a]\nidmap_range = 10000-20000x\n", ":2: idmap_range: '10000-20000x' is not LOW-HIGH" },
	{ "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nidmap = ad\n", "idmap_range and use_default_domain are for type = ad" },
	{ "[domain/a]\ntype = ad\nrealm = ad.test\nworkgroup = adtest\n[domain/b]\ntype = ad\nrealm = b.test\nworkgroup = b\n",
	  ":5: [domain/b]: idmap_range is required for all but the first AD domain" },
	{ "[domain/a]\ntype = ad\nrealm = ad.test\nworkgroup = adtest\n[domain/b]\ntype = ad\nrealm = b.test\nworkgroup = b\nidmap_range = 150000000-160000000\n",
	  ":5: [domain/b]: idmap_range 150000000-160000000 overlaps [domain/a]'s 100000001-200000000" },
	{ "[domain/a]\ntype = ad\nrealm = ad.test\nworkgroup = adtest\n[domain/b]\ntype = ad\nrealm = b.test\nworkgroup = ADTEST\nidmap_range = 300000000-310000000\n",
	  ":5: [domain/b]: the same workgroup or realm as [domain/a]" },
};

/* A 2307bis tree may hold every kind of group: all three member attributes are read. */
START_TEST(rfc2307bis_defaults_to_every_member_attribute)
{
	struct dir_config c;
	ck_assert_str_eq(load("[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nschema = rfc2307bis\n"
			      "gecos_attr = displayName\n", &c), "");
	const struct dir_attrs *a = &c.domains[0].attrs;
	ck_assert_uint_eq(a->n_member, 3);
	ck_assert_str_eq(a->member[0], "member");
	ck_assert_str_eq(a->member[1], "uniqueMember");
	ck_assert_str_eq(a->member[2], "memberUid");
	ck_assert_str_eq(a->gecos, "displayName");
	dir_config_free(&c);
}
END_TEST

START_TEST(member_attr_takes_a_list)
{
	struct dir_config c;
	ck_assert_str_eq(load("[domain/a]\nuri = ldap://x\nbase_dn = dc=x\n"
			      "member_attr = memberUid, member\tuniqueMember\n"
			      "ssh_key_attr = altSecurityIdentities\n", &c), "");
	const struct dir_attrs *a = &c.domains[0].attrs;
	ck_assert_uint_eq(a->n_member, 3);
	ck_assert_str_eq(a->member[0], "memberUid");
	ck_assert_str_eq(a->member[1], "member");
	ck_assert_str_eq(a->member[2], "uniqueMember");
	ck_assert_str_eq(a->ssh_key, "altSecurityIdentities");
	dir_config_free(&c);
}
END_TEST

START_TEST(ad_defaults)
{
	struct dir_config c;
	ck_assert_str_eq(load("[domain/a]\ntype = ad\nrealm = ad.example.com\nworkgroup = adex\n"
			      "[domain/trusted]\ntype = ad\nrealm = T.TEST\nworkgroup = T\n"
			      "uri = ldaps://dc.t.test\nidmap = ad\nidmap_range = 300000000-300009999\n"
			      "use_default_domain = yes\n", &c), "");
	const struct dir_domain *a = &c.domains[0], *t = &c.domains[1];
	ck_assert_int_eq(a->type, DIR_DOMAIN_AD);
	ck_assert_str_eq(a->realm, "AD.EXAMPLE.COM");
	ck_assert_str_eq(a->workgroup, "ADEX");
	ck_assert_str_eq(a->base_dn, "DC=ad,DC=example,DC=com");
	ck_assert_str_eq(a->dns_domain, "ad.example.com");
	ck_assert(a->discover);
	ck_assert_int_eq(a->idmap, DIR_IDMAP_RID);
	ck_assert_uint_eq(a->idmap_low, 100000001);
	ck_assert_uint_eq(a->idmap_high, 200000000);
	ck_assert_str_eq(a->attrs.user_name, "sAMAccountName");
	ck_assert_uint_eq(a->attrs.n_member, 1);
	ck_assert_str_eq(a->attrs.member[0], "member");
	ck_assert_int_eq(a->schema, DIR_SCHEMA_RFC2307BIS);
	ck_assert_str_eq(a->home_template, "/home/%D/%U");
	ck_assert_str_eq(a->default_shell, "/bin/sh");
	ck_assert_str_eq(a->krb5_realm, "AD.EXAMPLE.COM");
	ck_assert(!a->use_default_domain);
	ck_assert(!t->discover);
	ck_assert_int_eq(t->idmap, DIR_IDMAP_AD);
	ck_assert_uint_eq(t->idmap_low, 300000000);
	ck_assert_uint_eq(t->idmap_high, 300009999);
	ck_assert(t->use_default_domain);
	dir_config_free(&c);
}
END_TEST

START_TEST(realms_and_kerberos)
{
	struct dir_config c;
	ck_assert_str_eq(load("[kerberos]\nkeytab = /etc/nas.keytab\nlibdefaults = ticket_lifetime=24h\n"
			      "libdefaults =  renew_lifetime   =  7d \nappdefaults = forwardable = true\n"
			      "[realm/EXAMPLE.LAN]\nkdc = kdc1.example.lan, kdc2.example.lan:8888 [::1]:88\n"
			      "admin_server = kdc1.example.lan\nkpasswd_server = kdc1.example.lan:464\n"
			      "local_users = yes\n[realm/OTHER.LAN]\n"
			      "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\nkeytab_principal = host/nas@EXAMPLE.LAN\n",
			      &c), "");
	ck_assert_str_eq(c.host_keytab, "/etc/nas.keytab");
	ck_assert_uint_eq(c.krb5_libdefaults.n, 2);
	ck_assert_str_eq(c.krb5_libdefaults.v[0], "ticket_lifetime = 24h");
	ck_assert_str_eq(c.krb5_libdefaults.v[1], "renew_lifetime = 7d");
	ck_assert_str_eq(c.krb5_appdefaults.v[0], "forwardable = true");
	ck_assert_uint_eq(c.n_realms, 2);
	const struct dir_realm *r = &c.realms[0];
	ck_assert_str_eq(r->name, "EXAMPLE.LAN");
	ck_assert_uint_eq(r->kdc.n, 3);
	ck_assert_str_eq(r->kdc.v[1], "kdc2.example.lan:8888");
	ck_assert_str_eq(r->kdc.v[2], "[::1]:88");
	ck_assert_str_eq(r->admin_server.v[0], "kdc1.example.lan");
	ck_assert_str_eq(r->kpasswd_server.v[0], "kdc1.example.lan:464");
	ck_assert(r->local_users);
	ck_assert_uint_eq(c.realms[1].kdc.n, 0);
	ck_assert(!c.realms[1].local_users);
	/* the host keytab: the domain binds with it as that principal, and checks logins with it */
	ck_assert_str_eq(c.domains[0].keytab, "/etc/nas.keytab");
	ck_assert_str_eq(c.domains[0].sasl_authid, "host/nas@EXAMPLE.LAN");
	ck_assert_str_eq(c.domains[0].krb5_keytab, "/etc/nas.keytab");
	dir_config_free(&c);
}
END_TEST

START_TEST(bad_input_is_reported_with_line)
{
	struct dir_config c;
	const char *err = load(bad[_i].text, &c);
	ck_assert_msg(strstr(err, bad[_i].expect) != NULL, "case %d: got '%s', want '%s'", _i, err,
		      bad[_i].expect);
	ck_assert_msg(strstr(err, "dird.conf:") != NULL, "no file name in '%s'", err);
}
END_TEST

/* The example shipped in etc/ must be a working configuration. */
START_TEST(shipped_example_parses)
{
	char path[4096], err[1024];
	snprintf(path, sizeof(path), "%s/etc/dird.conf", getenv("SOURCE_ROOT"));
	struct dir_config c;
	ck_assert_msg(dir_config_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.n_domains, 1);
	ck_assert_str_eq(c.domains[0].uri, "ldaps://ldap1.example.com ldaps://ldap2.example.com");
	dir_config_free(&c);
}
END_TEST

/* A '#' after a blank starts a comment, for the strict parser and the modules' reader alike;
 * one inside a value stays. */
START_TEST(comments_after_values)
{
	const char *text = "[global]   # the globals\ncache_dir = /var/c   # here\n"
			   "[domain/a]\t# a domain\nuri = ldap://a\t# tab\nbase_dn = dc=a # b\n"
			   "default_shell = /bin/sh   # when loginShell is missing\n"
			   "user_filter = (&(objectClass=posixAccount)(cn=a#b))\n";
	struct dir_config c;
	ck_assert_str_eq(load(text, &c), "");
	ck_assert_str_eq(c.cache_dir, "/var/c");
	ck_assert_str_eq(c.domains[0].uri, "ldap://a");
	ck_assert_str_eq(c.domains[0].base_dn, "dc=a");
	ck_assert_str_eq(c.domains[0].default_shell, "/bin/sh");
	ck_assert_str_eq(c.domains[0].user_filter, "(&(objectClass=posixAccount)(cn=a#b))");
	dir_config_free(&c);
	struct dir_module_config m;
	ck_assert_int_eq(dir_module_config_read(write_file("dird.conf", text, 0644), &m), 0);
	ck_assert_str_eq(m.cache_dir, "/var/c");
}
END_TEST

/* etc/dird.conf's own lines, uncommented as an administrator would, mean what they say. */
START_TEST(shipped_example_uncommented)
{
	char path[4096], cmd[8400], err[1024];
	snprintf(path, sizeof(path), "%s/etc/dird.conf", getenv("SOURCE_ROOT"));
	snprintf(cmd, sizeof(cmd), "sed 's/^# default_shell = /default_shell = /' '%s' >'%s/dird.conf'",
		 path, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/dird.conf", dir);
	struct dir_config c;
	ck_assert_msg(dir_config_load(path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.domains[0].default_shell, "/bin/sh");
	dir_config_free(&c);
}
END_TEST

START_TEST(missing_file)
{
	struct dir_config c;
	char err[256];
	ck_assert_int_eq(dir_config_load("/nonexistent/dird.conf", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(long_line_refused)
{
	struct dir_config c;
	char *text = malloc(10000);
	strcpy(text, "[global]\nlog_level = ");
	memset(text + strlen(text), 'a', 9000);
	text[9021] = '\0';
	const char *err = load(text, &c);
	free(text);
	ck_assert_ptr_nonnull(strstr(err, ":2: line longer than"));
}
END_TEST

START_TEST(secret_file_checks)
{
	char err[512];
	char *s = dir_config_read_secret(write_file("pw", "s3cret\n", 0600), err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "s3cret");
	secret_free(s);
	ck_assert_ptr_null(dir_config_read_secret(write_file("pw2", "x", 0640), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "readable by group or others"));
	ck_assert_ptr_null(dir_config_read_secret(write_file("pw3", "x", 0604), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "readable by group or others"));
	/* A symlink is not followed. */
	char link[600];
	snprintf(link, sizeof(link), "%s/link", dir);
	ck_assert_int_eq(symlink(write_file("pw4", "x", 0600), link), 0);
	ck_assert_ptr_null(dir_config_read_secret(link, err, sizeof(err)));
}
END_TEST

START_TEST(config_path_from_environment)
{
	setenv("DIR_CONF", "/somewhere/dird.conf", 1);
	ck_assert_str_eq(dir_config_path(), "/somewhere/dird.conf");
	unsetenv("DIR_CONF");
	ck_assert_str_eq(dir_config_path(), DIR_DEFAULT_CONF);
}
END_TEST

/* The modules' reader: only [global]'s cache_dir, run_dir, state_dir, krb5_ccache_dir,
 * nss_timeout, negative_ttl and each domain's timeout; a typo anywhere else changes nothing. */
START_TEST(module_reader_takes_what_it_needs)
{
	struct dir_module_config m;
	const char *path = write_file("dird.conf",
		"[global]\ncache_dir = /var/x\nrun_dir=/run/x\nstate_dir = /var/s\n"
		"krb5_ccache_dir = /k\nnss_timeout = 0.5\nnegative_ttl = 30\nlog_levle = debug\n"
		"refresh_interval = soon\n[domain/a]\nuri = ldap://a\ntimout = 5\ntimeout = 5\n"
		"base_dn dc=a\n[domain/b]\nschema = rfc9999\n[unknown]\ncache_dir = /elsewhere\n"
		"[realm/A.TEST]\nlocal_users = yes\n[realm/B.TEST]\nlocal_users = no\n"
		"[realm/C.TEST]\nlocal_users = True\n",
		0644);
	ck_assert_int_eq(dir_module_config_read(path, &m), 0);
	ck_assert_str_eq(m.cache_dir, "/var/x");
	ck_assert_str_eq(m.run_dir, "/run/x");
	ck_assert_str_eq(m.state_dir, "/var/s");
	ck_assert_str_eq(m.krb5_ccache_dir, "/k");
	ck_assert_uint_eq(m.nss_timeout_ms, 500);
	ck_assert_uint_eq(m.negative_ttl, 30);
	ck_assert_uint_eq(m.domain_timeouts, 5 + 10); /* b's is the default */
	ck_assert_uint_eq(m.krb5_local_realms, 2);
	/* The strict parser refuses the same file, with its line. */
	struct dir_config c;
	char err[512];
	ck_assert_int_eq(dir_config_load(path, &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":8: unknown key 'log_levle'"));
}
END_TEST

/* A bad value keeps the default; an over-long line or one with a NUL byte is skipped. */
START_TEST(module_reader_keeps_defaults)
{
	struct dir_module_config m;
	char text[6000] = "[global]\ncache_dir = relative/path\nrun_dir =\nnss_timeout = 0.01\n"
			  "negative_ttl = -1\nstate_dir = /a\tb\n[domain/a]\ntimeout = 61\n"
			  "[global]\nkrb5_ccache_dir = /";
	size_t n = strlen(text);
	memset(text + n, 'k', 5000); /* longer than a line may be */
	strcpy(text + n + 5000, "\nnss_timeout = 3\n");
	ck_assert_int_eq(dir_module_config_read(write_file("dird.conf", text, 0644), &m), 0);
	ck_assert_str_eq(m.cache_dir, DIR_DEFAULT_CACHE_DIR);
	ck_assert_str_eq(m.run_dir, DIR_DEFAULT_RUN_DIR);
	ck_assert_str_eq(m.state_dir, DIR_DEFAULT_STATE_DIR);
	ck_assert_str_eq(m.krb5_ccache_dir, DIR_DEFAULT_KRB5_CCACHE_DIR);
	ck_assert_uint_eq(m.negative_ttl, DIR_DEFAULT_NEGATIVE_TTL);
	ck_assert_uint_eq(m.domain_timeouts, DIR_DEFAULT_TIMEOUT);
	ck_assert_uint_eq(m.nss_timeout_ms, 3000); /* the line after the long one counts */
	ck_assert_uint_eq(m.krb5_local_realms, 0);
	const char nul[] = "[global]\nrun_dir = /r\0un\ncache_dir = /c\n";
	const char *path = write_file("nul.conf", "", 0644);
	FILE *f = fopen(path, "w");
	fwrite(nul, 1, sizeof(nul) - 1, f);
	fclose(f);
	ck_assert_int_eq(dir_module_config_read(path, &m), 0);
	ck_assert_str_eq(m.run_dir, DIR_DEFAULT_RUN_DIR);
	ck_assert_str_eq(m.cache_dir, "/c");
	errno = 0;
	ck_assert_int_eq(dir_module_config_read("/nonexistent/dird.conf", &m), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(m.nss_timeout_ms, DIR_DEFAULT_NSS_TIMEOUT_MS);
}
END_TEST

/* The modules' reader starts from the defaults of the parser's table (libcommon/config_keys.c). */
START_TEST(module_reader_defaults_are_the_parsers)
{
	const char *path = write_file("dird.conf", "[domain/a]\nuri = ldap://a\nbase_dn = dc=a\n", 0644);
	struct dir_config c;
	struct dir_module_config m;
	char err[512];
	ck_assert_int_eq(dir_config_load(path, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(dir_module_config_read(path, &m), 0);
	ck_assert_str_eq(m.cache_dir, c.cache_dir);
	ck_assert_str_eq(m.run_dir, c.run_dir);
	ck_assert_str_eq(m.state_dir, c.state_dir);
	ck_assert_str_eq(m.krb5_ccache_dir, c.krb5_ccache_dir);
	ck_assert_uint_eq(m.nss_timeout_ms, c.nss_timeout_ms);
	ck_assert_uint_eq(m.negative_ttl, c.negative_ttl);
	ck_assert_uint_eq(m.domain_timeouts, c.domains[0].timeout);
	dir_config_free(&c);
}
END_TEST

/* Every file the strict parser refuses still gives the modules a usable configuration. */
START_TEST(module_reader_reads_every_bad_file)
{
	struct dir_module_config m;
	ck_assert_int_eq(dir_module_config_read(write_file("dird.conf", bad[_i].text, 0644), &m), 0);
	ck_assert(m.cache_dir[0] == '/' && m.run_dir[0] == '/');
}
END_TEST

/* The domain keys whose value differs between two files, as dird compares them on a reload. */
static void differing_keys(const char *a, const char *b, char *out, size_t len)
{
	struct dir_config ca, cb;
	ck_assert_str_eq(load(a, &ca), "");
	ck_assert_str_eq(load(b, &cb), "");
	out[0] = '\0';
	for (size_t i = 0; i < dir_conf_n_keys; i++)
		if (dir_conf_keys[i].section == CONF_DOMAIN &&
		    !dir_conf_same_value(&dir_conf_keys[i], &ca.domains[0], &cb.domains[0]))
			snprintf(out + strlen(out), len - strlen(out), "%s ", dir_conf_keys[i].name);
	dir_config_free(&ca);
	dir_config_free(&cb);
}

START_TEST(values_compared_key_by_key)
{
	const char *base = "[domain/a]\nuri = ldap://x\nbase_dn = dc=x\n";
	char a[512], b[512], diff[512];
	differing_keys(base, base, diff, sizeof(diff));
	ck_assert_str_eq(diff, "");
	snprintf(a, sizeof(a), "%smember_attr = memberUid member\ntimeout = 5\nmin_id = 1000\n", base);
	snprintf(b, sizeof(b), "%smember_attr = memberUid uniqueMember\ntimeout = 6\nmin_id = 1000\n"
		 "default_shell = /bin/zsh\n", base);
	differing_keys(a, b, diff, sizeof(diff));
	ck_assert_str_eq(diff, "member_attr default_shell timeout ");
	/* idmap_range sets two fields: a change of its end counts */
	const char *ad = "[domain/a]\ntype = ad\nuri = ldap://x\nbase_dn = dc=x\nrealm = X.TEST\n"
			 "workgroup = X\nidmap_range = 100000-300000\n";
	snprintf(b, sizeof(b), "%.*s400000\n", (int)(strlen(ad) - 7), ad);
	differing_keys(ad, b, diff, sizeof(diff));
	ck_assert_str_eq(diff, "idmap_range ");
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		full_config_parses, comments_after_values, shipped_example_uncommented, defaults,
		rfc2307bis_defaults_to_every_member_attribute, member_attr_takes_a_list, ad_defaults,
		realms_and_kerberos, shipped_example_parses, missing_file, long_line_refused, secret_file_checks,
		config_path_from_environment, module_reader_takes_what_it_needs, module_reader_keeps_defaults,
		module_reader_defaults_are_the_parsers, values_compared_key_by_key, NULL
	};
	TCase *tc = test_case("config", setup, teardown, tests);
	tcase_add_loop_test(tc, bad_input_is_reported_with_line, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(tc, module_reader_reads_every_bad_file, 0, sizeof(bad) / sizeof(bad[0]));
	return run_case("config", tc);
}
