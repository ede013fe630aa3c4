#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tdb.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define RECORD_VERSION 1
#define MAX_RECORD 4096
#define DECOY_KEY "decoy"
#define DECOY_SECRET_LEN 32

/* The store, opened once per process: tdb refuses a second open of one file in one process
 * (EBUSY), and a tdb_context is not for two threads at once, so every use holds `lock`.  It is
 * opened again after a fork, when the file was replaced, or to write; it is closed when the
 * program ends or pam_dir.so is unloaded (libpam does at pam_end).  A child after fork closes
 * the copy it inherited before it opens the store: libtdb's list of open files came along with
 * it (so an open beside it fails with EBUSY), and closing the copy releases none of the
 * parent's locks (fcntl locks are not inherited) nor its map. */
static struct {
	pthread_mutex_t lock;
	struct tdb_context *tdb;
	char path[4096];
	bool write;
	pid_t pid;
} store = { .lock = PTHREAD_MUTEX_INITIALIZER };

void apikey_store_path(const char *state_dir, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/apikeys.tdb", state_dir);
}

static TDB_DATA datum(const void *p, size_t n)
{
	TDB_DATA d = { (unsigned char *)p, n };
	return d;
}

/* The store, opened as a file only root may read: its directory is made 0700 when missing,
 * and a file that group or others can read, or that is not ours, is refused. */
static struct tdb_context *open_store(const char *state_dir, bool write, bool *missing, char *err,
				      size_t errlen)
{
	char path[4096];
	*missing = false;
	apikey_store_path(state_dir, path, sizeof(path));
	if (write && mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", state_dir, strerror(errno));
		return NULL;
	}
	struct tdb_context *t = tdb_open(path, 0, TDB_DEFAULT, write ? O_RDWR | O_CREAT : O_RDONLY, 0600);
	if (!t) {
		if (!write && errno == ENOENT)
			*missing = true;
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(tdb_fd(t), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		snprintf(err, errlen, "%s: not a file of ours that only we can read; refused", path);
		tdb_close(t);
		return NULL;
	}
	return t;
}

/* A fork while another thread uses the store would leave the child a lock no one releases:
 * the forking thread takes it first, and both sides release it after. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&store.lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&store.lock);
}

__attribute__((constructor)) static void store_init(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

__attribute__((destructor)) static void store_close(void)
{
	if (store.tdb)
		tdb_close(store.tdb);
	store.tdb = NULL;
}

/* The store with store.lock held (store_done() releases it); NULL, with the lock released, when
 * it cannot be opened (*missing: there is none yet). */
static struct tdb_context *store_open(const char *state_dir, bool write, bool *missing, char *err,
				      size_t errlen)
{
	char path[sizeof(store.path)];
	struct stat now, held;
	apikey_store_path(state_dir, path, sizeof(path));
	pthread_mutex_lock(&store.lock);
	if (store.tdb && (store.pid != getpid() || strcmp(store.path, path) || (write && !store.write) ||
			  stat(path, &now) < 0 || fstat(tdb_fd(store.tdb), &held) < 0 ||
			  now.st_dev != held.st_dev || now.st_ino != held.st_ino ||
			  (held.st_mode & 077) || held.st_uid != geteuid())) {
		/* Gone, replaced, no longer ours alone, or a parent's: open_store decides again. */
		tdb_close(store.tdb);
		store.tdb = NULL;
	}
	if (!store.tdb) {
		*missing = false;
		if (!(store.tdb = open_store(state_dir, write, missing, err, errlen))) {
			pthread_mutex_unlock(&store.lock);
			return NULL;
		}
		snprintf(store.path, sizeof(store.path), "%s", path);
		store.write = write;
		store.pid = getpid();
	}
	return store.tdb;
}

static void store_done(void)
{
	pthread_mutex_unlock(&store.lock);
}

static void key_of(uint32_t id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%" PRIu32, id);
}

static void put_bytes(struct buf *b, const unsigned char *p, size_t n)
{
	buf_put_u32(b, (uint32_t)n);
	buf_put_bytes(b, p, n);
}

static void encode(const struct apikey *k, struct buf *b)
{
	buf_put_u32(b, RECORD_VERSION);
	buf_put_str(b, k->user);
	buf_put_str(b, k->name);
	buf_put_u64(b, k->created);
	buf_put_u64(b, k->expires);
	buf_put_u32(b, k->revoked);
	buf_put_u32(b, k->iterations);
	put_bytes(b, k->salt, sizeof(k->salt));
	put_bytes(b, k->keys.stored, k->keys.len);
	put_bytes(b, k->keys.server, k->keys.len);
}

/* Exactly n bytes into out, or the cursor fails. */
static void get_bytes(struct cursor *c, unsigned char *out, size_t n)
{
	if (cursor_u32(c) != n) {
		c->failed = true;
		return;
	}
	const void *p = cursor_bytes(c, n);
	if (p)
		memcpy(out, p, n);
}

static void get_str(struct cursor *c, char *out, size_t outlen)
{
	uint32_t len = 0;
	const char *s = cursor_str(c, &len);
	if (!s || len >= outlen)
		c->failed = true;
	else
		memcpy(out, s, (size_t)len + 1);
}

static int decode(const TDB_DATA *d, uint32_t id, struct apikey *k)
{
	struct cursor c;
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->keys.len = SCRAM_MAX_HASH;
	cursor_init(&c, d->dptr, d->dsize);
	if (cursor_u32(&c) != RECORD_VERSION)
		return -1;
	get_str(&c, k->user, sizeof(k->user));
	get_str(&c, k->name, sizeof(k->name));
	k->created = cursor_u64(&c);
	k->expires = cursor_u64(&c);
	k->revoked = cursor_u32(&c) != 0;
	k->iterations = cursor_u32(&c);
	get_bytes(&c, k->salt, sizeof(k->salt));
	get_bytes(&c, k->keys.stored, k->keys.len);
	get_bytes(&c, k->keys.server, k->keys.len);
	return cursor_done(&c) && k->iterations >= APIKEY_MIN_ITERATIONS &&
			       k->iterations <= APIKEY_MAX_ITERATIONS ? 0 : -1;
}

static int store_key(struct tdb_context *t, const struct apikey *k)
{
	char key[16];
	struct buf b;
	buf_init(&b, MAX_RECORD);
	encode(k, &b);
	key_of(k->id, key, sizeof(key));
	int rc = b.failed ? -1 : tdb_store(t, datum(key, strlen(key)), datum(b.data, b.len), TDB_REPLACE);
	buf_free_wipe(&b);
	return rc;
}

/* The store's decoy record: u32 version, the secret decoy salts are keyed with, and the
 * iterations of the newest key (what an unknown id is answered with). */
struct decoy {
	unsigned char secret[DECOY_SECRET_LEN];
	uint32_t iterations;
};

static int read_decoy(struct tdb_context *t, struct decoy *d)
{
	TDB_DATA v = tdb_fetch(t, datum(DECOY_KEY, strlen(DECOY_KEY)));
	struct cursor c;
	cursor_init(&c, v.dptr, v.dptr ? v.dsize : 0);
	bool ok = v.dptr && cursor_u32(&c) == RECORD_VERSION;
	get_bytes(&c, d->secret, sizeof(d->secret));
	d->iterations = cursor_u32(&c);
	ok = ok && cursor_done(&c) && d->iterations >= APIKEY_MIN_ITERATIONS &&
	     d->iterations <= APIKEY_MAX_ITERATIONS;
	if (v.dptr) {
		OPENSSL_cleanse(v.dptr, v.dsize);
		free(v.dptr);
	}
	return ok ? 0 : -1;
}

/* In the transaction of a new key: the decoy record, made once, with this key's iterations. */
static int keep_decoy(struct tdb_context *t, unsigned iterations)
{
	struct decoy d;
	if (read_decoy(t, &d) < 0 && RAND_bytes(d.secret, sizeof(d.secret)) != 1)
		return -1;
	d.iterations = iterations;
	struct buf b;
	buf_init(&b, MAX_RECORD);
	buf_put_u32(&b, RECORD_VERSION);
	put_bytes(&b, d.secret, sizeof(d.secret));
	buf_put_u32(&b, d.iterations);
	int rc = b.failed ? -1 : tdb_store(t, datum(DECOY_KEY, strlen(DECOY_KEY)), datum(b.data, b.len), TDB_REPLACE);
	buf_free_wipe(&b);
	OPENSSL_cleanse(&d, sizeof(d));
	return rc;
}

/* 64 letters and digits, uniformly: bytes of 248 and above are thrown away (248 = 4 * 62). */
static int make_secret(char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;
	while (n < APIKEY_SECRET_LEN) {
		unsigned char raw[96];
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return -1;
		for (size_t i = 0; i < sizeof(raw) && n < APIKEY_SECRET_LEN; i++)
			if (raw[i] < 248)
				out[n++] = alphabet[raw[i] % 62];
		OPENSSL_cleanse(raw, sizeof(raw));
	}
	out[n] = '\0';
	return 0;
}

int apikey_create(const char *state_dir, struct apikey *k, char *secret, char *err, size_t errlen)
{
	if (k->iterations < APIKEY_MIN_ITERATIONS || k->iterations > APIKEY_MAX_ITERATIONS) {
		snprintf(err, errlen, "iterations must be from %d to %d", APIKEY_MIN_ITERATIONS,
			 APIKEY_MAX_ITERATIONS);
		return -1;
	}
	if (make_secret(secret) < 0 || RAND_bytes(k->salt, sizeof(k->salt)) != 1 ||
	    scram_derive(EVP_sha512(), secret, k->salt, sizeof(k->salt), k->iterations, &k->keys) < 0) {
		snprintf(err, errlen, "libcrypto failed to make a key");
		return -1;
	}
	bool missing;
	struct tdb_context *t = store_open(state_dir, true, &missing, err, errlen);
	if (!t)
		return -1;
	int rc = -1;
	if (tdb_transaction_start(t) == 0) {
		static const char next_key[] = "next_id";
		TDB_DATA cur = tdb_fetch(t, datum(next_key, strlen(next_key)));
		uint32_t next = 1;
		if (cur.dptr && cur.dsize == sizeof(next))
			memcpy(&next, cur.dptr, sizeof(next));
		free(cur.dptr);
		k->id = next++;
		k->created = (uint64_t)time(NULL);
		if (next != 0 && store_key(t, k) == 0 && keep_decoy(t, k->iterations) == 0 &&
		    tdb_store(t, datum(next_key, strlen(next_key)), datum(&next, sizeof(next)), TDB_REPLACE) == 0 &&
		    tdb_transaction_commit(t) == 0)
			rc = 0;
		else
			tdb_transaction_cancel(t);
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot write the key store: %s", tdb_errorstr(t));
	store_done();
	return rc;
}

/* The record of `id` (1), none (0), or -1; a decoy in *d when there is none and the store has
 * one.  store.lock is held. */
static int fetch(struct tdb_context *t, uint32_t id, struct apikey *k, struct decoy *d, bool *have_decoy,
		 char *err, size_t errlen)
{
	char key[16];
	key_of(id, key, sizeof(key));
	TDB_DATA v = tdb_fetch(t, datum(key, strlen(key)));
	if (!v.dptr) {
		*have_decoy = d && read_decoy(t, d) == 0;
		return 0;
	}
	int rc = decode(&v, id, k) == 0 ? 1 : -1;
	if (rc < 0)
		snprintf(err, errlen, "key %" PRIu32 ": a damaged record", id);
	OPENSSL_cleanse(v.dptr, v.dsize);
	free(v.dptr);
	return rc;
}

int apikey_get(const char *state_dir, uint32_t id, struct apikey *k, char *err, size_t errlen)
{
	bool missing, have_decoy;
	struct tdb_context *t = store_open(state_dir, false, &missing, err, errlen);
	if (!t)
		return missing ? 0 : -1;
	int rc = fetch(t, id, k, NULL, &have_decoy, err, errlen);
	store_done();
	return rc;
}

int apikey_lookup(const char *state_dir, uint32_t id, struct apikey *k, char *err, size_t errlen)
{
	bool missing, have_decoy = false;
	struct decoy d;
	struct tdb_context *t = store_open(state_dir, false, &missing, err, errlen);
	if (!t && !missing)
		return -1;
	int found = t ? fetch(t, id, k, &d, &have_decoy, err, errlen) : 0;
	if (t)
		store_done();
	if (found != 0)
		return found;
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->keys.len = SCRAM_MAX_HASH;
	k->iterations = have_decoy ? d.iterations : APIKEY_DEFAULT_ITERATIONS;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	char text[32];
	int n = snprintf(text, sizeof(text), "decoy salt %" PRIu32, id);
	bool ok = have_decoy ? HMAC(EVP_sha512(), d.secret, sizeof(d.secret), (const unsigned char *)text,
				    (size_t)n, mac, &mac_len) && mac_len >= sizeof(k->salt) :
			       RAND_bytes(mac, sizeof(k->salt)) == 1; /* no store: no key to tell apart */
	if (ok)
		memcpy(k->salt, mac, sizeof(k->salt));
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(&d, sizeof(d));
	if (!ok || RAND_bytes(k->keys.stored, sizeof(k->keys.stored)) != 1 ||
	    RAND_bytes(k->keys.server, sizeof(k->keys.server)) != 1) {
		snprintf(err, errlen, "libcrypto failed to make a decoy");
		return -1;
	}
	return 0;
}

struct list_ctx {
	uint32_t *ids;
	size_t n, cap;
};

static int collect_id(struct tdb_context *t, TDB_DATA key, TDB_DATA data, void *arg)
{
	(void)t, (void)data;
	struct list_ctx *l = arg;
	uint32_t id;
	if (apikey_parse_id((const char *)key.dptr, key.dsize, &id) < 0)
		return 0; /* "next_id" and anything else */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint32_t *v = realloc(l->ids, cap * sizeof(*v));
		if (!v)
			return -1;
		l->ids = v;
		l->cap = cap;
	}
	l->ids[l->n++] = id;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int apikey_list(const char *state_dir, void (*fn)(const struct apikey *k, void *arg), void *arg,
		char *err, size_t errlen)
{
	bool missing;
	struct tdb_context *t = store_open(state_dir, false, &missing, err, errlen);
	if (!t)
		return missing ? 0 : -1;
	struct list_ctx l = { 0 };
	int rc = tdb_traverse_read(t, collect_id, &l) < 0 ? -1 : 0;
	store_done();
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the key store");
		free(l.ids);
		return -1;
	}
	qsort(l.ids, l.n, sizeof(*l.ids), by_id);
	for (size_t i = 0; i < l.n; i++) {
		struct apikey k;
		if (apikey_get(state_dir, l.ids[i], &k, err, errlen) == 1)
			fn(&k, arg);
		OPENSSL_cleanse(&k, sizeof(k));
	}
	free(l.ids);
	return 0;
}

int apikey_revoke(const char *state_dir, uint32_t id, char *err, size_t errlen)
{
	struct apikey k;
	int found = apikey_get(state_dir, id, &k, err, errlen);
	if (found <= 0)
		return found;
	bool missing;
	struct tdb_context *t = store_open(state_dir, true, &missing, err, errlen);
	if (!t)
		return -1;
	k.revoked = true;
	int rc = store_key(t, &k) == 0 ? 1 : -1;
	if (rc < 0)
		snprintf(err, errlen, "cannot write the key store: %s", tdb_errorstr(t));
	store_done();
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

int apikey_parse_id(const char *text, size_t len, uint32_t *id)
{
	uint64_t n = 0;
	if (len == 0 || len > 10 || text[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(text[i] - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*id = (uint32_t)n;
	return 0;
}

int apikey_split(const char *key, uint32_t *id, const char **secret)
{
	const char *dash = strchr(key, '-');
	if (!dash || apikey_parse_id(key, (size_t)(dash - key), id) < 0)
		return -1;
	*secret = dash + 1;
	return 0;
}
