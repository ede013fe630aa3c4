/* pam_dir.so apikey: a program logs in with an API key (dirctl apikey), for a local or a
 * directory user alike, in one of two ways, both through the PAM conversation:
 *   - SCRAM-SHA-512 (RFC 5802, 7677): the first prompt (echo off) gets the client-first
 *     message, whose user name is the key id; the server-first message is the next prompt,
 *     whose answer is client-final; server-final comes back as PAM_TEXT_INFO.  Channel binding
 *     (p=tls-server-end-point) takes the certificate hash from the PAM environment variable
 *     SCRAM_CHANNEL_BINDING (base64), put there by the application.
 *   - allow_password_auth: a first answer that is not a SCRAM message is the key itself,
 *     "<id>-<secret>", or the secret alone when PAM_USER is "user:<id>".
 * The key's ServerKey is compared in constant time.  An unknown key, another user's key and an
 * unknown user get the same prompts, the same work (a decoy key: apikey_lookup) and the same
 * answer as a wrong key.  Revoked and expired keys give PAM_CRED_EXPIRED, but only to a caller
 * that proved it holds the key.  With "user:<id>", PAM_USER becomes the account itself, so the
 * account and session modules after us find it. */
#include <openssl/crypto.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "keystore.h"
#include "local_accounts.h"
#include "pam_dir.h"
#include "secret.h"

/* The PAM user, and the key id when it is given as "user:<id>". */
struct who {
	char user[256];		/* as getpwnam names it */
	bool known;		/* a local or directory user */
	uint32_t key_id;	/* 0: none given */
};

static void get_who(pam_handle_t *pamh, struct who *w)
{
	const char *name = NULL;
	memset(w, 0, sizeof(*w));
	if (pam_get_user(pamh, &name, NULL) != PAM_SUCCESS || !name || strlen(name) >= sizeof(w->user))
		return;
	snprintf(w->user, sizeof(w->user), "%s", name);
	char *colon = strrchr(w->user, ':');
	if (colon && apikey_parse_id(colon + 1, strlen(colon + 1), &w->key_id) == 0)
		*colon = '\0';
	struct passwd pw;
	char *buf = NULL;
	/* Local or directory, in its canonical name. */
	if (dir_getpwnam(w->user, &pw, &buf) && strlen(pw.pw_name) < sizeof(w->user)) {
		snprintf(w->user, sizeof(w->user), "%s", pw.pw_name);
		w->known = true;
		if (w->key_id && pam_set_item(pamh, PAM_USER, w->user) != PAM_SUCCESS)
			w->known = false;
	}
	free(buf);
}

/* The key `id` (or its decoy) in k: 1 when it is w's, 0 when not (unknown, another user's, or
 * not the id "user:<id>" named), -1 when the store is unusable. */
static int key_of(pam_handle_t *pamh, const struct dir_module_config *cfg, const struct who *w,
		  uint32_t id, struct apikey *k)
{
	char err[512] = "";
	int found = apikey_lookup(cfg->state_dir, id, k, err, sizeof(err));
	if (found < 0) {
		pam_syslog(pamh, LOG_ERR, "API keys: %s", err);
		return -1;
	}
	return found && w->known && (!w->key_id || w->key_id == id) && !strcmp(k->user, w->user);
}

static int verdict(pam_handle_t *pamh, const struct apikey *k, bool proved)
{
	if (!proved)
		return PAM_AUTH_ERR;
	if (k->revoked || (k->expires && k->expires <= (uint64_t)time(NULL))) {
		pam_syslog(pamh, LOG_NOTICE, "API key %u of %s is %s", k->id, k->user,
			   k->revoked ? "revoked" : "expired");
		return PAM_CRED_EXPIRED;
	}
	pam_syslog(pamh, LOG_INFO, "API key %u logged %s in", k->id, k->user);
	return PAM_SUCCESS;
}

static int raw_key(pam_handle_t *pamh, const struct dir_module_config *cfg, const struct who *w,
		   const char *answer)
{
	uint32_t id = w->key_id;
	const char *secret = answer;
	if (apikey_split(answer, &id, &secret) < 0 && !w->key_id)
		return PAM_AUTH_ERR;
	struct apikey k;
	int known = key_of(pamh, cfg, w, id, &k);
	if (known < 0)
		return PAM_AUTHINFO_UNAVAIL;
	struct scram_keys derived;
	bool proved = strlen(secret) == APIKEY_SECRET_LEN &&
		      scram_derive(EVP_sha512(), secret, k.salt, sizeof(k.salt), k.iterations,
				   &derived) == 0 &&
		      CRYPTO_memcmp(derived.server, k.keys.server, SCRAM_MAX_HASH) == 0 && known;
	OPENSSL_cleanse(&derived, sizeof(derived));
	int rc = verdict(pamh, &k, proved);
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

/* The channel binding data the application put in the PAM environment; false when absent. */
static bool channel_binding(pam_handle_t *pamh, unsigned char *out, size_t outlen, size_t *len)
{
	const char *b64 = pam_getenv(pamh, "SCRAM_CHANNEL_BINDING");
	int n = b64 ? scram_b64_decode(b64, strlen(b64), out, outlen) : -1;
	*len = n > 0 ? (size_t)n : 0;
	return n > 0;
}

static int scram(pam_handle_t *pamh, const struct dir_module_config *cfg, const struct who *w,
		 const struct scram_client_first *cf)
{
	uint32_t id = 0; /* the SCRAM user name is the key id; anything else is no key */
	apikey_parse_id(cf->name, strlen(cf->name), &id);
	struct apikey k;
	int known = key_of(pamh, cfg, w, id, &k);
	if (known < 0)
		return PAM_AUTHINFO_UNAVAIL;
	struct scram_server s = { .md = EVP_sha512(), .keys = k.keys };
	char nonce[64], server_first[SCRAM_MAX_MESSAGE], server_final[SCRAM_MAX_MESSAGE];
	char *client_final = NULL;
	unsigned char cbind[256];
	size_t cbind_len = 0;
	int rc = PAM_AUTH_ERR;
	if (scram_make_nonce(nonce, sizeof(nonce)) < 0 ||
	    scram_server_first(&s, cf, nonce, k.salt, sizeof(k.salt), k.iterations, server_first) < 0)
		goto out;
	if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &client_final, "%s", server_first) != PAM_SUCCESS ||
	    !client_final)
		goto out;
	if (cf->channel_binding && !channel_binding(pamh, cbind, sizeof(cbind), &cbind_len))
		goto out; /* asked for, but the application has none to compare */
	bool proved = scram_server_final(&s, cf, client_final, cf->channel_binding ? cbind : NULL,
					 cbind_len, server_final) == 0 && known;
	rc = verdict(pamh, &k, proved);
	if (rc == PAM_SUCCESS)
		pam_info(pamh, "%s", server_final);
out:
	secret_free(client_final);
	OPENSSL_cleanse(&s, sizeof(s));
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

int pam_dir_apikey_auth(pam_handle_t *pamh, const struct pam_dir_options *o)
{
	struct who w;
	get_who(pamh, &w);
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	char *first = NULL;
	int rc = PAM_AUTH_ERR;
	if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &first, "API key: ") != PAM_SUCCESS || !first) {
		rc = PAM_CONV_ERR;
	} else {
		struct scram_client_first cf;
		if (scram_parse_client_first(first, &cf) == 0)
			rc = scram(pamh, &cfg, &w, &cf);
		else if (o->allow_password_auth)
			rc = raw_key(pamh, &cfg, &w, first);
		else if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "not a SCRAM client-first message");
	}
	secret_free(first);
	return rc;
}
