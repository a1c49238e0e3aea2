/* fuzz.h: what every fuzz target shares: its entry point and CHECK(). */
#ifndef TICKERD_FUZZ_H
#define TICKERD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * LLVMFuzzerTestOneInput() - run one input through the code under test.
 * libFuzzer calls it in `make fuzz`; replay.c calls it for each corpus
 * file in `make test`.  Returns 0; a broken invariant aborts.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and abort, so the fuzzer keeps the input. */
static inline void __attribute__((noreturn))
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/* CHECK() - abort unless cond holds; unlike assert(), never compiled out. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

#endif
