/* The NSS entry points called directly, against index files this test writes: buffers too
 * small, names that are not names, damaged files, a replaced file. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "run_case.h"

enum nss_status _nss_dir_getpwnam_r(const char *, struct passwd *, char *, size_t, int *);
enum nss_status _nss_dir_getpwuid_r(uid_t, struct passwd *, char *, size_t, int *);
enum nss_status _nss_dir_getgrnam_r(const char *, struct group *, char *, size_t, int *);
enum nss_status _nss_dir_getgrgid_r(gid_t, struct group *, char *, size_t, int *);
enum nss_status _nss_dir_setpwent(int);
enum nss_status _nss_dir_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_dir_endpwent(void);
enum nss_status _nss_dir_setgrent(int);
enum nss_status _nss_dir_getgrent_r(struct group *, char *, size_t, int *);
enum nss_status _nss_dir_endgrent(void);
enum nss_status _nss_dir_initgroups_dyn(const char *, gid_t, long *, long *, gid_t **, long,
					int *);

static char dir[64];
static char index_path[128];

static void write_index(const char *gecos)
{
	static uint32_t alice_groups[] = { 20100, 20200 };
	char *members[] = { "alice", "bob" };
	struct dir_user alice = { .name = "alice", .uid = 20001, .gid = 20000, .gecos = (char *)gecos,
				  .home = "/home/alice", .shell = "/bin/bash", .domain = "t",
				  .groups = alice_groups, .n_groups = 2 };
	struct dir_user bob = { .name = "bob", .uid = 20002, .gid = 20000, .gecos = "",
				.home = "/home/bob", .shell = "/bin/sh", .domain = "t" };
	struct dir_group staff = { .name = "staff", .gid = 20000, .domain = "t", .members = members,
				   .n_members = 2 };
	struct dir_user *users[] = { &alice, &bob };
	struct dir_group *groups[] = { &staff };
	alice.fetched = bob.fetched = staff.fetched = (uint64_t)time(NULL);
	ck_assert_int_eq(index_write(index_path, users, 2, groups, 1, 3600, 1), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/dir-test-nss-%d", getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/dird.conf", dir);
	FILE *f = fopen(conf, "w");
	/* run_dir has no socket: every miss is UNAVAIL at once. */
	fprintf(f, "[global]\ncache_dir = %s\nrun_dir = %s\nnss_timeout = 0.2\n", dir, dir);
	fclose(f);
	setenv("DIR_CONF", conf, 1);
	snprintf(index_path, sizeof(index_path), "%s/%s", dir, DIR_INDEX_FILE);
	write_index("Alice");
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(lookups)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int err = 0;
	errno = 1234;
	ck_assert_int_eq(_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(errno, 1234); /* untouched on success */
	ck_assert_str_eq(pw.pw_gecos, "Alice");
	ck_assert_int_eq(_nss_dir_getpwuid_r(20002, &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "bob");
	ck_assert_int_eq(_nss_dir_getgrgid_r(20000, &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(gr.gr_name, "staff");
	ck_assert_str_eq(gr.gr_mem[1], "bob");
	ck_assert_int_eq(_nss_dir_getgrnam_r("staff", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	/* Not in the index and dird absent: UNAVAIL, fast. */
	ck_assert_int_eq(_nss_dir_getpwnam_r("nobody-here", &pw, buf, sizeof(buf), &err),
			 NSS_STATUS_UNAVAIL);
}
END_TEST

START_TEST(small_buffers_give_erange)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	/* alice needs 36 bytes (five strings), staff more. */
	for (size_t len = 0; len < 36; len++) {
		int err = 0;
		ck_assert_int_eq(_nss_dir_getpwnam_r("alice", &pw, buf, len, &err), NSS_STATUS_TRYAGAIN);
		ck_assert_int_eq(err, ERANGE);
		err = 0;
		ck_assert_int_eq(_nss_dir_getgrnam_r("staff", &gr, buf, len, &err), NSS_STATUS_TRYAGAIN);
		ck_assert_int_eq(err, ERANGE);
	}
	/* glibc passes &errno itself as errnop: ERANGE must survive to the caller. */
	errno = 0;
	ck_assert_int_eq(_nss_dir_getgrnam_r("staff", &gr, buf, 4, &errno), NSS_STATUS_TRYAGAIN);
	ck_assert_int_eq(errno, ERANGE);
	/* Enumeration hands out the same entry again after ERANGE. */
	int err = 0;
	_nss_dir_setpwent(0);
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, 4, &err), NSS_STATUS_TRYAGAIN);
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "alice");
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "bob");
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	_nss_dir_endpwent();
}
END_TEST

static const char *invalid_names[] = { "", "a:b", "a,b", "-a", "+a", "a\nb", "a\tb" };

START_TEST(invalid_names_are_not_found)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;
	ck_assert_int_eq(_nss_dir_getpwnam_r(invalid_names[_i], &pw, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[299] = '\0';
	ck_assert_int_eq(_nss_dir_getpwnam_r(longname, &pw, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
}
END_TEST

START_TEST(initgroups_from_user_record)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	groups[0] = 20000;
	int err = 0;
	ck_assert_int_eq(_nss_dir_initgroups_dyn("alice", 20000, &start, &size, &groups, 0, &err),
			 NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 3);
	ck_assert_uint_eq(groups[1], 20100);
	ck_assert_uint_eq(groups[2], 20200);
	/* glibc's limit stops growth of the array. */
	free(groups);
	groups = malloc(sizeof(gid_t));
	groups[0] = 20000;
	start = 1;
	size = 1;
	ck_assert_int_eq(_nss_dir_initgroups_dyn("alice", 20000, &start, &size, &groups, 2, &err),
			 NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 2);
	free(groups);
	/* A gid an earlier module (files) already listed is not repeated. */
	groups = malloc(2 * sizeof(gid_t));
	groups[0] = 20000;
	groups[1] = 20200;
	start = 2;
	size = 2;
	ck_assert_int_eq(_nss_dir_initgroups_dyn("alice", 20000, &start, &size, &groups, 0, &err),
			 NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 3);
	ck_assert_uint_eq(groups[2], 20100);
	free(groups);
}
END_TEST

/* A replaced index reaches a process that already mapped the old one, on its next call. */
START_TEST(replaced_index_seen_on_next_call)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;
	ck_assert_int_eq(_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_gecos, "Alice");
	write_index("Alice Renamed");
	ck_assert_int_eq(_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_gecos, "Alice Renamed");
}
END_TEST

static void write_raw(const void *data, size_t len)
{
	int fd = open(index_path, O_WRONLY | O_TRUNC | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Damaged files: every answer is a clean failure. */
START_TEST(damaged_index)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int err = 0;
	/* Read the good file, then damage it in every way we can think of. */
	int fd = open(index_path, O_RDONLY);
	char good[8192];
	ssize_t n = read(fd, good, sizeof(good));
	close(fd);
	ck_assert_int_gt(n, (ssize_t)sizeof(struct index_header));
	char copy[8192];
	srandom(42);
	for (int round = 0; round < 400; round++) {
		memcpy(copy, good, (size_t)n);
		size_t len = (size_t)n;
		if (round < 100)
			len = (size_t)random() % (size_t)n; /* truncated */
		else if (round < 300)
			for (int k = 0; k < 1 + round % 8; k++) /* flipped bytes */
				copy[random() % n] = (char)random();
		else
			for (size_t k = 0; k < len; k++) /* garbage with a valid magic */
				copy[k] = k < 16 ? good[k] : (char)random();
		unlink(index_path);
		write_raw(copy, len);
		/* Each round is a new file: the module must reopen it (its `valid` flag may be
		 * garbage too, so force the issue by waiting out the retry interval only once). */
		_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
		_nss_dir_getpwuid_r(20001, &pw, buf, sizeof(buf), &err);
		_nss_dir_getgrnam_r("staff", &gr, buf, sizeof(buf), &err);
		_nss_dir_getgrgid_r(20000, &gr, buf, sizeof(buf), &err);
		_nss_dir_setpwent(0);
		for (int k = 0; k < 10 && _nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err) ==
						NSS_STATUS_SUCCESS; k++)
			;
		_nss_dir_endpwent();
	}
	/* Garbage without the magic is refused outright: asked by a new process, which no mapping
	 * of an earlier round (whose valid flag nobody cleared, as dird would) can answer. */
	memset(copy, 'x', sizeof(copy));
	unlink(index_path);
	write_raw(copy, sizeof(copy));
	pid_t pid = fork();
	if (pid == 0)
		_exit(_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS);
	int status = -1;
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "garbage answered a lookup");
}
END_TEST

/* How many mappings of the index (the current file or replaced ones) this process holds. */
static int mappings_of_index(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, index_path) != NULL;
	if (f)
		fclose(f);
	return n;
}

static const char *gecos_of(const char *name)
{
	static struct passwd pw;
	static char buf[1024];
	int err = 0;
	return _nss_dir_getpwnam_r(name, &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS ?
		       pw.pw_gecos : "(not found)";
}

/* Enumerations left open (many daemons never call endpwent) keep their own mappings; the
 * current index is mapped whatever they hold, through any number of replacements. */
/* A delta beside nss.idx, as dird publishes a change: alice's shell changed, bob gone, carol new
 * and in staff; root's name and uid 0 local.  A process that has the index open sees it all at
 * its next call: lookups, initgroups and enumeration. */
static void write_delta(uint32_t seq)
{
	static uint32_t carol_groups[] = { 20000, 20300 };
	struct dir_user alice = { .name = "alice", .uid = 20001, .gid = 20000, .gecos = "Alice",
				  .home = "/home/alice", .shell = "/bin/zsh", .domain = "t" };
	struct dir_user carol = { .name = "carol", .uid = 20003, .gid = 20000, .gecos = "",
				  .home = "/home/carol", .shell = "/bin/sh", .domain = "t",
				  .groups = carol_groups, .n_groups = 2 };
	alice.fetched = carol.fetched = (uint64_t)time(NULL);
	struct dir_user *users[] = { &alice, &carol };
	const struct index_key gone[] = { { "bob", INDEX_NO_ID }, { "", 20002 } };
	const struct index_contents c = { .users = users, .n_users = 2, .gone_users = gone,
					  .n_gone_users = 2, .ttl = 3600, .generation = seq,
					  .base_generation = 1,
					  .flags = INDEX_DELTA | INDEX_NAMES_LOWER };
	char delta[256], tmp[256];
	ck_assert_int_eq(index_delta_path(index_path, delta, sizeof(delta)), 0);
	ck_assert_int_eq(index_write_contents_tmp(delta, &c, tmp, sizeof(tmp)), 0);
	ck_assert_int_eq(index_install(delta, tmp), 0);
	ck_assert_int_eq(index_set_delta_seq(index_path, seq), 0);
}

START_TEST(delta_seen_on_next_call)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;
	ck_assert_int_eq(_nss_dir_getpwnam_r("bob", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	write_delta(1);
	ck_assert_int_eq(_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_shell, "/bin/zsh");
	ck_assert_int_eq(_nss_dir_getpwuid_r(20003, &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "carol");
	/* A tombstone is a miss: dird is asked (absent here: UNAVAIL). */
	ck_assert_int_eq(_nss_dir_getpwnam_r("bob", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(_nss_dir_getpwuid_r(20002, &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
	/* Enumeration: alice once, with the new shell, and carol; no bob. */
	_nss_dir_setpwent(0);
	char seen[256] = "";
	while (_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS) {
		strcat(seen, pw.pw_name);
		strcat(seen, pw.pw_shell);
		strcat(seen, " ");
	}
	_nss_dir_endpwent();
	ck_assert_str_eq(seen, "alice/bin/zsh carol/bin/sh ");
	long start = 1, size = 4;
	gid_t *groups = malloc(4 * sizeof(gid_t));
	groups[0] = 20000;
	ck_assert_int_eq(_nss_dir_initgroups_dyn("carol", 20000, &start, &size, &groups, 0, &err),
			 NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 2);
	ck_assert_int_eq(groups[1], 20300);
	free(groups);
	/* A delta for another nss.idx is left out. */
	ck_assert_int_eq(index_write(index_path, NULL, 0, NULL, 0, 3600, 7), 0);
	ck_assert_int_eq(_nss_dir_getpwnam_r("carol", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(index_set_delta_seq(index_path, 1), 0);
	ck_assert_int_eq(_nss_dir_getpwnam_r("carol", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
}
END_TEST

/* Local names and ids in nss.idx are NOTFOUND at once (`files` answers them), even with a
 * directory record of that name; while authoritative_until is ahead, a miss of a bare lower
 * case name or of an id is NOTFOUND without asking dird; other names and a past time ask. */
START_TEST(local_keys_and_authoritative_misses)
{
	struct dir_user root = { .name = "root", .uid = 20009, .gid = 20000, .gecos = "",
				 .home = "/", .shell = "/bin/sh", .domain = "t",
				 .fetched = (uint64_t)time(NULL) };
	struct dir_user *users[] = { &root };
	const struct index_key local[] = { { "root", INDEX_NO_ID }, { "", 0 } };
	const struct index_contents c = { .users = users, .n_users = 1, .gone_users = local,
					  .n_gone_users = 2, .ttl = 3600, .generation = 3,
					  .flags = INDEX_NAMES_LOWER };
	char tmp[256];
	ck_assert_int_eq(index_write_contents_tmp(index_path, &c, tmp, sizeof(tmp)), 0);
	ck_assert_int_eq(index_install(index_path, tmp), 0);
	ck_assert_int_eq(index_retire_old(index_path), 0);
	struct passwd pw;
	char buf[1024];
	int err = 0;
	ck_assert_int_eq(_nss_dir_getpwnam_r("root", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(_nss_dir_getpwuid_r(0, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(_nss_dir_getpwuid_r(20009, &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(_nss_dir_getpwnam_r("nosuch", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(index_set_authoritative(index_path, (uint64_t)time(NULL) + 60), 0);
	ck_assert_int_eq(_nss_dir_getpwnam_r("nosuch", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(_nss_dir_getpwuid_r(31337, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(_nss_dir_getpwnam_r("NoSuch", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(_nss_dir_getpwnam_r("ad\\nosuch", &pw, buf, sizeof(buf), &err),
			 NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(index_set_authoritative(index_path, (uint64_t)time(NULL) - 1), 0);
	ck_assert_int_eq(_nss_dir_getpwnam_r("nosuch", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
}
END_TEST

/* An index of many megabytes (it is written to its file as it is made, a megabyte at a time):
 * 30,000 users and a group of 300,000 members (one record larger than a megabyte), every one
 * found by name and id. */
/* c written as nss.idx, installed. */
static void install_contents(const struct index_contents *c)
{
	char tmp[256];
	ck_assert_int_eq(index_write_contents_tmp(index_path, c, tmp, sizeof(tmp)), 0);
	ck_assert_int_eq(index_install(index_path, tmp), 0);
}

static void poke_index(off_t at, const void *bytes, size_t n)
{
	int fd = open(index_path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, bytes, n, at), (ssize_t)n);
	close(fd);
}

/* index_matches (dird's start keeps nss.idx) says yes only to the file it would write now. */
START_TEST(index_matches_only_what_would_be_written)
{
	struct dir_user alice = { .name = "alice", .uid = 20001, .gid = 20000, .gecos = "Alice",
				  .home = "/home/alice", .shell = "/bin/bash", .domain = "t" };
	struct dir_user bob = { .name = "bob", .uid = 20002, .gid = 20000, .gecos = "",
				.home = "/home/bob", .shell = "/bin/sh", .domain = "t" };
	char *members[] = { "alice" };
	struct dir_group staff = { .name = "staff", .gid = 20000, .domain = "t", .members = members,
				   .n_members = 1 };
	struct dir_user *users[] = { &alice, &bob }, *reversed[] = { &bob, &alice };
	struct dir_group *groups[] = { &staff };
	const struct index_key locals[] = { { "root", INDEX_NO_ID }, { "", 0 } };
	const struct index_key more_locals[] = { { "root", INDEX_NO_ID }, { "", 0 }, { "bob", INDEX_NO_ID } };
	struct index_contents c = { .users = users, .n_users = 2, .groups = groups, .n_groups = 1,
				    .gone_users = locals, .n_gone_users = 2, .ttl = 3600,
				    .generation = 5, .flags = INDEX_NAMES_LOWER };
	uint64_t generation = 0, until = 1;
	install_contents(&c);
	c.generation = 0; /* not compared: the file's is handed back */
	ck_assert(index_matches(index_path, &c, &generation, &until));
	ck_assert_uint_eq(generation, 5);
	ck_assert_uint_eq(until, 0);
	/* the same records in another order are the same index */
	c.users = reversed;
	ck_assert(index_matches(index_path, &c, &generation, &until));
	c.users = users;
	/* a record changed, a local account added, another entry_ttl or flags: not the same */
	bob.shell = "/bin/zsh";
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	bob.shell = "/bin/sh";
	c.gone_users = more_locals;
	c.n_gone_users = 3;
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	c.gone_users = locals;
	c.n_gone_users = 2;
	c.ttl = 60;
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	c.ttl = 3600;
	c.flags = 0;
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	c.flags = INDEX_NAMES_LOWER;
	ck_assert(index_matches(index_path, &c, &generation, &until));
	/* until when it was authoritative is handed back */
	ck_assert_int_eq(index_set_authoritative(index_path, 1234), 0);
	ck_assert(index_matches(index_path, &c, &generation, &until));
	ck_assert_uint_eq(until, 1234);
	/* a delta beside it */
	char delta[256];
	snprintf(delta, sizeof(delta), "%s%s", index_path, DIR_INDEX_DELTA_SUFFIX);
	FILE *f = fopen(delta, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	unlink(delta);
	ck_assert(index_matches(index_path, &c, &generation, &until));
	/* a byte of its last table damaged */
	struct stat st;
	ck_assert_int_eq(stat(index_path, &st), 0);
	uint8_t byte;
	int fd = open(index_path, O_RDONLY);
	ck_assert_int_eq(pread(fd, &byte, 1, st.st_size - 1), 1);
	close(fd);
	byte ^= 1;
	poke_index(st.st_size - 1, &byte, 1);
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	byte ^= 1;
	poke_index(st.st_size - 1, &byte, 1);
	ck_assert(index_matches(index_path, &c, &generation, &until));
	/* a file without the hashes (as dird wrote them before) */
	uint32_t flags = INDEX_NAMES_LOWER;
	poke_index(offsetof(struct index_header, flags), &flags, sizeof(flags));
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	/* a replaced file (valid 0: readers leave it) */
	install_contents(&c);
	ck_assert(index_matches(index_path, &c, &generation, &until));
	uint32_t stale = 0;
	poke_index(offsetof(struct index_header, valid), &stale, sizeof(stale));
	ck_assert(!index_matches(index_path, &c, &generation, &until));
}
END_TEST

/* A header damaged where the body hash does not reach (where an area or table is): readers
 * would find the body's bytes elsewhere (no table of the local names: the directory's bob
 * served over the local one), so dird's start must not keep it. */
START_TEST(index_matches_not_a_damaged_header)
{
	struct dir_user bob = { .name = "bob", .uid = 20002, .gid = 20000, .gecos = "",
				.home = "/home/bob", .shell = "/bin/sh", .domain = "t" };
	struct dir_user *users[] = { &bob };
	const struct index_key locals[] = { { "bob", INDEX_NO_ID } };
	struct index_contents c = { .users = users, .n_users = 1, .gone_users = locals,
				    .n_gone_users = 1, .ttl = 3600 };
	uint64_t generation = 0, until = 0;
	install_contents(&c);
	ck_assert(index_matches(index_path, &c, &generation, &until));
	uint32_t no_slots = 0;
	poke_index(offsetof(struct index_header, gone_user_name) +
			   offsetof(struct index_table, n_slots),
		   &no_slots, sizeof(no_slots));
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	install_contents(&c);
	uint64_t no_len = 0;
	poke_index(offsetof(struct index_header, gone_users) + offsetof(struct index_area, len),
		   &no_len, sizeof(no_len));
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	/* a file others may write (a careless chmod while dird was stopped): what it holds now
	 * may be theirs by the time a reader maps it; written again (0644, dird's) */
	install_contents(&c);
	ck_assert(index_matches(index_path, &c, &generation, &until));
	ck_assert_int_eq(chmod(index_path, 0666), 0);
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	ck_assert_int_eq(chmod(index_path, 0664), 0);
	ck_assert(!index_matches(index_path, &c, &generation, &until));
	ck_assert_int_eq(chmod(index_path, 0644), 0);
	ck_assert(index_matches(index_path, &c, &generation, &until));
}
END_TEST

START_TEST(big_index_written_in_pieces)
{
	enum { N_USERS = 30000, N_MEMBERS = 300000 };
	struct dir_user *users = calloc(N_USERS, sizeof(*users));
	struct dir_user **up = calloc(N_USERS, sizeof(*up));
	char (*names)[16] = calloc(N_MEMBERS, sizeof(*names));
	char **members = calloc(N_MEMBERS + 1, sizeof(char *));
	ck_assert(users && up && names && members);
	for (uint32_t i = 0; i < N_MEMBERS; i++) {
		snprintf(names[i], sizeof(names[i]), "m%06u", i);
		members[i] = names[i];
	}
	for (uint32_t i = 0; i < N_USERS; i++) {
		users[i] = (struct dir_user){ .name = names[i], .uid = 100000 + i, .gid = 20000,
					      .gecos = "", .home = "/home/x", .shell = "/bin/sh",
					      .domain = "t", .fetched = (uint64_t)time(NULL) };
		up[i] = &users[i];
	}
	struct dir_group big = { .name = "big", .gid = 20000, .domain = "t", .members = members,
				 .n_members = N_MEMBERS, .fetched = (uint64_t)time(NULL) };
	struct dir_group *gp[] = { &big };
	ck_assert_int_eq(index_write(index_path, up, N_USERS, gp, 1, 3600, 9), 0);
	/* hashed as written, record by record, and as read back, a megabyte at a time, alike */
	const struct index_contents c = { .users = up, .n_users = N_USERS, .groups = gp,
					  .n_groups = 1, .ttl = 3600 };
	uint64_t generation = 0, until = 0;
	ck_assert(index_matches(index_path, &c, &generation, &until));
	ck_assert_uint_eq(generation, 9);
	struct passwd pw;
	struct group gr;
	size_t buflen = 8 << 20;
	char *buf = malloc(buflen);
	int err = 0;
	for (uint32_t i = 0; i < N_USERS; i += 997) {
		ck_assert_int_eq(_nss_dir_getpwnam_r(names[i], &pw, buf, buflen, &err),
				 NSS_STATUS_SUCCESS);
		ck_assert_uint_eq(pw.pw_uid, 100000 + i);
		ck_assert_int_eq(_nss_dir_getpwuid_r(100000 + i, &pw, buf, buflen, &err),
				 NSS_STATUS_SUCCESS);
		ck_assert_str_eq(pw.pw_name, names[i]);
	}
	ck_assert_int_eq(_nss_dir_getgrgid_r(20000, &gr, buf, buflen, &err), NSS_STATUS_SUCCESS);
	uint32_t n = 0;
	while (gr.gr_mem[n])
		n++;
	ck_assert_uint_eq(n, N_MEMBERS);
	ck_assert_str_eq(gr.gr_mem[N_MEMBERS - 1], "m299999");
	free(buf);
	free(users);
	free(up);
	free(names);
	free(members);
}
END_TEST

START_TEST(open_enumerations_never_block_the_current_index)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int err = 0;
	_nss_dir_setpwent(0);
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "alice");
	write_index("Second");
	ck_assert_str_eq(gecos_of("alice"), "Second");
	_nss_dir_setgrent(0);
	ck_assert_int_eq(_nss_dir_getgrent_r(&gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	const char *names[] = { "Third", "Fourth", "Fifth" };
	for (int i = 0; i < 3; i++) {
		write_index(names[i]);
		ck_assert_str_eq(gecos_of("alice"), names[i]);
	}
	/* The first enumeration goes on through the index it started on. */
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "bob");
	ck_assert_int_eq(_nss_dir_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(mappings_of_index(), 3); /* the current one and the two held */
	_nss_dir_endpwent();
	_nss_dir_endgrent();
	ck_assert_int_eq(mappings_of_index(), 1); /* let go, they are unmapped */
}
END_TEST

static volatile int stop_looking;

static void *look_up_forever(void *arg)
{
	(void)arg;
	struct passwd pw;
	char buf[1024];
	int err;
	while (!stop_looking)
		_nss_dir_getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	return NULL;
}

/* A child forked while another thread is in the middle of a lookup does not keep that
 * thread's hold on the mapping: once replaced, the old file is unmapped in the child too. */
START_TEST(fork_mid_lookup_drops_other_threads_holds)
{
	ck_assert_str_eq(gecos_of("alice"), "Alice");
	pthread_t t;
	stop_looking = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, look_up_forever, NULL), 0);
	int kept = 0;
	for (int round = 0; round < 50; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			write_index("Child");
			_exit(strcmp(gecos_of("alice"), "Child") ? 2 : mappings_of_index() == 1 ? 0 : 1);
		}
		int status = -1;
		waitpid(pid, &status, 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 2);
		kept += WEXITSTATUS(status) == 1;
	}
	stop_looking = 1;
	pthread_join(t, NULL);
	ck_assert_msg(kept == 0, "%d of 50 children kept a replaced index mapped", kept);
}
END_TEST

/* initgroups_dyn that cannot grow the array says so (TRYAGAIN, ENOMEM), as glibc expects: a
 * list cut short could leave out a group that denies access.  Address space is capped in a
 * child, which ASan's own reservations would not survive. */
START_TEST(initgroups_out_of_memory_is_tryagain)
{
#ifdef __SANITIZE_ADDRESS__
	return;
#endif
	enum { N = 1 << 20 };
	uint32_t *gids = malloc(N * sizeof(uint32_t));
	for (uint32_t i = 0; i < N; i++)
		gids[i] = 100000 + i;
	struct dir_user big = { .name = "big", .uid = 20003, .gid = 20000, .gecos = "Big",
				.home = "/home/big", .shell = "/bin/sh", .domain = "t",
				.groups = gids, .n_groups = N, .fetched = (uint64_t)time(NULL) };
	struct dir_user *users[] = { &big };
	ck_assert_int_eq(index_write(index_path, users, 1, NULL, 0, 3600, 2), 0);
	free(gids);
	pid_t pid = fork();
	if (pid == 0) {
		ck_assert_str_eq(gecos_of("big"), "Big"); /* mapped before the cap */
		long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (!f || fscanf(f, "%ld", &pages) != 1)
			_exit(3);
		fclose(f);
		struct rlimit rl = { (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (1 << 20),
				     RLIM_INFINITY };
		rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			_exit(3);
		long start = 1, size = 1;
		gid_t *groups = malloc(sizeof(gid_t));
		groups[0] = 20000;
		int err = 0;
		enum nss_status st = _nss_dir_initgroups_dyn("big", 20000, &start, &size, &groups, 0,
							     &err);
		_exit(st == NSS_STATUS_TRYAGAIN && err == ENOMEM ? 0 : st == NSS_STATUS_SUCCESS ? 1 : 2);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "initgroups without memory: exit %d (1: SUCCESS with a cut list)",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		lookups, small_buffers_give_erange, initgroups_from_user_record, replaced_index_seen_on_next_call,
		delta_seen_on_next_call, local_keys_and_authoritative_misses, big_index_written_in_pieces,
		damaged_index, index_matches_only_what_would_be_written, index_matches_not_a_damaged_header,
		open_enumerations_never_block_the_current_index, fork_mid_lookup_drops_other_threads_holds,
		initgroups_out_of_memory_is_tryagain, NULL
	};
	TCase *tc = test_case("nss", setup, teardown, tests);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, invalid_names_are_not_found, 0,
			    sizeof(invalid_names) / sizeof(invalid_names[0]));
	return run_case("nss", tc);
}
