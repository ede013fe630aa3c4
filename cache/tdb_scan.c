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

static bool header_known(struct reader *r, uint32_t hash_size, uint64_t *recovery_start)
{
	const uint8_t *h = bytes_at(r, 0, HEADER_LEN);
	if (!h || memcmp(h, MAGIC_FOOD, sizeof(MAGIC_FOOD)) != 0 ||
	    u32_at(h + VERSION_OFF) != TDB_FILE_VERSION || u32_at(h + HASH_SIZE_OFF) != hash_size)
		return false;
	*recovery_start = u32_at(h + RECOVERY_START_OFF);
	return true;
}

/* How many bytes of 0 or 0x42 run from off: where a record should start, what a crash after
 * the file was grown leaves (tdb_check takes such a run for dead space, as here). */
static uint64_t dead_space(struct reader *r, uint64_t off)
{
	uint64_t len = 0;
	while (off + len < r->size) {
		size_t n = r->size - (off + len) < BLOCK ? (size_t)(r->size - (off + len)) : BLOCK;
		const uint8_t *p = bytes_at(r, off + len, n);
		if (!p)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (p[i] != 0 && p[i] != 0x42)
				return len + i;
		len += n;
	}
	return len;
}

/* A live, dead or free record ends in a tailer, its whole length (tdb_check checks it): a
 * length field damaged to another value inside the file would skip records unseen. */
static bool tailer_ok(struct reader *r, uint64_t off, uint64_t rec_len)
{
	if (rec_len < 4 || rec_len % 4)
		return false;
	const uint8_t *t = bytes_at(r, off + RECORD_HEAD + rec_len - 4, 4);
	return t && u32_at(t) == RECORD_HEAD + rec_len;
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
	uint64_t recovery_start = 0;
	if (!header_known(&r, hash_size, &recovery_start)) {
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
		bool chained = magic == RECORD_MAGIC || magic == DEAD_MAGIC || magic == FREE_MAGIC;
		bool known = h && (chained || magic == RECOVERY_MAGIC ||
				   magic == RECOVERY_INVALID_MAGIC || magic == FILL_MAGIC);
		if (h && (magic == RECOVERY_INVALID_MAGIC || magic == FILL_MAGIC) &&
		    off != recovery_start) {
			uint64_t dead = dead_space(&r, off);
			known = dead >= RECORD_HEAD;
			rec_len = known ? dead - RECORD_HEAD : 0;
		}
		if (!known || off + RECORD_HEAD + rec_len > r.size ||
		    (magic == RECORD_MAGIC && key_len + data_len + 4 > rec_len) ||
		    (chained && !tailer_ok(&r, off, rec_len)) ||
		    (magic == RECOVERY_INVALID_MAGIC && off == recovery_start && !rec_len)) {
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
