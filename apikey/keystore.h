/* API keys: <state_dir>/apikeys.tdb, root's alone (0600 in a 0700 directory).  A key is shown
 * once as "<id>-<secret>"; only its SCRAM-SHA-512 material is kept (salt, iterations,
 * StoredKey, ServerKey), never the secret.  Records are marshalled with the buf API:
 *   u32 version (1), str user, str name, u64 created, u64 expires (0: never), u32 revoked,
 *   u32 iterations, u32 n + n bytes salt, u32 n + n bytes StoredKey, u32 n + n bytes ServerKey
 * under the key id in decimal; "next_id" holds the next id (u32); "decoy" holds u32 version,
 * u32 n + n bytes of a random secret and u32 iterations (see apikey_lookup). */
#ifndef APIKEY_KEYSTORE_H
#define APIKEY_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scram.h"

#define APIKEY_SECRET_LEN 64
#define APIKEY_SALT_LEN 16
#define APIKEY_MIN_ITERATIONS 50000
#define APIKEY_MAX_ITERATIONS 5000000
#define APIKEY_DEFAULT_ITERATIONS 500000

struct apikey {
	uint32_t id;
	char user[256];
	char name[128];
	uint64_t created, expires;
	bool revoked;
	unsigned iterations;
	unsigned char salt[APIKEY_SALT_LEN];
	struct scram_keys keys;
};

/* The store's file in state_dir. */
void apikey_store_path(const char *state_dir, char *out, size_t outlen);

/* A new key for user: a random secret (64 letters and digits) into secret (APIKEY_SECRET_LEN
 * + 1), its material stored under the next id (k->id set).  -1 with err set. */
int apikey_create(const char *state_dir, struct apikey *k, char *secret, char *err, size_t errlen);

/* 1 found (k filled), 0 no such key, -1 the store cannot be read (err set).  Read-only.  The
 * store is opened once per process and every call is safe from any thread. */
int apikey_get(const char *state_dir, uint32_t id, struct apikey *k, char *err, size_t errlen);

/* apikey_get, but for an id with no key (0) k is a decoy that answers as a key would: a salt
 * that is the same each time (an HMAC of the id keyed with a secret of the store), the
 * iterations of the newest key, random verifiers that nothing matches.  So asking about an id
 * tells nothing of whether it exists.  (With no store at all the salt is random: there is no
 * key to tell apart.) */
int apikey_lookup(const char *state_dir, uint32_t id, struct apikey *k, char *err, size_t errlen);

/* Calls fn for every key, in id order.  -1 with err set. */
int apikey_list(const char *state_dir, void (*fn)(const struct apikey *k, void *arg), void *arg,
		char *err, size_t errlen);

/* Marks the key revoked.  1 done, 0 no such key, -1 with err set. */
int apikey_revoke(const char *state_dir, uint32_t id, char *err, size_t errlen);

/* A key id: 1 to 4294967295 in decimal, digits only, no leading zero.  -1 when not one. */
int apikey_parse_id(const char *text, size_t len, uint32_t *id);

/* "<id>-<secret>" into id and secret: -1 when it is not that shape. */
int apikey_split(const char *key, uint32_t *id, const char **secret);

#endif
