/* An AD poll's position (ad_changes.h): the text stored with the cache, read back strictly (a
 * damaged one is no position: the domain is read whole), and when a DC's position continues
 * a stored one. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ad_changes.h"
#include "run_case.h"

static struct ad_position pos(const char *dc, const char *inv, uint64_t usn)
{
	struct ad_position p;
	memset(&p, 0, sizeof(p));
	strcpy(p.dc, dc);
	strcpy(p.invocation_id, inv);
	p.usn = usn;
	return p;
}

#define INV "0f2c1d3e-4a5b-6c7d-8e9f-a0b1c2d3e4f5"

START_TEST(round_trip)
{
	struct ad_position p = pos("dc1.ad.test", INV, 18446744073709551615ULL), back;
	char text[512];
	ad_position_format(&p, text, sizeof(text));
	ck_assert_str_eq(text, "dc1.ad.test " INV " 18446744073709551615");
	ck_assert_int_eq(ad_position_parse(text, &back), 0);
	ck_assert_str_eq(back.dc, p.dc);
	ck_assert_str_eq(back.invocation_id, p.invocation_id);
	ck_assert(back.usn == p.usn);
}
END_TEST

START_TEST(damaged)
{
	static const char *const bad[] = {
		"", "dc1.ad.test", "dc1.ad.test " INV, "dc1.ad.test " INV " 12 extra",
		"dc1.ad.test " INV " 12x", "dc1.ad.test 0f2c " "12", "dc1.ad.test " INV "0 12",
		"dc1.ad.test " INV " -",
	};
	struct ad_position p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ad_position_parse(bad[i], &p) < 0, "accepted [%s]", bad[i]);
}
END_TEST

START_TEST(continues)
{
	struct ad_position stored = pos("dc1.ad.test", INV, 100);
	struct ad_position same = pos("DC1.ad.test", INV, 100), ahead = pos("dc1.ad.test", INV, 150);
	ck_assert_ptr_null(ad_position_mismatch(&stored, &same));
	ck_assert_ptr_null(ad_position_mismatch(&stored, &ahead));
	struct ad_position other = pos("dc2.ad.test", INV, 150);
	struct ad_position restored = pos("dc1.ad.test", "00000000-0000-0000-0000-000000000001", 150);
	struct ad_position back = pos("dc1.ad.test", INV, 99);
	ck_assert_ptr_nonnull(strstr(ad_position_mismatch(&stored, &other), "another DC"));
	ck_assert_ptr_nonnull(strstr(ad_position_mismatch(&stored, &restored), "invocationId"));
	ck_assert_ptr_nonnull(strstr(ad_position_mismatch(&stored, &back), "USN went back"));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { round_trip, damaged, continues, NULL };
	return run_tests("ad_changes", NULL, NULL, tests);
}
