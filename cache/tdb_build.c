#include "tdb_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tdb.h>
#include <unistd.h>

#include "fileutil.h"
#include "tdb_open.h"

/* tdb's on-disk layout (lib/tdb/common/tdb_private.h): a header of 168 bytes, the free list's
 * head, one head per hash chain, then records.  A record: this, the key, the data, padding to
 * 4 bytes and a tailer (the record's whole length) in its last 4 bytes. */
#define TDB_HEADER_LEN 168
#define TDB_RECORD_MAGIC 0x26011999U

struct tdb_record_head {
	uint32_t next;	   /* the next record of its chain, 0 at the end */
	uint32_t rec_len;  /* what follows this head, tailer included */
	uint32_t key_len;
	uint32_t data_len;
	uint32_t full_hash;
	uint32_t magic;
};

struct tdb_build {
	char *path;
	struct file_sink out;
	uint32_t hash_size;
	uint32_t *heads; /* each chain's first record */
	bool created;	 /* path is ours to remove on failure */
};

struct tdb_build *tdb_build_start(const char *path, uint32_t hash_size)
{
	struct tdb_build *b = calloc(1, sizeof(*b));
	if (!b || !(b->path = strdup(path)) || !(b->heads = calloc(hash_size + 1, 4))) {
		if (b)
			free(b->path);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	b->out.fd = -1;
	buf_init(&b->out.chunk, UINT32_MAX);
	struct tdb_context *t = dir_tdb_open(path, (int)hash_size, TDB_NOLOCK | TDB_NOSYNC |
					 TDB_INCOMPATIBLE_HASH, O_RDWR | O_CREAT | O_EXCL |
					 O_CLOEXEC, 0600);
	struct stat st;
	if (t) {
		b->created = true;
		b->hash_size = (uint32_t)tdb_hash_size(t);
		dir_tdb_close(t);
		b->out.fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	bool ok = b->out.fd >= 0 && fstat(b->out.fd, &st) == 0 &&
		  lseek(b->out.fd, 0, SEEK_END) >= 0;
	/* What tdb_open wrote is the header and the heads, nothing else, or this is not the
	 * layout this file knows. */
	if (ok && (b->hash_size != hash_size ||
		   st.st_size != TDB_HEADER_LEN + 4 * ((off_t)hash_size + 1))) {
		ok = false;
		errno = EINVAL;
	}
	if (!ok) {
		b->out.failed = true;
		tdb_build_finish(b);
		return NULL;
	}
	b->out.written = (uint64_t)st.st_size;
	return b;
}

int tdb_build_put(struct tdb_build *b, const void *key, size_t key_len, const void *val,
		  size_t val_len)
{
	TDB_DATA k = { .dptr = (unsigned char *)key, .dsize = key_len };
	uint64_t at = file_sink_pos(&b->out);
	uint64_t len = ((uint64_t)key_len + val_len + 4 + 3) & ~(uint64_t)3;
	/* offsets in a tdb are 32 bits */
	if (at + sizeof(struct tdb_record_head) + len >= UINT32_MAX) {
		b->out.failed = true;
		errno = EFBIG;
		return -1;
	}
	uint32_t hash = tdb_jenkins_hash(&k), chain = hash % b->hash_size;
	struct tdb_record_head h = { b->heads[chain], (uint32_t)len, (uint32_t)key_len,
				     (uint32_t)val_len, hash, TDB_RECORD_MAGIC };
	static const uint8_t pad[4];
	uint32_t tailer = (uint32_t)(sizeof(h) + len);
	file_sink_put(&b->out, &h, sizeof(h));
	file_sink_put(&b->out, key, key_len);
	file_sink_put(&b->out, val, val_len);
	file_sink_put(&b->out, pad, len - key_len - val_len - 4);
	file_sink_put(&b->out, &tailer, sizeof(tailer));
	b->heads[chain] = (uint32_t)at;
	return b->out.failed ? -1 : 0;
}

int tdb_build_finish(struct tdb_build *b)
{
	file_sink_flush(&b->out, 0);
	size_t heads_len = (size_t)b->hash_size * 4;
	bool ok = !b->out.failed &&
		  pwrite(b->out.fd, b->heads, heads_len, TDB_HEADER_LEN + 4) == (ssize_t)heads_len &&
		  fsync(b->out.fd) == 0;
	int saved = errno;
	if (b->out.fd >= 0 && close(b->out.fd) != 0)
		ok = false;
	if (!ok && b->created)
		unlink(b->path);
	buf_free(&b->out.chunk);
	free(b->heads);
	free(b->path);
	free(b);
	errno = saved ? saved : EIO;
	return ok ? 0 : -1;
}
