/* SCRAM (RFC 5802) with SHA-512 (RFC 7677's construction; SHA-256 for its test vector): the key
 * derivation, the messages, and the server's side of one exchange.  OpenSSL's libcrypto does the
 * hashing; every message is parsed with bounds and refused when malformed. */
#ifndef APIKEY_SCRAM_H
#define APIKEY_SCRAM_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_MAX_MESSAGE 2048	/* any longer message is refused */
#define SCRAM_MAX_HASH 64	/* SHA-512 */
#define SCRAM_NONCE_BYTES 24	/* our half of the nonce, before base64 */

/* What a password (here: an API key's secret) turns into; only this is stored. */
struct scram_keys {
	unsigned char stored[SCRAM_MAX_HASH];	/* H(ClientKey) */
	unsigned char server[SCRAM_MAX_HASH];	/* HMAC(SaltedPassword, "Server Key") */
	size_t len;				/* the hash's size */
};

/* SaltedPassword = PBKDF2-HMAC(password, salt, iterations), then StoredKey and ServerKey.
 * -1 when libcrypto fails. */
int scram_derive(const EVP_MD *md, const char *password, const unsigned char *salt,
		 size_t salt_len, unsigned iterations, struct scram_keys *out);

/* The client's first message: "n,,n=NAME,r=NONCE" (GS2 flag n or y; p=tls-server-end-point for
 * channel binding; no authzid).  Pointers and lengths into the caller's message. */
struct scram_client_first {
	char gs2[64];		/* the GS2 header, "n,," */
	bool channel_binding;	/* p=tls-server-end-point */
	char name[256];		/* the user name, unescaped (=2C ',', =3D '=') */
	char nonce[256];
	const char *bare;	/* "n=...,r=..." inside the message */
};
int scram_parse_client_first(const char *msg, struct scram_client_first *out);

/* One exchange on the server's side. */
struct scram_server {
	const EVP_MD *md;
	struct scram_keys keys;
	char nonce[512];	/* the client's and ours */
	char auth_message[3 * SCRAM_MAX_MESSAGE + 3];
	size_t auth_len;
};

/* Answers client-first with "r=NONCE,s=SALT,i=ITERATIONS" into out (SCRAM_MAX_MESSAGE);
 * our_nonce is the base64 text to append to the client's (random in use, fixed in tests). */
int scram_server_first(struct scram_server *s, const struct scram_client_first *cf,
		       const char *our_nonce, const unsigned char *salt, size_t salt_len,
		       unsigned iterations, char *out);

/* Checks client-final ("c=...,r=...,p=PROOF"): the channel binding (cbind: the TLS
 * certificate hash when the client asked for p=tls-server-end-point, else NULL), our nonce,
 * and the proof, in constant time.  On success writes server-final ("v=SIGNATURE") to out
 * (SCRAM_MAX_MESSAGE) and returns 0; -1 otherwise. */
int scram_server_final(struct scram_server *s, const struct scram_client_first *cf,
		       const char *client_final, const unsigned char *cbind, size_t cbind_len,
		       char *out);

/* Our half of a nonce: SCRAM_NONCE_BYTES from the system's CSPRNG, base64 (no ','). */
int scram_make_nonce(char *out, size_t outlen);

/* Base64 (RFC 4648, with padding) of n bytes into out; -1 when it does not fit. */
int scram_b64_encode(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Strict base64 decoding: -1 for bad characters or padding, or when it does not fit; else
 * the number of bytes. */
int scram_b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen);

#endif
