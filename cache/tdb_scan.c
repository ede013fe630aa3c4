#include "tdb_scan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdb_layout.h"
#include "tdb_walk.h"

#define BLOCK ((size_t)1 << 20)

/* The file read forward a block at a time: [at, at + len) of it in buf. */
struct reader {
	int fd;
	uint64_t size, at;
	uint8_t *buf;
	size_t len, cap;
};

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* The n bytes at off (within the file), in the buffer: read from off when they are not. */
static const uint8_t *bytes_at(struct reader *r, uint64_t off, size_t n)
{
	if (off >= r->at && off + n <= r->at + r->len)
		return r->buf + (off - r->at);
	size_t want = n > BLOCK ? n : BLOCK;
	if (want > r->size - off)
		want = (size_t)(r->size - off);
	if (want > r->cap) {
		uint8_t *grown = realloc(r->buf, want);
		if (!grown)
			return NULL;
		r->buf = grown;
		r->cap = want;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			r->len = 0;
			return NULL;
		}
		got += (size_t)k;
	}
	r->at = off;
	r->len = got;
	return n <= got ? r->buf : NULL;
}

static bool header_known(struct reader *r, uint32_t hash_size)
{
	const uint8_t *h = bytes_at(r, 0, HEADER_LEN);
	return h && memcmp(h, MAGIC_FOOD, sizeof(MAGIC_FOOD)) == 0 &&
	       u32_at(h + VERSION_OFF) == TDB_FILE_VERSION && u32_at(h + HASH_SIZE_OFF) == hash_size;
}

int tdb_scan(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg)
{
	struct stat st;
	struct reader r = { .fd = tdb_fd(t) };
	uint32_t hash_size = (uint32_t)tdb_hash_size(t);
	uint64_t off = HEADER_LEN + 4 * ((uint64_t)hash_size + 1);
	if (r.fd < 0 || fstat(r.fd, &st) < 0 || (uint64_t)st.st_size < off)
		return TDB_WALK_OTHER;
	r.size = (uint64_t)st.st_size;
	if (!header_known(&r, hash_size)) {
		free(r.buf);
		return TDB_WALK_OTHER;
	}
	size_t prefix_len = strlen(prefix);
	bool handed = false;
	int rc = 0;
	while (rc == 0 && off < r.size) {
		const uint8_t *h = r.size - off >= RECORD_HEAD ? bytes_at(&r, off, RECORD_HEAD) : NULL;
		uint32_t magic = h ? u32_at(h + 20) : 0;
		uint64_t rec_len = h ? u32_at(h + 4) : 0, key_len = h ? u32_at(h + 8) : 0,
			 data_len = h ? u32_at(h + 12) : 0;
		bool known = h && (magic == RECORD_MAGIC || magic == DEAD_MAGIC ||
				   magic == FREE_MAGIC || magic == RECOVERY_MAGIC ||
				   magic == RECOVERY_INVALID_MAGIC);
		if (!known || off + RECORD_HEAD + rec_len > r.size ||
		    (magic == RECORD_MAGIC && key_len + data_len > rec_len) ||
		    (magic == RECOVERY_INVALID_MAGIC && !rec_len)) {
			rc = handed ? -1 : TDB_WALK_OTHER;
			break;
		}
		if (magic == RECORD_MAGIC && key_len >= prefix_len) {
			const uint8_t *p = bytes_at(&r, off + RECORD_HEAD, (size_t)(key_len + data_len));
			if (!p) {
				rc = handed ? -1 : TDB_WALK_OTHER;
				break;
			}
			if (memcmp(p, prefix, prefix_len) == 0) {
				TDB_DATA key = { (unsigned char *)p, (size_t)key_len };
				TDB_DATA data = { (unsigned char *)p + key_len, (size_t)data_len };
				handed = true;
				rc = fn(t, key, data, arg) ? 1 : 0;
			}
		}
		off += RECORD_HEAD + rec_len;
	}
	free(r.buf);
	if (rc == -1)
		errno = EIO;
	return rc;
}
