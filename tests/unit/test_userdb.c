/* dird/sockets/userdb_json.c: io.systemd.UserDatabase calls parsed, records and replies built. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "run_case.h"
#include "userdb_json.h"

/* A whole message of out as a string (without its NUL), checking it ends with one NUL. */
static char *message(const struct buf *out)
{
	ck_assert(!out->failed);
	ck_assert_uint_gt(out->len, 0);
	ck_assert_uint_eq(out->data[out->len - 1], 0);
	ck_assert_ptr_null(memchr(out->data, 0, out->len - 1));
	return strndup((const char *)out->data, out->len - 1);
}

static enum userdb_parse parse(const char *msg, struct userdb_call *c, const char **error,
			       const char **value)
{
	const char *key;
	return userdb_parse_call(msg, strlen(msg), c, error, &key, value);
}

START_TEST(calls)
{
	struct userdb_call c;
	const char *error, *value;
	ck_assert_int_eq(parse("{\"method\":\"io.systemd.UserDatabase.GetUserRecord\","
			       "\"parameters\":{\"userName\":\"alice\",\"service\":\"dird\"}}",
			       &c, &error, &value), USERDB_CALL);
	ck_assert_int_eq(c.method, USERDB_GET_USER);
	ck_assert_str_eq(c.user, "alice");
	ck_assert_str_eq(c.service, "dird");
	ck_assert(!c.has_id && !c.more && !c.oneway && !c.group);
	userdb_call_free(&c);

	ck_assert_int_eq(parse("{\"method\":\"io.systemd.UserDatabase.GetGroupRecord\","
			       "\"parameters\":{\"gid\":4294967294,\"groupName\":null,\"service\":\"d\"},"
			       "\"more\":true}", &c, &error, &value), USERDB_CALL);
	ck_assert(c.has_id && c.more && !c.group);
	ck_assert_uint_eq(c.id, 4294967294u);
	userdb_call_free(&c);

	ck_assert_int_eq(parse("{\"method\":\"io.systemd.UserDatabase.GetMemberships\","
			       "\"parameters\":{\"userName\":\"a\\u0000b\",\"groupName\":\"ADTEST\\\\g\"},"
			       "\"oneway\":true}", &c, &error, &value), USERDB_CALL);
	ck_assert_str_eq(c.user, ""); /* a NUL inside names nobody */
	ck_assert_str_eq(c.group, "ADTEST\\g");
	ck_assert(c.oneway && !c.service);
	userdb_call_free(&c);
}
END_TEST

START_TEST(refusals)
{
	static const struct {
		const char *msg, *error, *value;
	} cases[] = {
		{ "{\"method\":\"io.systemd.UserDatabase.Nope\"}", VARLINK_ERROR("MethodNotFound"),
		  "io.systemd.UserDatabase.Nope" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"uid\":-1}}",
		  VARLINK_ERROR("InvalidParameter"), "uid" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"uid\":4294967295}}",
		  VARLINK_ERROR("InvalidParameter"), "uid" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"uid\":1.5}}",
		  VARLINK_ERROR("InvalidParameter"), "uid" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"gid\":1}}",
		  VARLINK_ERROR("InvalidParameter"), "gid" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetGroupRecord\",\"parameters\":{\"userName\":\"a\"}}",
		  VARLINK_ERROR("InvalidParameter"), "userName" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"userName\":7}}",
		  VARLINK_ERROR("InvalidParameter"), "userName" },
		{ "{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"fuzzyNames\":[\"a\"]}}",
		  VARLINK_ERROR("InvalidParameter"), "fuzzyNames" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct userdb_call c;
		const char *error, *value;
		ck_assert_int_eq(parse(cases[i].msg, &c, &error, &value), USERDB_REFUSE);
		ck_assert_str_eq(error, cases[i].error);
		ck_assert_str_eq(value, cases[i].value);
		userdb_call_free(&c);
	}
}
END_TEST

START_TEST(garbage)
{
	static const char *const cases[] = {
		"", "garbage", "[1,2]", "{}", "{\"method\":7}", "{\"method\":\"x\"} trailing",
		"{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"more\":\"yes\"}",
		"{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":[]}",
		"{\"method\":\"io.systemd.UserDatabase.GetUserRecord\",\"parameters\":{\"a\":"
		"{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}}",
		"{\"method\":\"io.systemd.UserDatabase.GetUserRecord\"", /* cut short */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct userdb_call c;
		const char *error, *value;
		ck_assert_msg(parse(cases[i], &c, &error, &value) == USERDB_GARBAGE, "%s", cases[i]);
		userdb_call_free(&c);
	}
}
END_TEST

START_TEST(user_record)
{
	uint32_t groups[] = { 20100 };
	struct dir_user u = { .name = "ADTEST\\alice", .uid = 100001105, .gid = 100000513,
			      .gecos = "Älice: \"A\"", .home = "/home/ADTEST/alice", .shell = "/bin/bash",
			      .sid = "S-1-5-21-1-2-3-1105", .groups = groups, .n_groups = 1 };
	const char *names[] = { "ADTEST\\g_outer", "bad\xff" };
	json_object *r = userdb_user_record(&u, "dird", names, 2);
	ck_assert_ptr_nonnull(r);
	struct buf params, out;
	buf_init(&params, 1 << 20);
	buf_init(&out, 1 << 20);
	ck_assert(userdb_serialize(userdb_record_reply(r), &params));
	userdb_put_reply(&out, &params, true);
	char *m = message(&out);
	json_object *o = json_tokener_parse(m), *p, *rec, *v;
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "continues", &v) && json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "parameters", &p));
	ck_assert(json_object_object_get_ex(p, "incomplete", &v) && !json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(p, "record", &rec));
	static const struct {
		const char *key, *value;
	} strings[] = {
		{ "userName", "ADTEST\\alice" }, { "realName", "Älice: \"A\"" },
		{ "homeDirectory", "/home/ADTEST/alice" }, { "shell", "/bin/bash" },
		{ "disposition", "regular" }, { "service", "dird" },
		{ "dirObjectSid", "S-1-5-21-1-2-3-1105" },
	};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		ck_assert_msg(json_object_object_get_ex(rec, strings[i].key, &v), "%s", strings[i].key);
		ck_assert_str_eq(json_object_get_string(v), strings[i].value);
	}
	ck_assert(json_object_object_get_ex(rec, "uid", &v) && json_object_get_int64(v) == 100001105);
	ck_assert(json_object_object_get_ex(rec, "gid", &v) && json_object_get_int64(v) == 100000513);
	ck_assert(json_object_object_get_ex(rec, "memberOf", &v));
	ck_assert_uint_eq(json_object_array_length(v), 1); /* not the name that is not UTF-8 */
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "ADTEST\\g_outer");
	ck_assert(!json_object_object_get_ex(rec, "emailAddress", NULL));
	json_object_put(o);
	free(m);

	/* Text that is not UTF-8 is left out (a JSON reader would refuse the whole reply); a name
	 * that is not is no record at all. */
	u.gecos = "Caf\xe9";
	u.home = "/home/\xed\xa0\x80"; /* a surrogate */
	u.sid = NULL;
	r = userdb_user_record(&u, "dird", NULL, 0);
	ck_assert(!json_object_object_get_ex(r, "realName", NULL));
	ck_assert(!json_object_object_get_ex(r, "homeDirectory", NULL));
	ck_assert(!json_object_object_get_ex(r, "dirObjectSid", NULL));
	ck_assert(!json_object_object_get_ex(r, "memberOf", NULL));
	json_object_put(r);
	u.name = "al\xc0\xafice"; /* an overlong '/' */
	ck_assert_ptr_null(userdb_user_record(&u, "dird", NULL, 0));
	buf_free(&params);
	buf_free(&out);
}
END_TEST

START_TEST(group_and_membership)
{
	char *members[] = { "alice" };
	struct dir_group g = { .name = "team", .gid = 20000, .members = members, .n_members = 1 };
	struct buf params, out;
	buf_init(&params, 1 << 20);
	buf_init(&out, 1 << 20);
	ck_assert(userdb_serialize(userdb_record_reply(userdb_group_record(&g, "dird")), &params));
	userdb_put_reply(&out, &params, false);
	ck_assert(userdb_serialize(userdb_membership_reply("ADTEST\\alice", "ADTEST\\Domain Users"),
				   &params));
	userdb_put_reply(&out, &params, false);
	/* two messages, each ending with its NUL */
	ck_assert_uint_eq(out.data[out.len - 1], 0);
	char *m = strdup((const char *)out.data);
	ck_assert_str_eq(m, "{\"parameters\":{\"record\":{\"groupName\":\"team\",\"gid\":20000,"
			    "\"disposition\":\"regular\",\"service\":\"dird\"},\"incomplete\":false}}");
	ck_assert_str_eq((const char *)out.data + strlen(m) + 1,
			 "{\"parameters\":{\"userName\":\"ADTEST\\\\alice\","
			 "\"groupName\":\"ADTEST\\\\Domain Users\"}}");
	ck_assert_uint_eq(strlen(m) + 1 + strlen((const char *)out.data + strlen(m) + 1) + 1, out.len);
	free(m);
	buf_free(&params);
	buf_free(&out);
}
END_TEST

START_TEST(errors)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	userdb_put_error(&out, USERDB_ERROR("NoRecordFound"), NULL, NULL);
	char *m = message(&out);
	ck_assert_str_eq(m, "{\"error\":\"io.systemd.UserDatabase.NoRecordFound\",\"parameters\":{}}");
	free(m);
	buf_reset(&out);
	userdb_put_error(&out, VARLINK_ERROR("InvalidParameter"), "parameter", "u/id");
	m = message(&out);
	ck_assert_str_eq(m, "{\"error\":\"org.varlink.service.InvalidParameter\","
			    "\"parameters\":{\"parameter\":\"u/id\"}}");
	free(m);
	buf_reset(&out);
	/* A client's bytes that are not UTF-8 are not sent back. */
	userdb_put_error(&out, VARLINK_ERROR("MethodNotFound"), "method", "x\xff");
	m = message(&out);
	ck_assert_str_eq(m, "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{}}");
	free(m);
	buf_free(&out);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { calls, refusals, garbage, user_record, group_and_membership, errors, NULL };
	return run_tests("userdb", NULL, NULL, tests);
}
