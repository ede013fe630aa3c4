#include "tls_ctx.h"

#include <pthread.h>

/* Why one context per domain and not one per connection: libldap 2.5 with GnuTLS (tls_g.c
 * tlsg_ctx_init) never frees the client certificate and key it loads into a new context
 * (LDAP_OPT_X_TLS_NEWCTX), about 22 KB a connection with tls_cert_file: a password check, a
 * reconnect each.  A context is reference counted: LDAP_OPT_X_TLS_CTX's set takes a
 * reference for the handle (its unbind drops it), its get one for the caller, and the only way
 * to drop that one is this function, exported by libldap (OPENLDAP_2.5) but declared in its
 * private ldap_pvt.h alone. */
void ldap_pvt_tls_ctx_free(void *ctx);

/* Guards the domains' tls_ctx: connections are made from several threads. */
static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;

static const int reqcerts[] = { [DIR_TLS_NEVER] = LDAP_OPT_X_TLS_NEVER,
				[DIR_TLS_ALLOW] = LDAP_OPT_X_TLS_ALLOW,
				[DIR_TLS_TRY] = LDAP_OPT_X_TLS_TRY,
				[DIR_TLS_DEMAND] = LDAP_OPT_X_TLS_DEMAND };

static void free_ctx(void *ctx)
{
	ldap_pvt_tls_ctx_free(ctx);
}

/* A new context from d's files, checking certificates as `reqcert` says, made on a handle of
 * its own that never connects (libldap's global options stay untouched). */
static int make_ctx(const struct dir_domain *d, const int *reqcert, void **out)
{
	LDAP *t = NULL;
	int client = 0;
	int rc = ldap_initialize(&t, NULL);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ldap_set_option(t, LDAP_OPT_X_TLS_REQUIRE_CERT, reqcert);
	if (rc == LDAP_SUCCESS && d->tls_ca_file)
		rc = ldap_set_option(t, LDAP_OPT_X_TLS_CACERTFILE, d->tls_ca_file);
	if (rc == LDAP_SUCCESS && d->tls_ca_dir)
		rc = ldap_set_option(t, LDAP_OPT_X_TLS_CACERTDIR, d->tls_ca_dir);
	if (rc == LDAP_SUCCESS && d->tls_cert_file)
		rc = ldap_set_option(t, LDAP_OPT_X_TLS_CERTFILE, d->tls_cert_file);
	if (rc == LDAP_SUCCESS && d->tls_key_file)
		rc = ldap_set_option(t, LDAP_OPT_X_TLS_KEYFILE, d->tls_key_file);
	if (rc == LDAP_SUCCESS)
		rc = ldap_set_option(t, LDAP_OPT_X_TLS_NEWCTX, &client);
	if (rc == LDAP_SUCCESS)
		rc = ldap_get_option(t, LDAP_OPT_X_TLS_CTX, out); /* our reference */
	if (rc == LDAP_SUCCESS && !*out)
		rc = LDAP_LOCAL_ERROR;
	ldap_unbind_ext_s(t, NULL, NULL);
	return rc;
}

int tls_ctx_use(LDAP *ld, const struct dir_domain *d, bool lax)
{
	const int *reqcert = &reqcerts[lax ? DIR_TLS_NEVER : d->tls_reqcert];
	/* The hostname check reads the handle's option; the certificate check, the context's. */
	int rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, reqcert);
	if (rc != LDAP_SUCCESS)
		return rc;
	/* The domains are dir_config_load's, not constant: only these two fields change here. */
	struct dir_domain *dom = (struct dir_domain *)d;
	pthread_mutex_lock(&ctx_lock);
	if (!dom->tls_ctx[lax]) {
		rc = make_ctx(d, reqcert, &dom->tls_ctx[lax]);
		dom->tls_ctx_free = free_ctx;
	}
	if (rc == LDAP_SUCCESS)
		rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CTX, dom->tls_ctx[lax]);
	pthread_mutex_unlock(&ctx_lock);
	return rc;
}
