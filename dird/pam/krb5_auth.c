#include "krb5_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <krb5.h>
#include <limits.h>
#include <profile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_names.h"
#include "log.h"
#include "names.h"

#define MAX_CCACHE (64u << 10)

static void describe(krb5_context ctx, krb5_error_code rc, const char *what, char *err,
		     size_t errlen)
{
	const char *m = krb5_get_error_message(ctx, rc);
	snprintf(err, errlen, "%s: %s", what, m);
	krb5_free_error_message(ctx, m);
}

struct krb5_target krb5_domain_target(const struct dir_domain *dom)
{
	return (struct krb5_target){ dom->krb5_realm, dom->krb5_keytab, dom->name };
}

const char *krb5_domain_user(const struct dir_domain *dom, const char *user)
{
	const char *account = dom->type == DIR_DOMAIN_AD ? ad_name_account(dom, user) : NULL;
	return account ? account : user;
}

/* dird.conf's krb5_config, read afresh each time (it may have changed), or the system's. */
static krb5_error_code open_context(const struct dir_config *cfg, krb5_context *ctx)
{
	if (!cfg->krb5_config)
		return krb5_init_secure_context(ctx);
	profile_t profile;
	long rc = profile_init_path(cfg->krb5_config, &profile);
	if (rc)
		return (krb5_error_code)rc;
	krb5_error_code r = krb5_init_context_profile(profile, KRB5_INIT_CONTEXT_SECURE, ctx);
	profile_release(profile);
	return r;
}

/* The password is wrong, or the principal may not log in: nothing the network changes. */
static bool is_refusal(krb5_error_code rc)
{
	return rc == KRB5KDC_ERR_PREAUTH_FAILED || rc == KRB5KRB_AP_ERR_BAD_INTEGRITY ||
	       rc == KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN || rc == KRB5KDC_ERR_CLIENT_REVOKED ||
	       rc == KRB5KDC_ERR_POLICY || rc == KRB5_PREAUTH_FAILED;
}

/* What both password functions start from: a context, user@krb5_realm and options. */
struct krb5_user {
	krb5_context ctx;
	krb5_principal princ;
	krb5_get_init_creds_opt *opt;
};

static int user_open(const struct dir_config *cfg, const struct krb5_target *t, const char *user,
		     struct krb5_user *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	krb5_error_code rc = open_context(cfg, &k->ctx);
	if (rc) {
		k->ctx = NULL;
		snprintf(err, errlen, "cannot set up Kerberos: error %ld", (long)rc);
		return -1;
	}
	/* One component, whatever the name holds: "a/b" or "a@B" cannot pick another principal. */
	rc = krb5_build_principal(k->ctx, &k->princ, (unsigned)strlen(t->realm), t->realm, user,
				  (char *)NULL);
	if (!rc)
		rc = krb5_get_init_creds_opt_alloc(k->ctx, &k->opt);
	if (rc) {
		describe(k->ctx, rc, "setting up", err, errlen);
		return -1;
	}
	return 0;
}

static void user_close(struct krb5_user *k)
{
	if (!k->ctx)
		return;
	if (k->opt)
		krb5_get_init_creds_opt_free(k->ctx, k->opt);
	krb5_free_principal(k->ctx, k->princ);
	krb5_free_context(k->ctx);
	memset(k, 0, sizeof(*k));
}

/* Writes the credentials to a FILE cache in scratch_dir and reads its bytes back.  The library
 * replaces the file as it writes it, so it is read by name afterwards. */
static int export_ccache(krb5_context ctx, krb5_principal princ, krb5_creds *creds,
			 const char *scratch_dir, struct buf *out, char *err, size_t errlen)
{
	char path[PATH_MAX], name[PATH_MAX + 8];
	if (dir_build_name(path, sizeof(path), "%s/ccache-XXXXXX", scratch_dir) < 0) {
		snprintf(err, errlen, "run_dir is too long for a ticket cache's name");
		return -1;
	}
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	dir_build_name(name, sizeof(name), "FILE:%s", path); /* fits: name is 8 bytes longer */
	krb5_ccache cc = NULL;
	krb5_error_code rc = krb5_cc_resolve(ctx, name, &cc);
	if (!rc)
		rc = krb5_cc_initialize(ctx, cc, princ);
	if (!rc)
		rc = krb5_cc_store_cred(ctx, cc, creds);
	if (cc)
		krb5_cc_close(ctx, cc);
	int ret = -1;
	struct stat st;
	fd = rc ? -1 : open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (rc) {
		describe(ctx, rc, "writing the ticket cache", err, errlen);
	} else if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 ||
		   st.st_size > (off_t)MAX_CCACHE) {
		snprintf(err, errlen, "the ticket cache %s cannot be read back", path);
	} else {
		void *dst = buf_extend(out, (size_t)st.st_size);
		if (dst && pread(fd, dst, (size_t)st.st_size, 0) == st.st_size)
			ret = 0;
		else
			snprintf(err, errlen, "reading the ticket cache %s failed", path);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return ret;
}

enum password_result krb5_check_password(const struct dir_config *cfg,
					 const struct krb5_target *t, const char *user,
					 const char *password, const char *scratch_dir,
					 struct buf *ccache, char *err, size_t errlen)
{
	struct krb5_user k;
	enum password_result ret = PASSWORD_ERROR;
	krb5_keytab kt = NULL;
	krb5_creds creds;
	bool have_creds = false;
	char ktname[PATH_MAX + 8];
	krb5_error_code rc;
	if (user_open(cfg, t, user, &k, err, errlen) < 0)
		goto out;
	krb5_context ctx = k.ctx;
	krb5_principal princ = k.princ;
	krb5_get_init_creds_opt *opt = k.opt;
	rc = krb5_get_init_creds_password(ctx, &creds, princ, password, NULL, NULL, 0, NULL, opt);
	if (rc == KRB5KDC_ERR_KEY_EXP) {
		/* Expired, says a KDC that is not proven: a right password still gets a
		 * password-change ticket, but so would anything from a spoofed KDC. */
		rc = krb5_get_init_creds_password(ctx, &creds, princ, password, NULL, NULL, 0,
						  "kadmin/changepw", opt);
		if (!rc)
			krb5_free_cred_contents(ctx, &creds);
		ret = rc ? PASSWORD_DENIED : PASSWORD_EXPIRED_UNPROVEN;
		goto out;
	}
	if (rc) {
		ret = rc == KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN ? PASSWORD_UNKNOWN :
		      is_refusal(rc) ? PASSWORD_DENIED : PASSWORD_ERROR;
		describe(ctx, rc, "getting initial credentials", err, errlen);
		goto out;
	}
	have_creds = true;
	snprintf(ktname, sizeof(ktname), "FILE:%s", t->keytab);
	rc = krb5_kt_resolve(ctx, ktname, &kt);
	if (!rc) {
		krb5_verify_init_creds_opt vopt;
		krb5_verify_init_creds_opt_init(&vopt);
		/* No usable keytab is a failure, never a pass. */
		krb5_verify_init_creds_opt_set_ap_req_nofail(&vopt, 1);
		rc = krb5_verify_init_creds(ctx, &creds, NULL, kt, NULL, &vopt);
	}
	if (rc) {
		describe(ctx, rc, "verifying the KDC with the keytab", err, errlen);
		log_error("%s: refusing %s's login: the KDC's answer cannot be verified with %s "
			  "(a spoofed KDC, or a keytab out of date): %s", t->label, user, t->keytab,
			  err);
		ret = PASSWORD_DENIED;
		goto out;
	}
	ret = export_ccache(ctx, princ, &creds, scratch_dir, ccache, err, errlen) == 0 ?
		      PASSWORD_OK : PASSWORD_ERROR;
out:
	if (have_creds)
		krb5_free_cred_contents(k.ctx, &creds);
	if (kt)
		krb5_kt_close(k.ctx, kt);
	user_close(&k);
	return ret;
}

enum password_result krb5_change_user_password(const struct dir_config *cfg,
					       const struct krb5_target *t, const char *user,
					       const char *old_password, const char *new_password,
					       char *msg, size_t msglen, char *err, size_t errlen)
{
	struct krb5_user k;
	msg[0] = '\0';
	if (user_open(cfg, t, user, &k, err, errlen) < 0) {
		user_close(&k);
		return PASSWORD_ERROR;
	}
	krb5_context ctx = k.ctx;
	enum password_result ret = PASSWORD_ERROR;
	krb5_creds creds;
	krb5_error_code rc = 0;
	/* A password-change ticket: also what an expired password still gets. */
	krb5_get_init_creds_opt_set_tkt_life(k.opt, 60);
	rc = krb5_get_init_creds_password(ctx, &creds, k.princ, old_password, NULL, NULL, 0,
					  "kadmin/changepw", k.opt);
	if (rc) {
		ret = is_refusal(rc) ? PASSWORD_DENIED : PASSWORD_ERROR;
		if (ret == PASSWORD_DENIED)
			snprintf(msg, msglen, "The current password is wrong.");
		describe(ctx, rc, "getting a password-change ticket", err, errlen);
		goto out;
	}
	if (!*new_password) { /* only asked whether it could change */
		krb5_free_cred_contents(ctx, &creds);
		ret = PASSWORD_OK;
		goto out;
	}
	int result = 0;
	krb5_data code_string = { 0 }, result_string = { 0 };
	rc = krb5_change_password(ctx, &creds, new_password, &result, &code_string, &result_string);
	krb5_free_cred_contents(ctx, &creds);
	if (rc) {
		describe(ctx, rc, "talking to the password-change service", err, errlen);
	} else if (result != KRB5_KPASSWD_SUCCESS) {
		char *why = NULL;
		if (krb5_chpw_message(ctx, &result_string, &why) != 0)
			why = NULL;
		snprintf(msg, msglen, "The KDC refused the new password: %.*s%s%s",
			 (int)code_string.length, code_string.data ? code_string.data : "",
			 why && *why ? ": " : "", why ? why : "");
		snprintf(err, errlen, "%s", msg);
		krb5_free_string(ctx, why);
		ret = PASSWORD_DENIED;
	} else {
		ret = PASSWORD_OK;
	}
	krb5_free_data_contents(ctx, &code_string);
	krb5_free_data_contents(ctx, &result_string);
out:
	user_close(&k);
	return ret;
}
