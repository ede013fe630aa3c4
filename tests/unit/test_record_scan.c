/* The tdb records' JSON read without json-c (cache/record_scan.c) gives what json-c's reader
 * gives, record for record: the text as the writers print it, odd texts other tools may write,
 * and many texts changed a byte at a time from both. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_json.h"
#include "record_scan.h"
#include "run_case.h"

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_user(const struct dir_user *a, const struct dir_user *b)
{
	if (!same_str(a->name, b->name) || a->uid != b->uid || a->gid != b->gid ||
	    a->fetched != b->fetched || !same_str(a->gecos, b->gecos) ||
	    !same_str(a->home, b->home) || !same_str(a->shell, b->shell) ||
	    !same_str(a->email, b->email) || !same_str(a->sid, b->sid) ||
	    !same_str(a->domain, b->domain) || a->n_groups != b->n_groups ||
	    a->n_ssh_keys != b->n_ssh_keys)
		return false;
	for (uint32_t i = 0; i < a->n_groups; i++)
		if (a->groups[i] != b->groups[i])
			return false;
	for (uint32_t i = 0; i < a->n_ssh_keys; i++)
		if (strcmp(a->ssh_keys[i], b->ssh_keys[i]))
			return false;
	return true;
}

static bool same_group(const struct dir_group *a, const struct dir_group *b)
{
	if (!same_str(a->name, b->name) || a->gid != b->gid || a->fetched != b->fetched ||
	    !same_str(a->sid, b->sid) || !same_str(a->domain, b->domain) ||
	    a->n_members != b->n_members)
		return false;
	for (uint32_t i = 0; i < a->n_members; i++)
		if (strcmp(a->members[i], b->members[i]))
			return false;
	return true;
}

/* Both readers on text: the same answer, the same record; whether record_scan.c read it. */
static bool agree(const char *text, size_t len)
{
	struct dir_user u, uc;
	struct dir_group g, gc;
	int rs = record_scan_user(text, len, &u);
	int rj = record_user_from_json_c(text, len, &uc);
	if (rs == RECORD_SCAN_OK) {
		ck_assert_msg(rj == 0, "only the scan reads the user %.*s", (int)len, text);
		ck_assert_msg(same_user(&u, &uc), "another user from %.*s", (int)len, text);
	}
	int gs = record_scan_group(text, len, &g);
	int gj = record_group_from_json_c(text, len, &gc);
	if (gs == RECORD_SCAN_OK) {
		ck_assert_msg(gj == 0, "only the scan reads the group %.*s", (int)len, text);
		ck_assert_msg(same_group(&g, &gc), "another group from %.*s", (int)len, text);
	}
	/* The public readers: json-c's answer whatever the scan made of it. */
	struct dir_user up;
	struct dir_group gp;
	ck_assert_int_eq(record_user_from_json(text, len, &up), rj);
	ck_assert_int_eq(record_group_from_json(text, len, &gp), gj);
	if (rj == 0)
		ck_assert(same_user(&up, &uc));
	if (gj == 0)
		ck_assert(same_group(&gp, &gc));
	dir_user_clear(&up);
	dir_group_clear(&gp);
	if (rs == RECORD_SCAN_OK)
		dir_user_clear(&u);
	if (rj == 0)
		dir_user_clear(&uc);
	if (gs == RECORD_SCAN_OK)
		dir_group_clear(&g);
	if (gj == 0)
		dir_group_clear(&gc);
	return rs == RECORD_SCAN_OK || gs == RECORD_SCAN_OK;
}

static char *user_text(void)
{
	static uint32_t groups[] = { 20100, 20200 };
	static char *keys[] = { "ssh-ed25519 AAAA one", "from=\"10.0.0.1\" ssh-rsa AAAA two" };
	struct dir_user u = { .name = "alice", .uid = 20001, .gid = 20000, .fetched = 1700000000,
			      .gecos = "Alice \"A\" \\ Liddell\t\x01", .home = "/home/alice",
			      .shell = "/bin/sh", .email = "a@example.org",
			      .sid = "S-1-5-21-1-2-3-1001", .domain = "ad", .groups = groups,
			      .n_groups = 2, .ssh_keys = keys, .n_ssh_keys = 2 };
	return record_user_to_json(&u);
}

static char *group_text(void)
{
	static char *members[] = { "alice", "bob\xc3\xa9", "carol" };
	struct dir_group g = { .name = "staff", .gid = 20000, .fetched = 5, .domain = "d",
			       .members = members, .n_members = 3 };
	return record_group_to_json(&g);
}

START_TEST(written_records_are_scanned)
{
	char *u = user_text(), *g = group_text();
	struct dir_user back;
	struct dir_group gb;
	ck_assert_int_eq(record_scan_user(u, strlen(u), &back), RECORD_SCAN_OK);
	ck_assert_str_eq(back.gecos, "Alice \"A\" \\ Liddell\t\x01");
	ck_assert_str_eq(back.sid, "S-1-5-21-1-2-3-1001");
	ck_assert_uint_eq(back.n_ssh_keys, 2);
	dir_user_clear(&back);
	ck_assert_int_eq(record_scan_group(g, strlen(g), &gb), RECORD_SCAN_OK);
	ck_assert(gb.members_packed);
	ck_assert_str_eq(gb.members[1], "bob\xc3\xa9");
	dir_group_clear(&gb);
	ck_assert(agree(u, strlen(u)));
	ck_assert(agree(g, strlen(g)));
	free(u);
	free(g);
}
END_TEST

#define USER_TAIL "\"full_name\":\"\",\"home\":\"/h\",\"shell\":\"/s\",\"domain\":\"d\","
static const char *odd_texts[] = {
	/* other tools' spacing, key order, extra keys */
	"{ \"username\" : \"bob\", \"uid\" : 7,\n\t" USER_TAIL " \"group\": {\"gid\": 8, \"x\": [1, {\"y\": null}]},"
	" \"groups\": [ 1 , 2 ], \"id\": 100000007, \"local\": false, \"extra\": {\"a\": [true, \"s\"]} }",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	/* a field twice: json-c takes the last */
	"{\"username\":\"bob\",\"username\":\"eve\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"uid\":9," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	/* escapes: a key spelt with one, \u beyond ASCII, \u0000, surrogates */
	"{\"user\\u006eame\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"b\\u00e9b\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"full_name\":\"\\ud83d\\ude00\",\"home\":\"/h\",\"shell\":\"/s\","
	"\"domain\":\"d\",\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"full_name\":\"a\\u0000b\",\"home\":\"/h\",\"shell\":\"/s\","
	"\"domain\":\"d\",\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"b\\u0001b\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	/* numbers: fractions, exponents, leading zeros, signs, too long */
	"{\"username\":\"bob\",\"uid\":7.0," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7e0," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":07," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":-0," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[-1]}",
	"{\"username\":\"bob\",\"uid\":4294967294," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[4294967295]}",
	"{\"username\":\"bob\",\"uid\":4294967295," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":1234567890123456789012," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"fetched\":-5," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"fetched\":\"5\"," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	/* types: null where a string is needed, strings and nulls where others may be */
	"{\"username\":\"bob\",\"uid\":7,\"full_name\":null,\"home\":\"/h\",\"shell\":\"/s\",\"domain\":\"d\","
	"\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"email\":null,\"sid\":\"bad\",\"sshpubkey\":null," USER_TAIL
	"\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"email\":5,\"sid\":7,\"sshpubkey\":[]," USER_TAIL
	"\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"sshpubkey\":\"\\n\\nk1\\n\\u0001bad\\nk2\"," USER_TAIL
	"\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":8,\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":{}}",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[\"1\"]}",
	/* what json-c's lenient mode may take: trailing commas, comments, single quotes, text after */
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[1,],}",
	"{\"username\":\"bob\",/* c */\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{'username':'bob',\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]} ",
	" {\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}{}",
	"{\"username\":\"bob\",\"uid\":7," USER_TAIL "\"deep\":[[[[[[[[[[[[1]]]]]]]]]]]],"
	"\"group\":{\"gid\":8},\"groups\":[]}",
	/* raw bytes: high ones, a control character, a bad name */
	"{\"username\":\"bob\",\"uid\":7,\"full_name\":\"\xff\xfe\",\"home\":\"/h\",\"shell\":\"/s\","
	"\"domain\":\"d\",\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"bob\",\"uid\":7,\"full_name\":\"\x01\",\"home\":\"/h\",\"shell\":\"/s\","
	"\"domain\":\"d\",\"group\":{\"gid\":8},\"groups\":[]}",
	"{\"username\":\"-bob\",\"uid\":7," USER_TAIL "\"group\":{\"gid\":8},\"groups\":[]}",
	/* groups */
	"{\"name\":\"g\",\"gid\":3,\"domain\":\"d\",\"sid\":null,\"users\":[\"a\",\"b\\\"c\"]}",
	"{ \"name\" : \"g\" , \"gid\" : 3 , \"domain\" : \"d\" , \"users\" : [ ] , \"fetched\" : 9 }",
	"{\"name\":\"g\",\"gid\":3,\"domain\":\"d\",\"sid\":\"S-1-5-21-9-9-9-513\",\"users\":[\"a\",\"a:b\"]}",
	"{\"name\":\"g\",\"gid\":3,\"domain\":\"d\",\"sid\":\"S-1-x\",\"users\":[\"a\",1]}",
	"{\"name\":\"g\",\"gid\":3,\"domain\":\"d\",\"users\":[\"a\",\"\"]}",
	"{\"name\":\"g\",\"gid\":3,\"domain\":\"d\",\"users\":[\"a\"],\"users\":[\"b\"]}",
	"{\"name\":\"g\",\"gid\":3,\"domain\":null,\"users\":[]}",
	"",
	"{",
	"{}",
	"[]",
	"null",
};

START_TEST(odd_texts_read_as_json_c_reads_them)
{
	agree(odd_texts[_i], strlen(odd_texts[_i]));
}
END_TEST

/* Each byte of a record replaced by each of a few that matter to a parser, and the record
 * cut at each length: both readers agree on every one. */
static void mutations(const char *text)
{
	static const char subst[] = "\0\"\\{}[],:0-.e un\x01\xff/";
	size_t len = strlen(text);
	char *m = malloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(subst) - 1; k++) {
			memcpy(m, text, len + 1);
			m[i] = subst[k];
			agree(m, len);
		}
		agree(text, i);
	}
	free(m);
}

START_TEST(changed_texts_read_as_json_c_reads_them)
{
	char *u = user_text(), *g = group_text();
	mutations(u);
	mutations(g);
	for (size_t i = 0; i < sizeof(odd_texts) / sizeof(odd_texts[0]); i++)
		mutations(odd_texts[i]);
	free(u);
	free(g);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { written_records_are_scanned,
				       changed_texts_read_as_json_c_reads_them, NULL };
	TCase *tc = test_case("record_scan", NULL, NULL, tests);
	tcase_add_loop_test(tc, odd_texts_read_as_json_c_reads_them, 0,
			    sizeof(odd_texts) / sizeof(odd_texts[0]));
	tcase_set_timeout(tc, 120);
	return run_case("record_scan", tc);
}
