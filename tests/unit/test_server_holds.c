/* server_holds: whether the server a full refresh read holds what a stream's position counts
 * (tests/e2e/test_sync_lag.sh against two real slapd providers).  What the server held is set
 * here as server_holds_read would find it. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "run_case.h"
#include "server_holds.h"

#define A1 "20261202051155.103981Z#000000#001#000000"
#define A2 "20261202051209.756793Z#000000#001#000000"
#define B1 "20261202051155.129493Z#000000#002#000000"
#define B2 "20261202051209.774965Z#000000#002#000000"
#define INV "29f730ac-fe07-4b56-90d3-8df88fe81312"
#define INV2 "7e384640-d92d-4a29-9b9d-01835666d62f"

static bool holds(const struct server_holds *h, const char *stream, const char *position)
{
	char why[256] = "";
	bool held = server_holds_position(h, stream, position, strlen(position), why, sizeof(why));
	ck_assert_msg(held == !*why, "%s: held %d, why [%s]", position, held, why);
	return held;
}

START_TEST(slapd)
{
	struct berval a2 = { strlen(A2), A2 }, b1 = { strlen(B1), B1 };
	struct berval *users[] = { &a2, &b1, NULL }, *groups[] = { &b1, NULL };
	struct server_holds h = { .read = true, .csns = { groups, users } };
	ck_assert(holds(&h, "users", "rid=000,csn=" A1 ";" B1));
	ck_assert(holds(&h, "users", "rid=000,csn=" A2));
	ck_assert(!holds(&h, "users", "rid=000,csn=" A2 ";" B2)); /* behind on provider 2 */
	/* each stream against its own base's naming context */
	ck_assert(!holds(&h, "groups", "rid=000,csn=" A1 ";" B1));
	ck_assert(holds(&h, "groups", "rid=000,csn=" B1));
	h.csns[1] = NULL; /* contextCSN not shown */
	ck_assert(!holds(&h, "users", "rid=000,csn=" A1));
	h.read = false;
	ck_assert(!holds(&h, "groups", "rid=000,csn=" B1));
}
END_TEST

START_TEST(ad)
{
	struct server_holds h = { .read = true };
	snprintf(h.at.dc, sizeof(h.at.dc), "dc1.ad.test");
	snprintf(h.at.invocation_id, sizeof(h.at.invocation_id), INV);
	h.at.usn = 4151;
	ck_assert(holds(&h, "usn", "dc1.ad.test " INV " 4100"));
	ck_assert(holds(&h, "usn", "dc1.ad.test " INV " 4151"));
	ck_assert(!holds(&h, "usn", "dc2.ad.test " INV " 4100"));	/* another DC */
	ck_assert(!holds(&h, "usn", "dc1.ad.test " INV2 " 4100"));	/* restored */
	ck_assert(!holds(&h, "usn", "dc1.ad.test " INV " 4152"));	/* USN went back */
	ck_assert(!holds(&h, "usn", "dc1.ad.test"));
	ck_assert(!holds(&h, "usn", ""));
	memset(&h.at, 0, sizeof(h.at)); /* its position could not be read */
	ck_assert(!holds(&h, "usn", "dc1.ad.test " INV " 4100"));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { slapd, ad, NULL };
	return run_case("server_holds", test_case("server_holds", NULL, NULL, tests));
}
