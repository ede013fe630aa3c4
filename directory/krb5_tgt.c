#include "krb5_tgt.h"

#include <krb5.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ccache_file.h"
#include "log.h"
#include "names.h"

/* One thread at a time gets tickets: a refresh and a cache miss may both need one. */
static pthread_mutex_t tgt_lock = PTHREAD_MUTEX_INITIALIZER;

static void describe(krb5_context ctx, krb5_error_code rc, const char *what, char *err, size_t errlen)
{
	const char *m = krb5_get_error_message(ctx, rc);
	snprintf(err, errlen, "%s: %s", what, m);
	krb5_free_error_message(ctx, m);
}

/* The end time of the cache's ticket-granting ticket; 0 when there is none. */
static krb5_timestamp tgt_end(krb5_context ctx, krb5_ccache cc)
{
	krb5_creds creds;
	if (ccache_find_tgt(ctx, cc, &creds) != 0)
		return 0;
	krb5_timestamp end = creds.times.endtime;
	krb5_free_cred_contents(ctx, &creds);
	return end;
}

/* sasl_authid, or the keytab's first principal. */
static krb5_error_code client_principal(krb5_context ctx, const struct dir_domain *d,
					krb5_keytab kt, krb5_principal *out)
{
	if (d->sasl_authid)
		return krb5_parse_name(ctx, d->sasl_authid, out);
	krb5_kt_cursor cursor;
	krb5_keytab_entry entry;
	krb5_error_code rc = krb5_kt_start_seq_get(ctx, kt, &cursor);
	if (rc)
		return rc;
	rc = krb5_kt_next_entry(ctx, kt, &entry, &cursor);
	if (rc == 0) {
		rc = krb5_copy_principal(ctx, entry.principal, out);
		krb5_free_keytab_entry_contents(ctx, &entry);
	}
	krb5_kt_end_seq_get(ctx, kt, &cursor);
	return rc;
}

int krb5_tgt_ensure(const struct dir_domain *d, char *ccname, size_t ccnamelen, char *err,
		    size_t errlen)
{
	if (dir_build_name(ccname, ccnamelen, "MEMORY:dird-%s", d->name) < 0) {
		snprintf(err, errlen, "the ticket cache name for %s does not fit", d->name);
		return -1;
	}
	pthread_mutex_lock(&tgt_lock);
	krb5_context ctx = NULL;
	krb5_ccache cc = NULL;
	krb5_keytab kt = NULL;
	krb5_principal client = NULL;
	krb5_get_init_creds_opt *opt = NULL;
	krb5_creds creds;
	bool have_creds = false;
	int ret = -1;
	char ktname[PATH_MAX + 8];
	/* KRB5_CONFIG (dird sets it from krb5_config at start) applies here as for GSSAPI. */
	krb5_error_code rc = krb5_init_context(&ctx);
	if (rc) {
		snprintf(err, errlen, "cannot set up Kerberos: error %ld", (long)rc);
		goto out;
	}
	rc = krb5_cc_resolve(ctx, ccname, &cc);
	if (rc) {
		describe(ctx, rc, ccname, err, errlen);
		goto out;
	}
	if (tgt_end(ctx, cc) > (krb5_timestamp)(time(NULL) + TGT_RENEW_BEFORE)) {
		ret = 0;
		goto out;
	}
	if (dir_build_name(ktname, sizeof(ktname), "FILE:%s", d->keytab) < 0) {
		snprintf(err, errlen, "keytab: the path is too long");
		goto out;
	}
	if ((rc = krb5_kt_resolve(ctx, ktname, &kt)) || (rc = client_principal(ctx, d, kt, &client)) ||
	    (rc = krb5_get_init_creds_opt_alloc(ctx, &opt))) {
		describe(ctx, rc, d->keytab, err, errlen);
		goto out;
	}
	rc = krb5_get_init_creds_keytab(ctx, &creds, client, kt, 0, NULL, opt);
	if (rc) {
		describe(ctx, rc, "getting a ticket with the keytab", err, errlen);
		goto out;
	}
	have_creds = true;
	if ((rc = krb5_cc_initialize(ctx, cc, client)) || (rc = krb5_cc_store_cred(ctx, cc, &creds))) {
		describe(ctx, rc, "storing the ticket", err, errlen);
		goto out;
	}
	char *who = NULL, until[32] = "?";
	time_t end = (time_t)creds.times.endtime;
	struct tm tm;
	if (localtime_r(&end, &tm))
		strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S", &tm);
	krb5_unparse_name(ctx, client, &who);
	log_info("%s: got a Kerberos ticket for %s from %s, valid until %s", d->name,
		 who ? who : "?", d->keytab, until);
	krb5_free_unparsed_name(ctx, who);
	ret = 0;
out:
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (opt)
		krb5_get_init_creds_opt_free(ctx, opt);
	if (client)
		krb5_free_principal(ctx, client);
	if (kt)
		krb5_kt_close(ctx, kt);
	if (cc)
		krb5_cc_close(ctx, cc);
	if (ctx)
		krb5_free_context(ctx);
	pthread_mutex_unlock(&tgt_lock);
	return ret;
}
