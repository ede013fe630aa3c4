#include "scram.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int scram_b64_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	if (outlen < 4 * ((n + 2) / 3) + 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return 0;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int scram_b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	if (n % 4)
		return -1;
	size_t len = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		size_t pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = in[i + k];
			/* '=' only as the last one or two characters of the last quantum */
			if (c == '=' && i + 4 == n && k >= 2 && (k == 3 || in[i + 3] == '=')) {
				v[k] = 0;
				pad++;
			} else if ((v[k] = b64_value(c)) < 0 || pad) {
				return -1;
			}
		}
		uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		/* the bits padding leaves out must be zero (one encoding per value) */
		if ((pad == 1 && (q & 0xff)) || (pad == 2 && (q & 0xffff)))
			return -1;
		unsigned char bytes[3] = { (unsigned char)(q >> 16), (unsigned char)(q >> 8),
					   (unsigned char)q };
		if (len + 3 - pad > outlen)
			return -1;
		memcpy(out + len, bytes, 3 - pad);
		len += 3 - pad;
	}
	return (int)len;
}

static int hmac(const EVP_MD *md, const unsigned char *key, size_t key_len, const void *data,
		size_t len, unsigned char *out)
{
	unsigned int n = 0;
	return HMAC(md, key, (int)key_len, data, len, out, &n) ? 0 : -1;
}

int scram_derive(const EVP_MD *md, const char *password, const unsigned char *salt,
		 size_t salt_len, unsigned iterations, struct scram_keys *out)
{
	unsigned char salted[SCRAM_MAX_HASH], client_key[SCRAM_MAX_HASH];
	size_t n = (size_t)EVP_MD_get_size(md);
	unsigned int dlen = 0;
	int rc = -1;
	if (n > SCRAM_MAX_HASH || iterations == 0)
		return -1;
	out->len = n;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
			      md, (int)n, salted) == 1 &&
	    hmac(md, salted, n, "Client Key", 10, client_key) == 0 &&
	    EVP_Digest(client_key, n, out->stored, &dlen, md, NULL) == 1 &&
	    hmac(md, salted, n, "Server Key", 10, out->server) == 0)
		rc = 0;
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}

/* Printable ASCII but ',' (RFC 5802's value-safe-char, for nonces). */
static bool nonce_char(char c)
{
	return c >= 0x21 && c <= 0x7e && c != ',';
}

/* "n=NAME" with =2C and =3D unescaped into out; returns the end, or NULL. */
static const char *parse_name(const char *p, char *out, size_t outlen)
{
	size_t n = 0;
	if (strncmp(p, "n=", 2))
		return NULL;
	for (p += 2; *p && *p != ','; p++) {
		char c = *p;
		if (c == '=') {
			if (!strncmp(p, "=2C", 3))
				c = ',';
			else if (!strncmp(p, "=3D", 3))
				c = '=';
			else
				return NULL;
			p += 2;
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			return NULL;
		}
		if (n + 1 >= outlen)
			return NULL;
		out[n++] = c;
	}
	out[n] = '\0';
	return n ? p : NULL;
}

/* "r=NONCE" into out; returns the end, or NULL. */
static const char *parse_nonce(const char *p, char *out, size_t outlen)
{
	size_t n = 0;
	if (strncmp(p, "r=", 2))
		return NULL;
	for (p += 2; *p && *p != ','; p++) {
		if (!nonce_char(*p) || n + 1 >= outlen)
			return NULL;
		out[n++] = *p;
	}
	out[n] = '\0';
	return n ? p : NULL;
}

/* Optional extensions after the last field: ",x=..." with x a letter but m (mandatory ones we
 * do not know, RFC 5802 5.1). */
static bool extensions_ok(const char *p)
{
	while (*p == ',') {
		p++;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) || *p == 'm' || p[1] != '=')
			return false;
		for (p += 2; *p && *p != ','; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return false;
	}
	return *p == '\0';
}

int scram_parse_client_first(const char *msg, struct scram_client_first *out)
{
	memset(out, 0, sizeof(*out));
	if (strnlen(msg, SCRAM_MAX_MESSAGE + 1) > SCRAM_MAX_MESSAGE)
		return -1;
	const char *p = msg;
	if (!strncmp(p, "n,", 2) || !strncmp(p, "y,", 2)) {
		p += 2;
	} else if (!strncmp(p, "p=tls-server-end-point,", 23)) {
		out->channel_binding = true;
		p += 23;
	} else {
		return -1;
	}
	if (*p++ != ',') /* no authzid: an API key logs in as its own user only */
		return -1;
	size_t gs2_len = (size_t)(p - msg);
	memcpy(out->gs2, msg, gs2_len);
	out->gs2[gs2_len] = '\0';
	out->bare = p;
	if (!(p = parse_name(p, out->name, sizeof(out->name))) || *p++ != ',' ||
	    !(p = parse_nonce(p, out->nonce, sizeof(out->nonce))) || !extensions_ok(p))
		return -1;
	return 0;
}

int scram_make_nonce(char *out, size_t outlen)
{
	unsigned char raw[SCRAM_NONCE_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	return scram_b64_encode(raw, sizeof(raw), out, outlen);
}

/* Appends to the AuthMessage; -1 when it would not fit. */
static int add_auth(struct scram_server *s, const char *text, size_t n)
{
	if (s->auth_len + n + 1 > sizeof(s->auth_message))
		return -1;
	memcpy(s->auth_message + s->auth_len, text, n);
	s->auth_len += n;
	s->auth_message[s->auth_len] = '\0';
	return 0;
}

int scram_server_first(struct scram_server *s, const struct scram_client_first *cf,
		       const char *our_nonce, const unsigned char *salt, size_t salt_len,
		       unsigned iterations, char *out)
{
	char salt64[128];
	int n = snprintf(s->nonce, sizeof(s->nonce), "%s%s", cf->nonce, our_nonce);
	if (n < 0 || (size_t)n >= sizeof(s->nonce) || scram_b64_encode(salt, salt_len, salt64, sizeof(salt64)) < 0)
		return -1;
	n = snprintf(out, SCRAM_MAX_MESSAGE, "r=%s,s=%s,i=%u", s->nonce, salt64, iterations);
	if (n < 0 || n >= SCRAM_MAX_MESSAGE)
		return -1;
	s->auth_len = 0;
	return add_auth(s, cf->bare, strlen(cf->bare)) < 0 || add_auth(s, ",", 1) < 0 ||
			       add_auth(s, out, (size_t)n) < 0 ? -1 : 0;
}

/* c=: the base64 of the GS2 header, followed by the channel binding data when asked for. */
static bool binding_matches(const struct scram_client_first *cf, const char *c64, size_t c64_len,
			    const unsigned char *cbind, size_t cbind_len)
{
	unsigned char got[512], want[512];
	size_t gs2_len = strlen(cf->gs2);
	if (cf->channel_binding && (!cbind || gs2_len + cbind_len > sizeof(want)))
		return false;
	int n = scram_b64_decode(c64, c64_len, got, sizeof(got));
	memcpy(want, cf->gs2, gs2_len);
	size_t want_len = gs2_len;
	if (cf->channel_binding) {
		memcpy(want + gs2_len, cbind, cbind_len);
		want_len += cbind_len;
	}
	return n >= 0 && (size_t)n == want_len && !memcmp(got, want, want_len);
}

int scram_server_final(struct scram_server *s, const struct scram_client_first *cf,
		       const char *client_final, const unsigned char *cbind, size_t cbind_len,
		       char *out)
{
	size_t len = strnlen(client_final, SCRAM_MAX_MESSAGE + 1);
	const char *proof_at = len <= SCRAM_MAX_MESSAGE ? strstr(client_final, ",p=") : NULL;
	if (!proof_at || strncmp(client_final, "c=", 2))
		return -1;
	/* c=BINDING,r=NONCE[,extensions],p=PROOF with the proof last */
	const char *c_end = strchr(client_final, ',');
	char nonce[sizeof(s->nonce)];
	const char *p = parse_nonce(c_end + 1, nonce, sizeof(nonce));
	if (!p || p > proof_at || strcmp(nonce, s->nonce))
		return -1;
	char between[SCRAM_MAX_MESSAGE + 1];
	snprintf(between, sizeof(between), "%.*s", (int)(proof_at - p), p);
	if (!extensions_ok(between) ||
	    !binding_matches(cf, client_final + 2, (size_t)(c_end - client_final - 2), cbind, cbind_len))
		return -1;
	unsigned char proof[SCRAM_MAX_HASH], signature[SCRAM_MAX_HASH], client_key[SCRAM_MAX_HASH],
		stored[SCRAM_MAX_HASH], server_sig[SCRAM_MAX_HASH];
	const char *proof64 = proof_at + 3;
	int n = scram_b64_decode(proof64, strlen(proof64), proof, sizeof(proof));
	unsigned int dlen = 0;
	size_t h = s->keys.len;
	if (n < 0 || (size_t)n != h || add_auth(s, ",", 1) < 0 ||
	    add_auth(s, client_final, (size_t)(proof_at - client_final)) < 0 ||
	    hmac(s->md, s->keys.stored, h, s->auth_message, s->auth_len, signature) < 0)
		return -1;
	for (size_t i = 0; i < h; i++)
		client_key[i] = proof[i] ^ signature[i];
	int rc = -1;
	if (EVP_Digest(client_key, h, stored, &dlen, s->md, NULL) == 1 && dlen == h &&
	    CRYPTO_memcmp(stored, s->keys.stored, h) == 0 &&
	    hmac(s->md, s->keys.server, h, s->auth_message, s->auth_len, server_sig) == 0) {
		char sig64[128];
		scram_b64_encode(server_sig, h, sig64, sizeof(sig64));
		snprintf(out, SCRAM_MAX_MESSAGE, "v=%s", sig64);
		rc = 0;
	}
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}
