/* fuzz.h: what every fuzz target shares: its entry point and CHECK(). */
#ifndef TICKERD_FUZZ_H
#define TICKERD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * fuzz_split() - an input whose first byte picks where the rest is cut in
 * two (its value modulo the rest's length + 1): the rest, copied into
 * exactly *len bytes of its own (so a sanitizer sees any read past them;
 * the caller frees it), and the cut in *cut.  NULL for an empty input.
 */
static inline char *
fuzz_split(const uint8_t *data, size_t size, size_t *len, size_t *cut)
{
	char *buf;

	if (!size)
		return NULL;
	*len = size - 1;
	*cut = data[0] % (*len + 1);
	buf = malloc(*len ? *len : 1);
	CHECK(buf);
	memcpy(buf, data + 1, *len);
	return buf;
}

#endif
