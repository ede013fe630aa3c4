/* Records: binary encode/decode, JSON encode/decode, filter escaping. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_filter.h"
#include "record.h"
#include "record_json.h"
#include "run_case.h"

static struct dir_user sample_user(void)
{
	static uint32_t groups[] = { 20100, 20200 };
	struct dir_user u = { .name = "alice", .uid = 20001, .gid = 20000,
			      .gecos = "Älice Exämple", .home = "/home/alice", .shell = "/bin/bash",
			      .domain = "example", .groups = groups, .n_groups = 2 };
	return u;
}

START_TEST(user_binary_roundtrip)
{
	struct dir_user u = sample_user();
	struct buf b;
	buf_init(&b, 1 << 20);
	u.fetched = 1000000;
	record_encode_user(&b, &u, 400);
	ck_assert(!b.failed);
	struct passwd pw;
	char space[256];
	ck_assert_int_eq(record_to_passwd(b.data, b.len, &pw, space, sizeof(space)), RECORD_OK);
	ck_assert_str_eq(pw.pw_name, "alice");
	ck_assert_str_eq(pw.pw_gecos, "Älice Exämple");
	ck_assert_str_eq(pw.pw_dir, "/home/alice");
	ck_assert_str_eq(pw.pw_shell, "/bin/bash");
	ck_assert_uint_eq(pw.pw_uid, 20001);
	ck_assert_uint_eq(pw.pw_gid, 20000);
	uint64_t refresh_at, expires;
	ck_assert_int_eq(record_times(b.data, b.len, true, &refresh_at, &expires), 0);
	ck_assert_uint_eq(refresh_at, 1000300);
	ck_assert_uint_eq(expires, 1000400);
	uint32_t gid, n;
	const uint8_t *g = record_user_groups(b.data, b.len, &gid, &n);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(gid, 20000);
	/* Every buffer too small by even one byte gives ERANGE, never an overrun. */
	size_t need = strlen("alice") + strlen("*") + strlen(u.gecos) + strlen(u.home) +
		      strlen(u.shell) + 5;
	for (size_t len = 0; len < need; len++)
		ck_assert_int_eq(record_to_passwd(b.data, b.len, &pw, space, len), RECORD_ERANGE);
	ck_assert_int_eq(record_to_passwd(b.data, b.len, &pw, space, need), RECORD_OK);
	/* Every truncation of the record is refused. */
	for (size_t len = 0; len < b.len; len++)
		ck_assert_int_ne(record_to_passwd(b.data, len, &pw, space, sizeof(space)), RECORD_OK);
	buf_free(&b);
}
END_TEST

START_TEST(group_binary_roundtrip)
{
	char *members[] = { "alice", "bob", "carol" };
	struct dir_group g = { .name = "staff", .gid = 20000, .domain = "example",
			       .members = members, .n_members = 3 };
	struct buf b;
	buf_init(&b, 1 << 20);
	record_encode_group(&b, &g, 0);
	uint64_t refresh_at, expires;
	ck_assert_int_eq(record_times(b.data, b.len, false, &refresh_at, &expires), 0);
	ck_assert_uint_eq(expires, UINT64_MAX); /* ttl 0: never */
	struct group gr;
	char space[256];
	ck_assert_int_eq(record_to_group(b.data, b.len, &gr, space, sizeof(space)), RECORD_OK);
	ck_assert_str_eq(gr.gr_name, "staff");
	ck_assert_uint_eq(gr.gr_gid, 20000);
	ck_assert_str_eq(gr.gr_mem[0], "alice");
	ck_assert_str_eq(gr.gr_mem[2], "carol");
	ck_assert_ptr_null(gr.gr_mem[3]);
	/* Names, "*" and four pointers at least; all smaller buffers give ERANGE. */
	size_t len = 0;
	while (record_to_group(b.data, b.len, &gr, space, len) == RECORD_ERANGE)
		len++;
	ck_assert_uint_ge(len, strlen("staff*alicebobcarol") + 5 + 4 * sizeof(char *));
	ck_assert_uint_le(len, strlen("staff*alicebobcarol") + 5 + 5 * sizeof(char *));
	for (len = 0; len < b.len; len++)
		ck_assert_int_ne(record_to_group(b.data, len, &gr, space, sizeof(space)), RECORD_OK);
	buf_free(&b);
}
END_TEST

/* The lengths and the block must agree: n non-empty names, each ending with its NUL, nothing
 * after them. */
START_TEST(malformed_member_blocks)
{
	static const struct {
		uint32_t n;
		const char *lens;
		const char *block;
		uint32_t len;
		const char *after;
	} cases[] = {
		{ 2, "\2\2", "ab\0cd", 5, "" },	 /* the last name has no NUL */
		{ 2, "\2\0", "ab\0\0", 4, "" },	 /* an empty name */
		{ 1, "\2", "ab\0cd\0", 6, "" },	 /* more in the block than the lengths say */
		{ 2, "\3\2", "ab\0cd\0", 6, "" },	 /* a length that misses the NUL */
		{ 1, "\2", "ab", 2, "" },		 /* no NUL at all */
		{ 1, "\2", "ab\0", 3, "x" },	 /* something after the block */
		{ 0, "", "a\0", 2, "" },		 /* a block for no member */
		{ 3, "\1\1", "a\0b\0", 4, "" },	 /* fewer lengths than members */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		buf_init(&b, 1024);
		buf_put_str(&b, "g");
		buf_put_u32(&b, 5000);
		buf_put_u64(&b, 0);
		buf_put_u64(&b, 0);
		buf_put_u32(&b, cases[i].n);
		buf_put_u32(&b, cases[i].len);
		buf_put_bytes(&b, cases[i].lens, strlen(cases[i].lens) + (cases[i].n == 2 && !cases[i].lens[1]));
		buf_put_bytes(&b, cases[i].block, cases[i].len);
		buf_put_bytes(&b, cases[i].after, strlen(cases[i].after));
		struct group gr;
		char space[4096];
		ck_assert_msg(record_to_group(b.data, b.len, &gr, space, sizeof(space)) == RECORD_BAD,
			      "case %zu", i);
		buf_free(&b);
	}
}
END_TEST

START_TEST(hostile_member_count)
{
	/* A group record claiming 2^32-1 members in a few bytes. */
	struct buf b;
	buf_init(&b, 1024);
	buf_put_str(&b, "g");
	buf_put_u32(&b, 5000);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 0);
	buf_put_u32(&b, UINT32_MAX);
	buf_put_u32(&b, 2);
	buf_put_bytes(&b, "\1x", 3);
	struct group gr;
	char space[1 << 16];
	ck_assert_int_eq(record_to_group(b.data, b.len, &gr, space, sizeof(space)), RECORD_BAD);
	buf_free(&b);
}
END_TEST

START_TEST(json_roundtrip)
{
	struct dir_user u = sample_user(), back;
	char *json = record_user_to_json(&u);
	ck_assert_ptr_nonnull(json);
	ck_assert_ptr_nonnull(strstr(json, "\"id\":100020001"));
	ck_assert_ptr_nonnull(strstr(json, "\"sid\":null"));
	ck_assert_ptr_nonnull(strstr(json, "\"local\":false"));
	ck_assert_int_eq(record_user_from_json(json, strlen(json), &back), 0);
	ck_assert_str_eq(back.name, "alice");
	ck_assert_str_eq(back.gecos, "Älice Exämple");
	ck_assert_uint_eq(back.uid, 20001);
	ck_assert_uint_eq(back.gid, 20000);
	ck_assert_uint_eq(back.n_groups, 2);
	ck_assert_uint_eq(back.groups[1], 20200);
	ck_assert_uint_eq(back.n_ssh_keys, 0);
	ck_assert_ptr_nonnull(strstr(json, "\"sshpubkey\":null"));
	dir_user_clear(&back);
	free(json);

	/* SSH keys: one a line in "sshpubkey", as TrueNAS's user records hold them */
	char *keys[] = { "ssh-ed25519 AAAA one", "from=\"10.0.0.1\" ssh-rsa AAAA two" };
	u.ssh_keys = keys;
	u.n_ssh_keys = 2;
	json = record_user_to_json(&u);
	ck_assert_ptr_nonnull(strstr(json, "\"sshpubkey\":\"ssh-ed25519 AAAA one\\nfrom=\\\"10.0.0.1\\\" ssh-rsa AAAA two\""));
	ck_assert_int_eq(record_user_from_json(json, strlen(json), &back), 0);
	ck_assert_uint_eq(back.n_ssh_keys, 2);
	ck_assert_str_eq(back.ssh_keys[0], keys[0]);
	ck_assert_str_eq(back.ssh_keys[1], keys[1]);
	dir_user_clear(&back);
	free(json);
	/* a line with a control character, or empty, is dropped; the record stays */
	const char *odd = "{\"username\":\"a\",\"uid\":1,\"full_name\":\"\",\"home\":\"/\",\"shell\":\"/\","
			  "\"domain\":\"d\",\"group\":{\"gid\":1},\"groups\":[],"
			  "\"sshpubkey\":\"k1\\n\\nk\\u0007x\\nk3\"}";
	ck_assert_int_eq(record_user_from_json(odd, strlen(odd), &back), 0);
	ck_assert_uint_eq(back.n_ssh_keys, 2);
	ck_assert_str_eq(back.ssh_keys[0], "k1");
	ck_assert_str_eq(back.ssh_keys[1], "k3");
	dir_user_clear(&back);

	char *members[] = { "alice", "bob" };
	struct dir_group g = { .name = "staff", .gid = 20000, .domain = "example",
			       .members = members, .n_members = 2 }, gb;
	json = record_group_to_json(&g);
	ck_assert_int_eq(record_group_from_json(json, strlen(json), &gb), 0);
	ck_assert_str_eq(gb.name, "staff");
	ck_assert_uint_eq(gb.n_members, 2);
	ck_assert_str_eq(gb.members[1], "bob");
	dir_group_clear(&gb);
	free(json);
}
END_TEST

/* The writer prints what json-c printed (the records' text in tdb files is TrueNAS's format):
 * quotes, backslashes and control characters escaped, '/' and UTF-8 as they are. */
START_TEST(json_text_as_json_c_wrote_it)
{
	uint32_t gids[] = { 5, 6 };
	char *keys[] = { "ssh-ed25519 AAAA \"q\"", "k2\\x" };
	struct dir_user u = { .name = "al/ice", .uid = 7, .gid = 8, .fetched = 123,
			      .gecos = "\xc3\x84 \"x\" \\ \t\n\x01\x1f/", .home = "/h",
			      .shell = "/bin/sh", .email = "a@b", .sid = "S-1-5-21-1", .domain = "d",
			      .groups = gids, .n_groups = 2, .ssh_keys = keys, .n_ssh_keys = 2 }, back;
	char *json = record_user_to_json(&u);
	ck_assert_str_eq(json, "{\"fetched\":123,\"id\":100000007,\"domain\":\"d\",\"sid\":"
			 "\"S-1-5-21-1\",\"local\":false,\"builtin\":false,\"smb\":true,\"uid\":7,"
			 "\"username\":\"al/ice\",\"full_name\":\"\xc3\x84 \\\"x\\\" \\\\ \\t\\n"
			 "\\u0001\\u001f/\",\"home\":\"/h\",\"shell\":\"/bin/sh\",\"email\":"
			 "\"a@b\",\"group\":{\"id\":100000008,\"gid\":8},\"groups\":[5,6],"
			 "\"sshpubkey\":\"ssh-ed25519 AAAA \\\"q\\\"\\nk2\\\\x\"}");
	ck_assert_int_eq(record_user_from_json(json, strlen(json), &back), 0);
	ck_assert_str_eq(back.gecos, u.gecos);
	ck_assert_str_eq(back.ssh_keys[1], "k2\\x");
	dir_user_clear(&back);
	free(json);
	/* no email: no key (the reader takes a missing one as none) */
	u.email = NULL;
	json = record_user_to_json(&u);
	ck_assert_ptr_null(strstr(json, "email"));
	ck_assert_int_eq(record_user_from_json(json, strlen(json), &back), 0);
	ck_assert_ptr_null(back.email);
	dir_user_clear(&back);
	free(json);
	struct dir_group g = { .name = "e", .gid = 4 };
	json = record_group_to_json(&g);
	ck_assert_str_eq(json, "{\"fetched\":0,\"id\":100000004,\"domain\":\"\",\"sid\":null,"
			 "\"local\":false,\"builtin\":false,\"smb\":false,\"gid\":4,\"name\":\"e\","
			 "\"users\":[]}");
	free(json);
}
END_TEST

static const char *bad_json[] = {
	"",
	"{",
	"[]",
	"{\"username\":\"a\"}",
	"{\"username\":\"a\",\"uid\":-1,\"full_name\":\"\",\"home\":\"/\",\"shell\":\"/\",\"domain\":\"d\",\"group\":{\"gid\":1},\"groups\":[]}",
	"{\"username\":\"a\",\"uid\":1,\"full_name\":\"\",\"home\":\"/\",\"shell\":\"/\",\"domain\":\"d\",\"group\":{\"gid\":1},\"groups\":[\"x\"]}",
	"{\"username\":\"a:b\",\"uid\":1,\"full_name\":\"\",\"home\":\"/\",\"shell\":\"/\",\"domain\":\"d\",\"group\":{\"gid\":1},\"groups\":[]}",
	"{\"username\":\"a\",\"uid\":99999999999,\"full_name\":\"\",\"home\":\"/\",\"shell\":\"/\",\"domain\":\"d\",\"group\":{\"gid\":1},\"groups\":[]}",
	"{\"username\":\"a\\u0000b\",\"uid\":1,\"full_name\":\"\",\"home\":\"/\",\"shell\":\"/\",\"domain\":\"d\",\"group\":{\"gid\":1},\"groups\":[]} trailing",
};

START_TEST(bad_json_refused)
{
	struct dir_user u;
	ck_assert_int_eq(record_user_from_json(bad_json[_i], strlen(bad_json[_i]), &u), -1);
	struct dir_group g;
	ck_assert_int_eq(record_group_from_json(bad_json[_i], strlen(bad_json[_i]), &g), -1);
}
END_TEST

START_TEST(filter_escaping)
{
	char out[64];
	ck_assert_int_ge(ldap_filter_escape("alice", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "alice");
	ck_assert_int_ge(ldap_filter_escape("*", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\\2a");
	ck_assert_int_ge(ldap_filter_escape("a)(uid=*", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a\\29\\28uid=\\2a");
	ck_assert_int_ge(ldap_filter_escape("back\\slash", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "back\\5cslash");
	ck_assert_int_ge(ldap_filter_escape("o'brien", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "o'brien");
	/* Too small: refused, never truncated. */
	ck_assert_int_eq(ldap_filter_escape("****", out, 12), -1);
	ck_assert_int_eq(ldap_filter_escape("abc", out, 3), -1);
	ck_assert_int_eq(ldap_filter_escape("abc", out, 4), 3);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		user_binary_roundtrip, group_binary_roundtrip, hostile_member_count, malformed_member_blocks,
		json_roundtrip, json_text_as_json_c_wrote_it, filter_escaping, NULL
	};
	TCase *tc = test_case("codec", NULL, NULL, tests);
	tcase_add_loop_test(tc, bad_json_refused, 0, sizeof(bad_json) / sizeof(bad_json[0]));
	return run_case("codec", tc);
}
