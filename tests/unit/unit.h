/* unit.h: what the cmocka unit tests share: table sizes, literals with
 * NULs, a checked comparison naming its case, exact-size copies. */
#ifndef TICKERD_TEST_UNIT_H
#define TICKERD_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A string literal and its length, NULs included: S("a\0b") is 3 bytes. */
#define S(lit) lit, sizeof(lit) - 1

/* Fail naming the case when got is not want. */
#define CHECK_INT(what, got, want)                                             \
	do {                                                                   \
		long g_ = (long)(got), w_ = (long)(want);                      \
		if (g_ != w_)                                                  \
			fail_msg("%s: %s is %ld, want %ld", (what), #got, g_,  \
			         w_);                                          \
	} while (0)

/*
 * A heap copy of s[0..len) of exactly len bytes, so that ASan sees a read
 * past the end (make SANITIZE=address,undefined unit).  The caller frees.
 */
static inline char *
exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

#endif
