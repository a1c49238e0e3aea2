/* seq.h: log positions, Redis Stream entry ids ("1732412345678-0"). */
#ifndef TICKERD_SEQ_H
#define TICKERD_SEQ_H

#include <stddef.h>
#include <stdint.h>

/* Room for "<20 digits>-<20 digits>" and its NUL. */
#define SEQ_STR_LEN 42

/* A stream entry id: milliseconds, then a counter within that millisecond. */
struct seq {
	uint64_t ms, n;
};

/* seq_parse() - read "ms-n" (the whole of s[0..len)); 0, or -1. */
int seq_parse(const char *s, size_t len, struct seq *out);

/* seq_format() - write "ms-n" into out[SEQ_STR_LEN]. */
void seq_format(struct seq s, char out[SEQ_STR_LEN]);

/* seq_cmp() - <0, 0, >0 as a is before, at, after b. */
int seq_cmp(struct seq a, struct seq b);

#endif
