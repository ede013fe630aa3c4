#include "ldap_conn.h"

#include <gssapi/gssapi_krb5.h>
#include <sasl/sasl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "krb5_tgt.h"
#include "log.h"
#include "secret.h"
#include "srv.h"
#include "tls_ctx.h"
#include "tls_diagnose.h"

static void set_timeouts(LDAP *ld, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds };
	int version = LDAP_VERSION3;
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
#ifdef LDAP_OPT_TCP_USER_TIMEOUT
	unsigned ms = seconds * 1000;
	ldap_set_option(ld, LDAP_OPT_TCP_USER_TIMEOUT, &ms);
#endif
}

/* The domain's TLS settings and its shared context, on this handle alone (libldap's globals
 * stay untouched); `lax` checks no certificate. */
static int set_tls(LDAP *ld, const struct dir_domain *d, bool lax, char *err, size_t errlen)
{
	int rc = tls_ctx_use(ld, d, lax);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "TLS settings of [domain/%s] (tls_ca_file, tls_ca_dir, "
			 "tls_cert_file, tls_key_file): %s", d->name, ldap_err2string(rc));
		return -1;
	}
	return 0;
}

static LDAP *connect_to(const struct dir_domain *d, const char *uri, bool lax, char *err,
			size_t errlen);

/* Why TLS failed: the certificate, fetched on a connection that does not check it, checked by
 * us.  Empty when that cannot be found out (say, the server is gone). */
static void explain_tls(const struct dir_domain *d, const char *uri, char *out, size_t outlen)
{
	char ignored[256];
	out[0] = '\0';
	LDAPURLDesc *url = NULL;
	if (ldap_url_parse(uri, &url) != LDAP_URL_SUCCESS || !url->lud_host) {
		ldap_free_urldesc(url);
		return;
	}
	LDAP *ld = connect_to(d, uri, true, ignored, sizeof(ignored));
	struct berval cert = { 0, NULL };
	if (ld && ldap_get_option(ld, LDAP_OPT_X_TLS_PEERCERT, &cert) == LDAP_OPT_SUCCESS && cert.bv_val)
		tls_explain_certificate(d, &cert, url->lud_host, out, outlen);
	ber_memfree(cert.bv_val);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ldap_free_urldesc(url);
}

static bool uses_tls(const struct dir_domain *d, const char *uri)
{
	return !strncmp(uri, "ldaps://", 8) || (d->starttls && !strncmp(uri, "ldap://", 7));
}

/* Why a connection failed, in words that name the fix when it is the certificate. */
static void connect_error(LDAP *ld, const struct dir_domain *d, const char *uri, bool lax,
			  int rc, char *err, size_t errlen)
{
	char *diag = NULL, why[512] = "";
	ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (!lax && uses_tls(d, uri) && d->tls_reqcert != DIR_TLS_NEVER)
		explain_tls(d, uri, why, sizeof(why));
	if (*why)
		snprintf(err, errlen, "cannot connect to %s: %s (%s)", uri, why, ldap_err2string(rc));
	else
		snprintf(err, errlen, "cannot connect to %s: %s", uri, ldap_err2string(rc));
	/* libldap's own words, when it has any beyond "(unknown error code)". */
	if (diag && *diag && !strstr(diag, "unknown error")) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, ": %s", diag);
	}
	ldap_memfree(diag);
}

static LDAP *connect_to(const struct dir_domain *d, const char *uri, bool lax, char *err,
			size_t errlen)
{
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "%s: %s", uri, ldap_err2string(rc));
		return NULL;
	}
	set_timeouts(ld, d->timeout);
	if (set_tls(ld, d, lax, err, errlen) < 0) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	if (d->starttls && !strncmp(uri, "ldap://", 7))
		rc = ldap_start_tls_s(ld, NULL, NULL);
	else
		rc = ldap_connect(ld); /* now, so a dead server or a bad certificate shows here */
	if (rc != LDAP_SUCCESS) {
		connect_error(ld, d, uri, lax, rc, err, errlen);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

LDAP *ldap_conn_connect(const struct dir_domain *d, const char *uri, char *err, size_t errlen)
{
	return connect_to(d, uri, false, err, errlen);
}

/* GSSAPI asks nothing a default does not answer (the authorization id: none). */
static int sasl_defaults(LDAP *ld, unsigned flags, void *defaults, void *interact)
{
	(void)ld, (void)flags, (void)defaults;
	for (sasl_interact_t *in = interact; in->id != SASL_CB_LIST_END; in++) {
		in->result = in->defresult ? in->defresult : "";
		in->len = (unsigned)strlen(in->result);
	}
	return LDAP_SUCCESS;
}

static int bind_gssapi(struct ldap_conn *c, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	char ccname[128];
	if (krb5_tgt_ensure(d, ccname, sizeof(ccname), err, errlen) < 0)
		return -1;
	OM_uint32 minor;
	/* This thread's GSSAPI calls use the domain's own ticket cache. */
	if (gss_krb5_ccache_name(&minor, ccname, NULL) != GSS_S_COMPLETE) {
		snprintf(err, errlen, "cannot use the ticket cache %s", ccname);
		return -1;
	}
	/* The service principal is ldap/<host in uri>: no reverse DNS to pick another. */
	ldap_set_option(c->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
	int rc = ldap_sasl_interactive_bind_s(c->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
					      sasl_defaults, NULL);
	if (rc != LDAP_SUCCESS) {
		char *diag = NULL;
		ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		snprintf(err, errlen, "GSSAPI bind with %s failed: %s%s%s", d->keytab,
			 ldap_err2string(rc), diag && *diag ? ": " : "", diag ? diag : "");
		ldap_memfree(diag);
		return -1;
	}
	return 0;
}

enum conn_privacy ldap_conn_privacy(LDAP *ld, char *peer, size_t peerlen)
{
	snprintf(peer, peerlen, "an unknown peer");
	if (ldap_tls_inplace(ld))
		return CONN_TLS;
	int fd = -1;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0 ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return CONN_CLEAR; /* not knowing is not knowing it stays here */
	bool local = false;
	if (ss.ss_family == AF_UNIX) {
		snprintf(peer, peerlen, "a Unix socket");
		local = true;
	} else if (ss.ss_family == AF_INET) {
		const struct in_addr *a = &((const struct sockaddr_in *)&ss)->sin_addr;
		inet_ntop(AF_INET, a, peer, (socklen_t)peerlen);
		local = (ntohl(a->s_addr) >> 24) == 127;
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
		inet_ntop(AF_INET6, a, peer, (socklen_t)peerlen);
		local = IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return local ? CONN_LOCAL : CONN_CLEAR;
}

int ldap_conn_bind(struct ldap_conn *c, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	if (d->keytab)
		return bind_gssapi(c, err, errlen);
	if (!d->bind_dn)
		return 0; /* anonymous: no bind at all */
	char peer[INET6_ADDRSTRLEN + 16];
	if (!d->allow_insecure_bind && ldap_conn_privacy(c->ld, peer, sizeof(peer)) == CONN_CLEAR) {
		snprintf(err, errlen, "refusing to send the password of %s in clear text to %s, "
			 "another host: set tls = starttls or use an ldaps:// uri (or, to take that "
			 "risk, allow_insecure_bind = yes)", d->bind_dn, peer);
		return -1;
	}
	char *password = dir_config_read_secret(d->bind_password_file, err, errlen);
	if (!password)
		return -1;
	if (!*password) {
		/* An empty password would make an unauthenticated bind that "succeeds". */
		snprintf(err, errlen, "%s is empty; refusing an unauthenticated bind",
			 d->bind_password_file);
		secret_free(password);
		return -1;
	}
	struct berval cred = { .bv_len = strlen(password), .bv_val = password };
	int rc = ldap_sasl_bind_s(c->ld, d->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	secret_free(password);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "bind as %s failed: %s", d->bind_dn, ldap_err2string(rc));
		return -1;
	}
	return 0;
}

static int open_one(struct ldap_conn *c, const char *uri, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	c->ld = ldap_conn_connect(d, uri, err, errlen);
	if (!c->ld)
		return -1;
	if (ldap_conn_bind(c, err, errlen) < 0) {
		ldap_conn_close(c);
		return -1;
	}
	snprintf(c->server, sizeof(c->server), "%s", uri);
	return 0;
}

int ldap_conn_uris(const struct dir_domain *d, char *out, size_t outlen, char *err, size_t errlen)
{
	if (!d->discover) {
		snprintf(out, outlen, "%s", d->uri);
		return 0;
	}
	/* Asked each time: the DNS may name other servers now.  AD: the domain's DCs. */
	char dns_domain[256];
	if (d->type == DIR_DOMAIN_AD) {
		snprintf(dns_domain, sizeof(dns_domain), "dc._msdcs.%s", d->dns_domain);
		return srv_discover(dns_domain, out, outlen, err, errlen);
	}
	if (!d->dns_domain && srv_domain_of_base(d->base_dn, dns_domain, sizeof(dns_domain)) < 0) {
		snprintf(err, errlen, "base_dn %s has no dc= parts; set dns_domain", d->base_dn);
		return -1;
	}
	return srv_discover(d->dns_domain ? d->dns_domain : dns_domain, out, outlen, err, errlen);
}

int ldap_conn_open(struct ldap_conn *c, const struct dir_domain *d, const char *prefer,
		   char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->domain = d;
	if (prefer && *prefer && open_one(c, prefer, err, errlen) == 0)
		return 0;
	char uris[4096];
	if (ldap_conn_uris(d, uris, sizeof(uris), err, errlen) < 0)
		return -1;
	const char *p = uris;
	while (*p) {
		size_t n = strcspn(p, " \t");
		if (n > 0 && n < DIR_MAX_URI) {
			char uri[DIR_MAX_URI];
			memcpy(uri, p, n);
			uri[n] = '\0';
			if (!prefer || strcmp(uri, prefer) != 0) {
				if (open_one(c, uri, err, errlen) == 0)
					return 0;
				log_debug("%s: %s failed: %s", d->name, uri, err);
			}
		}
		p += n;
		p += strspn(p, " \t");
	}
	return -1;
}

int ldap_conn_read_base(struct ldap_conn *c, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = c->domain->timeout };
	LDAPMessage *res = NULL;
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	int rc = ldap_search_ext_s(c->ld, c->domain->base_dn, LDAP_SCOPE_BASE, "(objectClass=*)",
				   attrs, 0, NULL, NULL, &tv, 1, &res);
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "reading %s on %s: %s", c->domain->base_dn, c->server,
			 ldap_err2string(rc));
		return -1;
	}
	return 0;
}

void ldap_conn_close(struct ldap_conn *c)
{
	if (c->ld)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
	c->have_domain_sid = false;
}

/* A paged search ends when the server sends no cookie.  One that never stops sending one
 * (broken, or hostile) would hold a refresh for ever and fill memory: a search takes at most
 * MAX_SEARCH_ENTRIES entries, and at most MAX_EMPTY_PAGES pages in a row without one. */
#define MAX_SEARCH_ENTRIES 2000000
#define MAX_EMPTY_PAGES 100

static int one_page(struct ldap_conn *c, const char *base, int scope, const char *filter,
		    const char *const *attrs, LDAPControl *extra, struct berval *cookie,
		    ldap_entry_fn fn, void *arg, long *entries, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	LDAPControl *page = NULL, *ctrls[3] = { NULL, extra, NULL };
	LDAPMessage *res = NULL;
	LDAPControl **rctrls = NULL;
	struct timeval tv = { .tv_sec = d->timeout };
	char *msg = NULL;
	int result = LDAP_SUCCESS, ret = -1;

	int rc = ldap_create_page_control(c->ld, (ber_int_t)d->page_size, cookie, 0, &page);
	if (rc != LDAP_SUCCESS)
		goto fail;
	ctrls[0] = page;
	rc = ldap_search_ext_s(c->ld, base, scope, filter, (char **)attrs, 0, ctrls,
			       NULL, &tv, 0, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_REFERRAL && !res)
		goto fail;
	*entries = ldap_count_entries(c->ld, res);
	for (LDAPMessage *e = ldap_first_entry(c->ld, res); e; e = ldap_next_entry(c->ld, e))
		if (fn(c->ld, e, arg) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	rc = ldap_parse_result(c->ld, res, &result, NULL, &msg, NULL, &rctrls, 0);
	if (rc != LDAP_SUCCESS)
		goto fail;
	if (result != LDAP_SUCCESS && result != LDAP_REFERRAL && result != LDAP_NO_SUCH_OBJECT) {
		rc = result;
		goto fail;
	}
	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	LDAPControl *resp = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
	ber_int_t estimate;
	if (resp && ldap_parse_pageresponse_control(c->ld, resp, &estimate, cookie) != LDAP_SUCCESS) {
		rc = LDAP_DECODING_ERROR;
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	snprintf(err, errlen, "search of %s for %s failed: %s%s%s", base, filter,
		 ldap_err2string(rc), msg && *msg ? ": " : "", msg ? msg : "");
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR)
		ldap_conn_close(c);
out:
	ldap_memfree(msg);
	ldap_controls_free(rctrls);
	ldap_msgfree(res);
	if (page)
		ldap_control_free(page);
	return ret;
}

int ldap_conn_scope(enum dir_scope scope)
{
	static const int scopes[] = { [DIR_SCOPE_SUB] = LDAP_SCOPE_SUBTREE,
				      [DIR_SCOPE_ONE] = LDAP_SCOPE_ONELEVEL,
				      [DIR_SCOPE_BASE] = LDAP_SCOPE_BASE };
	return scopes[scope];
}

int ldap_conn_search(struct ldap_conn *c, const char *base, enum dir_scope scope,
		     const char *filter, const char *const *attrs, ldap_entry_fn fn, void *arg,
		     char *err, size_t errlen)
{
	return ldap_conn_search_ctrl(c, base, scope, filter, attrs, NULL, fn, arg, err, errlen);
}

int ldap_conn_search_ctrl(struct ldap_conn *c, const char *base, enum dir_scope scope,
			  const char *filter, const char *const *attrs, LDAPControl *extra,
			  ldap_entry_fn fn, void *arg, char *err, size_t errlen)
{
	if (!c->ld) {
		snprintf(err, errlen, "not connected");
		return -1;
	}
	struct berval cookie = { 0, NULL };
	long total = 0, empty_run = 0;
	int rc;
	for (;;) {
		long entries = 0;
		if (c->stop && atomic_load(c->stop)) {
			snprintf(err, errlen, "search of %s for %s on %s: stopped", base, filter,
				 c->server);
			rc = -1;
			break;
		}
		rc = one_page(c, base, ldap_conn_scope(scope), filter, attrs, extra, &cookie, fn, arg,
			      &entries, err, errlen);
		if (rc < 0 || !cookie.bv_val || cookie.bv_len == 0)
			break;
		total += entries;
		empty_run = entries > 0 ? 0 : empty_run + 1;
		if (total > MAX_SEARCH_ENTRIES || empty_run >= MAX_EMPTY_PAGES) {
			if (total > MAX_SEARCH_ENTRIES)
				snprintf(err, errlen, "search of %s for %s on %s: more than %d entries "
					 "and the server says there are more; stopped", base, filter,
					 c->server, MAX_SEARCH_ENTRIES);
			else
				snprintf(err, errlen, "search of %s for %s on %s: %d pages in a row "
					 "without an entry, each saying there are more; stopped (a "
					 "broken server?)", base, filter, c->server, MAX_EMPTY_PAGES);
			rc = -1;
			break;
		}
	}
	ber_memfree(cookie.bv_val);
	return rc;
}

/* The password policy overlay's answer, if the server sent one: must the password change? */
static bool policy_says_change(LDAP *ld, LDAPControl **ctrls)
{
	LDAPControl *pp = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, ctrls, NULL);
	ber_int_t expire = -1, grace = -1;
	LDAPPasswordPolicyError pp_err = PP_noError;
	if (!pp || ldap_parse_passwordpolicy_control(ld, pp, &expire, &grace, &pp_err) != LDAP_SUCCESS)
		return false;
	return pp_err == PP_changeAfterReset || pp_err == PP_passwordExpired;
}

/* AD says why it refused a bind in the diagnostic message ("... AcceptSecurityContext error,
 * data 773, v1db1"); these codes come only with the right password (775, locked out, comes
 * with any, so it stays a plain refusal). */
static enum password_result ad_bind_refusal(const char *msg)
{
	const char *data = msg ? strstr(msg, ", data ") : NULL;
	long code = data ? strtol(data + 7, NULL, 16) : 0;
	switch (code) {
	case 0x773: /* must change the password (pwdLastSet 0) */
	case 0x532: /* password expired */
		return PASSWORD_MUST_CHANGE;
	case 0x533: /* disabled */
	case 0x701: /* account expired */
		return PASSWORD_ACCOUNT_REFUSED;
	default:
		return PASSWORD_DENIED;
	}
}

/* Binds as dn on a new connection to the server c answered from; *ld stays open for the
 * caller on PASSWORD_OK and PASSWORD_MUST_CHANGE (except AD's must-change, which refuses the
 * bind: NULL then). */
static enum password_result bind_as(const struct ldap_conn *c, const char *dn,
				    const char *password, LDAP **out, char *err, size_t errlen)
{
	*out = NULL;
	LDAPControl *pp = NULL, *ctrls[2] = { NULL, NULL };
	LDAPMessage *res = NULL;
	LDAPControl **rctrls = NULL;
	char *msg = NULL;
	int msgid, result = LDAP_OTHER, rc = LDAP_SUCCESS;
	enum password_result ret = PASSWORD_ERROR;
	LDAP *ld = ldap_conn_connect(c->domain, c->server, err, errlen);
	if (!ld)
		return PASSWORD_ERROR;
	char peer[INET6_ADDRSTRLEN + 16];
	if (ldap_conn_privacy(ld, peer, sizeof(peer)) == CONN_CLEAR) {
		snprintf(err, errlen, "refusing to send a user's password in clear text to %s (%s), "
			 "another host: set tls = starttls or use an ldaps:// uri", c->server, peer);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return PASSWORD_ERROR;
	}
	if (ldap_create_passwordpolicy_control(ld, &pp) == LDAP_SUCCESS)
		ctrls[0] = pp;
	struct berval cred = { .bv_len = strlen(password), .bv_val = (char *)password };
	rc = ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, &cred, ctrls, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		goto out;
	struct timeval tv = { .tv_sec = c->domain->timeout };
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
	if (rc <= 0) {
		rc = rc == 0 ? LDAP_TIMEOUT : LDAP_SERVER_DOWN;
		goto out;
	}
	rc = ldap_parse_result(ld, res, &result, NULL, &msg, NULL, &rctrls, 0);
	if (rc != LDAP_SUCCESS)
		goto out;
	if (result == LDAP_SUCCESS)
		ret = policy_says_change(ld, rctrls) ? PASSWORD_MUST_CHANGE : PASSWORD_OK;
	else if (result == LDAP_INVALID_CREDENTIALS && c->domain->type == DIR_DOMAIN_AD)
		ret = ad_bind_refusal(msg);
	else if (result == LDAP_INVALID_CREDENTIALS || result == LDAP_INAPPROPRIATE_AUTH ||
		 result == LDAP_UNWILLING_TO_PERFORM)
		ret = PASSWORD_DENIED;
	else
		rc = result;
out:
	if (ret == PASSWORD_ERROR)
		snprintf(err, errlen, "bind as %s on %s: %s%s%s", dn, c->server, ldap_err2string(rc),
			 msg && *msg ? ": " : "", msg ? msg : "");
	ldap_memfree(msg);
	ldap_controls_free(rctrls);
	ldap_msgfree(res);
	if (pp)
		ldap_control_free(pp);
	if (ret == PASSWORD_OK || (ret == PASSWORD_MUST_CHANGE && result == LDAP_SUCCESS))
		*out = ld;
	else if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return ret;
}

enum password_result ldap_conn_bind_user(const struct ldap_conn *c, const char *dn,
					 const char *password, char *err, size_t errlen)
{
	LDAP *ld;
	enum password_result r = bind_as(c, dn, password, &ld, err, errlen);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

enum password_result ldap_conn_change_password(const struct ldap_conn *c, const char *dn,
					       const char *old_password,
					       const char *new_password, char *msg,
					       size_t msglen, char *err, size_t errlen)
{
	LDAP *ld;
	msg[0] = '\0';
	enum password_result r = bind_as(c, dn, old_password, &ld, err, errlen);
	if (!ld) {
		if (r == PASSWORD_DENIED)
			snprintf(msg, msglen, "The current password is wrong.");
		return r;
	}
	if (!*new_password) { /* only asked whether it could change */
		ldap_unbind_ext_s(ld, NULL, NULL);
		return PASSWORD_OK;
	}
	struct berval user = { strlen(dn), (char *)dn };
	struct berval oldpw = { strlen(old_password), (char *)old_password };
	struct berval newpw = { strlen(new_password), (char *)new_password };
	struct berval gen = { 0, NULL };
	/* RFC 3062, the Password Modify extended operation: the server hashes and checks it. */
	int rc = ldap_passwd_s(ld, &user, &oldpw, &newpw, &gen, NULL, NULL);
	ber_memfree(gen.bv_val);
	if (rc == LDAP_SUCCESS) {
		r = PASSWORD_OK;
	} else {
		char *diag = NULL;
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		bool refused = rc == LDAP_CONSTRAINT_VIOLATION || rc == LDAP_INSUFFICIENT_ACCESS ||
			       rc == LDAP_UNWILLING_TO_PERFORM;
		if (refused)
			snprintf(msg, msglen, "The directory refused the new password%s%s.",
				 diag && *diag ? ": " : "", diag && *diag ? diag : "");
		snprintf(err, errlen, "changing the password of %s on %s: %s%s%s", dn, c->server,
			 ldap_err2string(rc), diag && *diag ? ": " : "", diag ? diag : "");
		ldap_memfree(diag);
		r = refused ? PASSWORD_DENIED : PASSWORD_ERROR;
	}
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}
