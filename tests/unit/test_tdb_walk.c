/* cache/tdb_walk.c reads what tdb's own chain traversal reads, in its order: a file written
 * front to back (tdb_build), one tdb changed since (stores, deletes, dead records, a file grown
 * in a transaction); a damaged file is refused, never read past. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_case.h"
#include "tdb_build.h"
#include "tdb_walk.h"

static char dir[] = "/tmp/dir-test-tdb-walk-XXXXXX";
static char path[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.tdb", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/dir-test-tdb-walk-XXXXXX");
}

/* Each record seen, key and data, one a line. */
struct seen {
	char *text;
	size_t len;
	int stop_after; /* 0: never */
	int n;
	bool slow; /* 1 ms a record */
	const char *prefix; /* of the keys noted (tdb_traverse_chain's: tdb_walk takes its own) */
};

static int note(struct tdb_context *t, TDB_DATA key, TDB_DATA data, void *arg)
{
	(void)t;
	struct seen *s = arg;
	size_t pl = s->prefix ? strlen(s->prefix) : 0;
	if (key.dsize < pl || (pl && memcmp(key.dptr, s->prefix, pl)))
		return 0;
	s->text = realloc(s->text, s->len + key.dsize + data.dsize + 3);
	memcpy(s->text + s->len, key.dptr, key.dsize);
	s->len += key.dsize;
	s->text[s->len++] = '=';
	memcpy(s->text + s->len, data.dptr, data.dsize);
	s->len += data.dsize;
	s->text[s->len++] = '\n';
	s->text[s->len] = '\0';
	if (s->slow)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return ++s->n == s->stop_after;
}

static struct tdb_context *open_rw(void)
{
	struct tdb_context *t = tdb_open(path, 0, 0, O_RDWR, 0600);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(tdb_lockall_read(t), 0);
	return t;
}

/* tdb_walk and tdb_traverse_chain over every chain see the same records (those whose key
 * begins with prefix) in the same order. */
static void same_as_tdb(const char *prefix)
{
	struct tdb_context *t = open_rw();
	struct seen walked = { 0 }, chained = { .prefix = prefix };
	ck_assert_int_eq(tdb_walk(t, prefix, note, &walked), 0);
	for (int i = 0; i < tdb_hash_size(t); i++)
		ck_assert_int_ge(tdb_traverse_chain(t, (unsigned)i, note, &chained), 0);
	ck_assert_int_gt(walked.n, 0);
	ck_assert_int_eq(walked.n, chained.n);
	ck_assert_str_eq(walked.text, chained.text);
	/* Split in two: the first half's records, then the second's, are tdb's order too. */
	struct seen first = { 0 }, second = { 0 };
	ck_assert_int_eq(tdb_walk_split(t, prefix, note, &first, note, &second), 0);
	ck_assert_int_gt(first.n, 0);
	ck_assert_int_gt(second.n, 0);
	ck_assert_int_eq(first.n + second.n, chained.n);
	ck_assert_uint_eq(first.len + second.len, chained.len);
	ck_assert_int_eq(memcmp(first.text, chained.text, first.len), 0);
	ck_assert_str_eq(second.text, chained.text + first.len);
	free(first.text);
	free(second.text);
	tdb_unlockall_read(t);
	tdb_close(t);
	free(walked.text);
	free(chained.text);
}

static void build_hashed(int n, uint32_t hash_size)
{
	struct tdb_build *b = tdb_build_start(path, hash_size);
	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < n; i++) {
		char key[32], val[64];
		int kl = snprintf(key, sizeof(key), "NAME_user%d", i);
		int vl = snprintf(val, sizeof(val), "{\"n\":%d}", i);
		ck_assert_int_eq(tdb_build_put(b, key, (size_t)kl, val, (size_t)vl), 0);
	}
	ck_assert_int_eq(tdb_build_finish(b), 0);
}

static void build(int n)
{
	build_hashed(n, 101);
}

START_TEST(built_and_changed_files_read_as_tdb_reads_them)
{
	build(1000);
	same_as_tdb("");
	struct tdb_context *t = tdb_open(path, 0, 0, O_RDWR, 0600);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(tdb_transaction_start(t), 0);
	for (int i = 0; i < 3000; i++) {
		char key[32], val[600];
		int kl = snprintf(key, sizeof(key), "SYNC_%d", i);
		memset(val, 'v', sizeof(val));
		TDB_DATA k = { (unsigned char *)key, (size_t)kl }, v = { (unsigned char *)val, 1 + i % 500 };
		ck_assert_int_eq(tdb_store(t, k, v, TDB_REPLACE), 0);
	}
	for (int i = 0; i < 1000; i += 3) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "NAME_user%d", i);
		ck_assert_int_eq(tdb_delete(t, (TDB_DATA){ (unsigned char *)key, (size_t)kl }), 0);
	}
	ck_assert_int_eq(tdb_transaction_commit(t), 0);
	tdb_set_max_dead(t, 50);
	for (int i = 1; i < 1000; i += 7) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "NAME_user%d", i);
		tdb_delete(t, (TDB_DATA){ (unsigned char *)key, (size_t)kl });
	}
	tdb_close(t);
	same_as_tdb("");
	same_as_tdb("NAME_");
	same_as_tdb("SYNC_1");
	/* fn stops it */
	t = open_rw();
	struct seen s = { .stop_after = 5 };
	ck_assert_int_eq(tdb_walk(t, "", note, &s), 1);
	ck_assert_int_eq(s.n, 5);
	free(s.text);
	tdb_close(t);
}
END_TEST

/* A u32 written at off. */
static void poke(off_t off, uint32_t v)
{
	int fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, &v, sizeof(v), off), sizeof(v));
	close(fd);
}

static uint32_t peek(off_t off)
{
	uint32_t v = 0;
	int fd = open(path, O_RDONLY);
	ck_assert_int_eq(pread(fd, &v, sizeof(v), off), sizeof(v));
	close(fd);
	return v;
}

enum { HEADS = 168 + 4 }; /* chain 0's head: past the header and the free list's */

/* A split walk of the file refused as damaged (EIO). */
static void split_walk_fails(struct seen *first, struct seen *second)
{
	struct tdb_context *t = open_rw();
	ck_assert_int_eq(tdb_walk_split(t, "", note, first, note, second), -1);
	ck_assert_int_eq(errno, EIO);
	tdb_close(t);
}

START_TEST(damaged_files_are_refused)
{
	/* a head past the end, a record whose next is itself (a loop), one with a bad magic, one
	 * longer than the file */
	for (int damage = 0; damage < 4; damage++) {
		build(300);
		uint32_t first = 0;
		for (int i = 0; !first; i++)
			first = peek(HEADS + 4 * i);
		if (damage == 0)
			poke(HEADS, 0x7ffffff0);
		else if (damage == 1)
			poke(first, first);
		else if (damage == 2)
			poke(first + 20, 0x12345678);
		else
			poke(first + 4, 0x7ffffff0);
		struct tdb_context *t = open_rw();
		struct seen s = { 0 }, one = { 0 }, two = { 0 };
		ck_assert_int_eq(tdb_walk(t, "", note, &s), -1);
		ck_assert_int_eq(tdb_walk_split(t, "", note, &one, note, &two), -1);
		ck_assert_int_eq(errno, EIO);
		free(s.text);
		free(one.text);
		free(two.text);
		tdb_close(t);
		unlink(path);
	}
	/* the last chain's head past the end: the second half of a split walk fails it */
	build(300);
	poke(HEADS + 4 * 100, 0x7ffffff0);
	struct seen first = { 0 }, second = { 0 };
	split_walk_fails(&first, &second);
	ck_assert_int_gt(first.n, 0);
	free(first.text);
	free(second.text);
	unlink(path);
}
END_TEST

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A chain damaged into a loop in a large file is refused holding little more than the map of
 * the file: it was followed until a budget of steps the file's size allows ran out, each step
 * noted (20 bytes for each 24 of the file: 53 MB here). */
START_TEST(a_loop_is_refused_without_memory_for_the_file)
{
	enum { SIZE = 64 << 20 };
	build(300);
	uint32_t first = 0;
	for (int i = 0; !first; i++)
		first = peek(HEADS + 4 * i);
	poke(first, first);
	ck_assert_int_eq(truncate(path, SIZE), 0); /* what follows the records: a grown file's room */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct tdb_context *t = tdb_open(path, 0, 0, O_RDWR, 0600);
		if (!t || tdb_lockall_read(t) != 0)
			_exit(2);
		struct seen s = { 0 }, one = { 0 }, two = { 0 };
		long before = max_rss_kb();
		int rc = tdb_walk(t, "", note, &s);
		int rc_split = tdb_walk_split(t, "", note, &one, note, &two);
		long grown_kb = max_rss_kb() - before;
		fprintf(stderr, "walks %d %d (%s), grown by %ld kB\n", rc, rc_split, strerror(errno), grown_kb);
		/* the map of the file may count (its pages, read), the notes of the loop must not */
		_exit(rc == -1 && rc_split == -1 && errno == EIO && grown_kb < (SIZE + SIZE / 4) / 1024 ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* The first half of a split walk fails at its first chain: the second stops at its next block
 * of chains rather than going through its half (2,000 records at 1 ms each here). */
START_TEST(a_split_walk_stops_when_one_half_fails)
{
	build_hashed(4000, 4099);
	poke(HEADS, 0x7ffffff0);
	struct seen first = { 0 }, second = { .slow = true };
	split_walk_fails(&first, &second);
	ck_assert_int_lt(second.n, 1000);
	free(first.text);
	free(second.text);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { built_and_changed_files_read_as_tdb_reads_them,
				       damaged_files_are_refused,
				       a_loop_is_refused_without_memory_for_the_file,
				       a_split_walk_stops_when_one_half_fails, NULL };
	return run_tests("tdb_walk", setup, teardown, tests);
}
