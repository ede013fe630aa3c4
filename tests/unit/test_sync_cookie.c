/* sync_cookie: slapd's cookies kept and sent as a consumer of a multi-provider pair must
 * (tests/e2e/test_fleet.sh shows why against two real providers), and set against a server's
 * contextCSN (tests/e2e/test_sync_lag.sh). */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "run_case.h"
#include "sync_cookie.h"

#define A1 "20261202051155.103981Z#000000#001#000000"
#define A2 "20261202051209.756793Z#000000#001#000000"
#define B1 "20261202051155.129493Z#000000#002#000000"
#define B2 "20261202051209.774965Z#000000#002#000000"

static struct berval *bv(const char *s)
{
	static struct berval b[2];
	static int k;
	k = !k;
	b[k].bv_val = (char *)s;
	b[k].bv_len = strlen(s);
	return &b[k];
}

static void check_merge(const char *known, const char *next, const char *want)
{
	struct berval *got = sync_cookie_merge(known ? bv(known) : NULL, bv(next));
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(got->bv_len == strlen(want) && !memcmp(got->bv_val, want, got->bv_len),
		      "%s + %s: [%.*s], want [%s]", known, next, (int)got->bv_len, got->bv_val, want);
	ber_bvfree(got);
}

START_TEST(merge)
{
	/* A persist-phase cookie names one provider's CSN: the other's is kept. */
	check_merge("rid=000,sid=001,csn=" A1 ";" B1, "rid=000,sid=001,csn=" B2,
		    "rid=000,sid=001,csn=" A1 ";" B2);
	check_merge("rid=000,sid=001,csn=" A1 ";" B2, "rid=000,sid=002,csn=" A2,
		    "rid=000,sid=002,csn=" A2 ";" B2);
	/* Each provider's newest: an older CSN in the new cookie does not go back. */
	check_merge("rid=000,csn=" A2 ";" B2, "rid=000,csn=" B1 ";" A1, "rid=000,csn=" A2 ";" B2);
	/* A provider named only in the new cookie joins, in serverID order. */
	check_merge("rid=000,csn=" B1, "rid=000,csn=" A1, "rid=000,csn=" A1 ";" B1);
	/* A single provider: the new cookie as it came. */
	check_merge("rid=000,csn=" A1, "rid=000,csn=" A2, "rid=000,csn=" A2);
	check_merge(NULL, "rid=000,csn=" A1, "rid=000,csn=" A1);
	/* Not slapd's form: the new cookie as it came, opaque. */
	check_merge("rid=000,csn=" A1, "opaque", "opaque");
	check_merge("opaque", "rid=000,csn=" A1, "rid=000,csn=" A1);
	check_merge("rid=000,csn=garbage", "rid=000,csn=" A1, "rid=000,csn=" A1);
	check_merge("rid=000,csn=" A1, "rid=000,csn=" A2 ";x#y", "rid=000,csn=" A2 ";x#y");
}
END_TEST

static void check_send(const char *stored, const char *want)
{
	struct berval *got = sync_cookie_to_send(bv(stored));
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(got->bv_len == strlen(want) && !strcmp(got->bv_val, want), "%s: [%s], want [%s]",
		      stored, got->bv_val, want);
	ber_bvfree(got);
}

START_TEST(send_without_sid)
{
	check_send("rid=000,sid=001,csn=" A1 ";" B1, "rid=000,csn=" A1 ";" B1);
	check_send("sid=002,csn=" A1, "csn=" A1);
	check_send("rid=000,sid=001", "rid=000");
	check_send("rid=000,csn=" A1, "rid=000,csn=" A1);
	check_send("opaque", "opaque");
}
END_TEST

/* held: the contextCSN values, NULL-ended */
static bool held(const char *position, const char *const *values)
{
	struct berval v[8], *list[9];
	size_t n = 0;
	for (; values[n]; n++) {
		v[n].bv_val = (char *)values[n];
		v[n].bv_len = strlen(values[n]);
		list[n] = &v[n];
	}
	list[n] = NULL;
	return sync_cookie_held(bv(position), list);
}

START_TEST(held_by_context_csn)
{
	const char *both_new[] = { A2, B2, NULL }, *both_old[] = { A1, B1, NULL };
	const char *a_behind[] = { A1, B2, NULL }, *b_only[] = { B2, NULL }, *none[] = { NULL };
	/* Every provider the position names at least as new on the server. */
	ck_assert(held("rid=000,sid=001,csn=" A2 ";" B2, both_new));
	ck_assert(held("rid=000,csn=" A1 ";" B1, both_new));
	ck_assert(held("rid=000,csn=" A1, both_old));
	/* A provider the server lags behind on, or lacks: it may lack what the position counts. */
	ck_assert(!held("rid=000,csn=" A2 ";" B2, a_behind));
	ck_assert(!held("rid=000,csn=" A2 ";" B2, both_old));
	ck_assert(!held("rid=000,csn=" A1 ";" B1, b_only));
	ck_assert(!held("rid=000,csn=" A1, none));
	/* The server has more providers than the position names: they count nothing of it. */
	ck_assert(held("rid=000,csn=" B1, both_new));
	/* Nothing to compare: not held. */
	ck_assert(!held("rid=000", both_new));
	ck_assert(!held("rid=000,csn=", both_new));
	ck_assert(!held("opaque", both_new));
	ck_assert(!held("rid=000,csn=garbage", both_new));
	const char *bad[] = { A2, "garbage", NULL };
	ck_assert(!held("rid=000,csn=" A1, bad));
}
END_TEST

/* Positions a stream may resume from: slapd takes one without a CSN it can read for none at
 * all (tests/e2e/test_sync_damaged.sh). */
START_TEST(usable)
{
	ck_assert(sync_cookie_usable(bv("rid=000,csn=" A1)));
	ck_assert(sync_cookie_usable(bv("rid=000,sid=001,csn=" A1 ";" B2)));
	ck_assert(sync_cookie_usable(bv("opaque"))); /* another server's */
	ck_assert(!sync_cookie_usable(bv("")));
	ck_assert(!sync_cookie_usable(bv("rid=000")));
	ck_assert(!sync_cookie_usable(bv("rid=000,sid=001")));
	ck_assert(!sync_cookie_usable(bv("rid=000,csn=")));
	ck_assert(!sync_cookie_usable(bv("rid=000,csn=garbage#a#b#c")));
	ck_assert(!sync_cookie_usable(bv("rid=000,csn=" A1 ";")));
	ck_assert(!sync_cookie_usable(bv("rid=000,csn=" A1 ";x#y")));
	ck_assert(!sync_cookie_usable(bv("rid=000,csn=20261202051155.103981Z#000000#001#00000")));
	ck_assert(!sync_cookie_usable(bv("rid=000,csn=2026120205115X.103981Z#000000#001#000000")));
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("sync_cookie");
	tcase_add_test(tc, merge);
	tcase_add_test(tc, send_without_sid);
	tcase_add_test(tc, held_by_context_csn);
	tcase_add_test(tc, usable);
	return run_case("sync_cookie", tc);
}
