/* test_access.c: when the token sweep next has something to do
 * (access_next_due()): it may skip every walk before that instant. */
#include "unit.h"

#include "access.h"

#define EXP 1750750200 /* 2025-06-24T07:30:00Z */

/* The instants are the sweep's own tests, second by second: the warning
 * when now >= exp - 60, the removal when now > exp + leeway. */
static void
test_due_matches_the_sweep(void **state)
{
	static const long leeways[] = {0, 1, 30, 300};

	(void)state;
	for (size_t i = 0; i < N_OF(leeways); i++) {
		long leeway = leeways[i];
		time_t warn = access_next_due(EXP, 0, leeway),
		       gone = access_next_due(EXP, 1, leeway);

		CHECK_INT("warning", warn, EXP - 60);
		CHECK_INT("removal", gone, EXP + leeway + 1);
		for (time_t now = EXP - 120; now <= EXP + leeway + 120; now++) {
			CHECK_INT("warned at", now >= warn, now >= EXP - 60);
			CHECK_INT("removed at", now >= gone,
			          now > EXP + leeway);
		}
	}
}

/* No token: nothing is ever due, later than any token's instant. */
static void
test_no_token_never_due(void **state)
{
	(void)state;
	assert_true(access_next_due(0, 0, 30) == ACCESS_DUE_NEVER);
	assert_true(access_next_due(0, 1, 30) == ACCESS_DUE_NEVER);
	assert_true(ACCESS_DUE_NEVER > (time_t)4e11 + 86400);
	assert_true(ACCESS_DUE_NEVER > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_due_matches_the_sweep),
	    cmocka_unit_test(test_no_token_never_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
