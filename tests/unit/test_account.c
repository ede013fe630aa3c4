/* account_check: which directory accounts may log in today, and what the user is told. */
#include <check.h>
#include <string.h>

#include "account_policy.h"
#include "run_case.h"

#define TODAY 20000LL /* a day in 2024 */
#define NOW (TODAY * 86400 + 43200) /* its noon */

static const struct account_state plain = { false, false, false, -1, -1, -1, 0, false };

static enum account_verdict verdict(struct account_state s, char *msg)
{
	return account_check(&s, NOW, msg, 256);
}

START_TEST(plain_account_may_log_in)
{
	char msg[256];
	ck_assert_int_eq(verdict(plain, msg), ACCOUNT_OK);
	ck_assert_str_eq(msg, "");
}
END_TEST

START_TEST(states)
{
	static const struct {
		struct account_state s;
		enum account_verdict want;
		const char *says;
	} cases[] = {
		{ { true, false, false, -1, -1, -1, 0, false }, ACCOUNT_DISABLED, "disabled" },
		{ { false, true, false, -1, -1, -1, 0, false }, ACCOUNT_DISABLED, "locked" },
		{ { false, false, false, TODAY, -1, -1, 0, false }, ACCOUNT_EXPIRED, "expired" },
		{ { false, false, false, TODAY + 1, -1, -1, 0, false }, ACCOUNT_OK, "" },
		{ { false, false, false, 0, -1, -1, 0, false }, ACCOUNT_EXPIRED, "expired" },
		{ { false, false, false, -1, 0, -1, 0, false }, ACCOUNT_MUST_CHANGE, "administrator enforced" },
		{ { false, false, true, -1, -1, -1, 0, false }, ACCOUNT_MUST_CHANGE, "administrator enforced" },
		{ { false, false, false, -1, TODAY - 31, 30, 0, false }, ACCOUNT_MUST_CHANGE, "password expired" },
		{ { false, false, false, -1, TODAY - 30, 30, 0, false }, ACCOUNT_OK, "" },
		{ { false, false, false, -1, TODAY - 5000, -1, 0, false }, ACCOUNT_OK, "" },
		/* AD: accountExpires (as a unix time) and PASSWORD_EXPIRED */
		{ { false, false, false, -1, -1, -1, NOW, false }, ACCOUNT_EXPIRED, "expired" },
		{ { false, false, false, -1, -1, -1, NOW + 1, false }, ACCOUNT_OK, "" },
		{ { false, false, false, -1, -1, -1, 1, false }, ACCOUNT_EXPIRED, "expired" },
		{ { false, false, false, -1, -1, -1, 0, true }, ACCOUNT_MUST_CHANGE, "password expired" },
		/* Disabled wins over everything else. */
		{ { true, true, true, 1, 0, 0, 0, false }, ACCOUNT_DISABLED, "disabled" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[256];
		ck_assert_msg(verdict(cases[i].s, msg) == cases[i].want, "case %zu", i);
		ck_assert_msg(strstr(msg, cases[i].says), "case %zu: message '%s'", i, msg);
	}
}
END_TEST

START_TEST(message_fits_small_buffers)
{
	char msg[8];
	struct account_state s = plain;
	s.disabled = true;
	ck_assert_int_eq(account_check(&s, NOW, msg, sizeof(msg)), ACCOUNT_DISABLED);
	ck_assert_uint_eq(strlen(msg), 7);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { plain_account_may_log_in, states, message_fits_small_buffers, NULL };
	return run_tests("account", NULL, NULL, tests);
}
