/* member_range_parse: the slices of a big AD group's member attribute (Samba sends none, so the
 * parser is tested here; the follow-up searches use the same code as every other search). */
#include <check.h>
#include <stdlib.h>

#include "member_range.h"
#include "run_case.h"

START_TEST(slices)
{
	static const struct {
		const char *desc;
		int want;
		uint32_t next;
	} cases[] = {
		{ "member;range=0-1499", 1, 1500 },
		{ "member;range=1500-*", 1, 0 },
		{ "Member;Range=0-9", 1, 10 },
		{ "member;range=3000-3000", 1, 3001 },
		{ "member", 0, 0 },
		{ "memberOf;range=0-1", 0, 0 },
		{ "memberUid", 0, 0 },
		{ "member;range=", -1, 0 },
		{ "member;range=5-3", -1, 0 },
		{ "member;range=0-4294967295", -1, 0 },
		{ "member;range=0-99999999999999999999", -1, 0 },
		{ "member;range=x-1", -1, 0 },
		{ "member;range=-1-5", -1, 0 },
		{ "member;range=0-1;binary", -1, 0 },
		{ "member;range=0-*x", -1, 0 },
		{ "member;range=0 -5", -1, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t next = 12345;
		int r = member_range_parse(cases[i].desc, "member", &next);
		ck_assert_msg(r == cases[i].want, "%s: %d", cases[i].desc, r);
		if (r > 0)
			ck_assert_msg(next == cases[i].next, "%s: next %u", cases[i].desc, next);
	}
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { slices, NULL };
	return run_tests("range", NULL, NULL, tests);
}
