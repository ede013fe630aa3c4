/* dird.conf read strictly, for dird and dirctl: an unknown key, a bad value or a malformed line
 * is an error with file:line.  libnss_dir and pam_dir read it with module_config.h instead. */
#ifndef DIR_CONFIG_H
#define DIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "module_config.h"

#define DIR_DEFAULT_HOST_KEYTAB "/etc/krb5.keytab"

enum dir_domain_type { DIR_DOMAIN_LDAP, DIR_DOMAIN_AD };
/* How an AD domain's SIDs become uids and gids, as winbind's idmap backends of those names. */
enum dir_idmap { DIR_IDMAP_RID, DIR_IDMAP_AD };
enum dir_schema { DIR_SCHEMA_RFC2307, DIR_SCHEMA_RFC2307BIS };
enum dir_scope { DIR_SCOPE_SUB, DIR_SCOPE_ONE, DIR_SCOPE_BASE };

/* Which LDAP attribute holds each field (Proxmox realms' and SSSD's mapping keys). */
struct dir_attrs {
	char *user_name;	/* uid */
	char *uid;		/* uidNumber */
	char *gid;		/* gidNumber: users' primary group, groups' id */
	char *gecos;		/* gecos, else cn */
	char *home;		/* homeDirectory */
	char *shell;		/* loginShell */
	char *email;		/* mail */
	char *group_name;	/* cn */
	/* member_attr, a group's members: memberUid holds names, every other attribute DNs (of
	 * users, or of nested groups).  rfc2307: memberUid; rfc2307bis: member, uniqueMember,
	 * memberUid; AD: member. */
	char **member;
	size_t n_member;
	char *ssh_key;		/* sshPublicKey (openssh-lpk): a user's SSH public keys */
};

/* member_attr holds at most this many attributes. */
#define DIR_MAX_MEMBER_ATTRS 8
enum dir_auth_method { DIR_AUTH_LDAP, DIR_AUTH_KRB5 };
/* As libldap's LDAP_OPT_X_TLS_REQUIRE_CERT: what a server certificate must pass. */
enum dir_tls_reqcert { DIR_TLS_NEVER, DIR_TLS_ALLOW, DIR_TLS_TRY, DIR_TLS_DEMAND };

/* A list of values (servers, krb5.conf lines), in the file's order. */
struct dir_strings {
	char **v;
	size_t n;
};

struct dir_domain {
	char *name;
	enum dir_domain_type type;
	char *uri;		/* space-separated, tried in order; NULL with discover */
	bool discover;		/* servers from DNS SRV: uri = _srv_ or discover = yes */
	char *dns_domain;	/* for discovery; default: the dc= parts of base_dn */
	char *base_dn;
	char *user_base;	/* defaults to base_dn */
	char *group_base;	/* defaults to base_dn */
	enum dir_scope user_scope, group_scope;
	char *user_filter;	/* which entries are users: (objectClass=posixAccount) */
	char *group_filter;	/* which are groups: (objectClass=posixGroup) */
	struct dir_attrs attrs;
	char **sync_groups;	/* only members of these groups are served; NULL: everyone */
	size_t n_sync_groups;
	char *bind_dn;		/* NULL: anonymous bind */
	char *bind_password_file;
	char *keytab;		/* a SASL/GSSAPI bind with a ticket from this keytab */
	char *sasl_authid;	/* its principal; NULL: the keytab's first */
	char *keytab_principal;	/* bind as this principal of the host keytab (sets the two above) */
	bool starttls;		/* tls = starttls: StartTLS on ldap:// uris */
	bool allow_insecure_bind;	/* bind_dn's password may go in clear text to another host */
	char *tls_ca_file;	/* CAs that sign the servers' certificates; NULL: the system's */
	char *tls_ca_dir;
	enum dir_tls_reqcert tls_reqcert;
	char *tls_cert_file;	/* our client certificate, if the servers want one */
	char *tls_key_file;
	enum dir_schema schema;
	uint32_t min_id;
	char *default_shell;
	char *home_template;	/* %U user, %D domain, %u uid, %% a percent sign */
	unsigned timeout;	/* seconds, each network step */
	unsigned page_size;
	char **access_groups;	/* PAM: only members of these groups may log in; NULL: anyone */
	size_t n_access_groups;
	char *access_filter;	/* PAM: only users this LDAP filter matches may log in */
	enum dir_auth_method auth;	/* how PAM checks passwords */
	bool allow_password_change;	/* PAM: users may change their password here */
	char *krb5_realm;	/* auth = krb5: the users' realm */
	char *krb5_keytab;	/* auth = krb5: host keys that prove the KDC is ours */
	/* type = ad */
	char *realm;		/* AD.TEST: the Kerberos realm, the DNS domain in lower case */
	char *workgroup;	/* ADTEST: the NetBIOS name, the prefix of served names */
	bool use_default_domain;	/* serve bare names, not WORKGROUP\name */
	enum dir_idmap idmap;
	uint32_t idmap_low, idmap_high;	/* the ids served, both included */
	unsigned machine_password_max_age;	/* days; dirctl ads rotate --auto; 0: never */
	unsigned sync_interval;	/* seconds between polls of the DC for changes; 0: none */
	unsigned conf_line;	/* of its section header, for messages */
	/* Not from the file: dird's TLS contexts of the domain's connections (directory/tls_ctx.c),
	 * [0] checking certificates as tls_reqcert says, [1] not at all; NULL until made, freed
	 * with tls_ctx_free by dir_config_free. */
	void *tls_ctx[2];
	void (*tls_ctx_free)(void *ctx);
};

/* [realm/NAME]: a Kerberos realm of this host, for krb5.conf (dirctl krb5conf) and logins. */
struct dir_realm {
	char *name;		/* upper case: EXAMPLE.LAN */
	struct dir_strings kdc;	/* host or host:port; none: found in DNS */
	struct dir_strings admin_server;
	struct dir_strings kpasswd_server;
	bool local_users;	/* users of /etc/passwd with a principal here log in with it */
	unsigned conf_line;	/* of its section header, for messages */
};

struct dir_config {
	char *path;
	char *cache_dir;
	char *run_dir;
	char *state_dir;	/* what must outlive the cache: the API key store */
	unsigned refresh_interval; /* seconds */
	bool enumerate;
	unsigned nss_timeout_ms;
	unsigned entry_ttl;	/* seconds an entry is fresh; 0: until the next refresh */
	unsigned negative_ttl;	/* seconds a name or id the directory lacks stays so */
	enum dir_log_level log_level;
	bool cache_credentials;	/* keep a hash of passwords for offline logins */
	unsigned offline_credentials_expiration; /* days a cached password works; 0: no limit */
	char *krb5_config;	/* a krb5.conf for dird; NULL: the system's */
	char *krb5_ccache_dir;	/* where pam_dir puts users' ticket caches */
	char *userdb_socket;	/* io.systemd.UserDatabase served there; NULL: not served */
	bool userdb_enumerate;	/* answer enumerations on it (else EnumerationNotSupported) */
	struct dir_domain *domains;
	size_t n_domains;
	struct dir_realm *realms;
	size_t n_realms;
	/* [kerberos] */
	char *host_keytab;	/* keytab: dirctl keytab merges into it; krb5_keytab's default */
	struct dir_strings krb5_libdefaults;	/* "tag = value" lines for krb5.conf */
	struct dir_strings krb5_appdefaults;
};

/* True when a [realm/...] serves local users (local_users = yes). */
bool dir_config_local_realm(const struct dir_config *cfg);

/* A Kerberos server as [realm/] sections name one: host, host:port or [IPv6]:port. */
bool dir_config_valid_server(const char *s);

/* Parses `path` into `cfg`.  On failure returns -1 and writes "file:line: message" to err. */
int dir_config_load(const char *path, struct dir_config *cfg, char *err, size_t errlen);
void dir_config_free(struct dir_config *cfg);

/* Reads a domain's bind password, refusing a file that group or others can read or that is
 * not a regular file.  The caller wipes and frees it.  NULL with err set on failure. */
char *dir_config_read_secret(const char *file, char *err, size_t errlen);

/* The same checks for a file read by someone else (a TLS key): 0, or -1 with err set. */
int dir_config_check_private(const char *file, char *err, size_t errlen);

/* What dird checks of a parsed file before it starts (dirctl config check too): a domain or a
 * realm with local_users to serve, each bind_password_file and tls_key_file root's alone and
 * readable.  0, or -1 with err set. */
int dir_config_check_usable(const struct dir_config *cfg, char *err, size_t errlen);

#endif
