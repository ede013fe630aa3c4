/* dird's userdb socket: any message as a varlink call, and the names it carries sent back in
 * records and replies. */
#include <stdint.h>
#include <string.h>

#include "userdb_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct userdb_call call;
	const char *error, *key, *value;
	struct buf out, params;
	buf_init(&out, 1 << 20);
	buf_init(&params, 1 << 20);
	enum userdb_parse p = userdb_parse_call((const char *)data, size, &call, &error, &key, &value);
	if (p == USERDB_REFUSE)
		userdb_put_error(&out, error, key, value);
	if (p == USERDB_CALL) {
		const char *user = call.user ? call.user : "u", *group = call.group ? call.group : "g";
		const char *groups[] = { group, user };
		struct dir_user u = { .name = (char *)user, .uid = call.id, .gecos = (char *)group,
				      .home = (char *)user, .sid = (char *)group };
		struct dir_group g = { .name = (char *)group, .gid = call.id, .sid = (char *)user };
		if (userdb_serialize(userdb_record_reply(userdb_user_record(&u, "dird", groups, 2)), &params))
			userdb_put_reply(&out, &params, true);
		if (userdb_serialize(userdb_record_reply(userdb_group_record(&g, "dird")), &params))
			userdb_put_reply(&out, &params, true);
		if (userdb_serialize(userdb_membership_reply(user, group), &params))
			userdb_put_reply(&out, &params, false);
	}
	userdb_call_free(&call);
	/* Whatever went out is messages of JSON that json-c reads back whole. */
	for (size_t at = 0; at < out.len;) {
		const char *m = (const char *)out.data + at;
		size_t n = strlen(m);
		json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, m, (int)n);
		if (!o || json_tokener_get_parse_end(tok) != n)
			__builtin_trap();
		json_object_put(o);
		json_tokener_free(tok);
		at += n + 1;
	}
	buf_free(&out);
	buf_free(&params);
	return 0;
}
