/* seq.c: parsing, printing and ordering Redis Stream entry ids. */
#include "seq.h"

#include <stdio.h>

/* Read decimal digits into *v; returns how many were read (0 = none). */
static size_t
read_u64(const char *s, size_t len, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9' && i < 20) {
		uint64_t next = *v * 10 + (uint64_t)(s[i] - '0');

		if (next / 10 != *v)
			return 0; /* overflow */
		*v = next;
		i++;
	}
	return i;
}

int
seq_parse(const char *s, size_t len, struct seq *out)
{
	size_t a, b;

	if (!s)
		return -1;
	a = read_u64(s, len, &out->ms);
	if (!a || a >= len || s[a] != '-')
		return -1;
	b = read_u64(s + a + 1, len - a - 1, &out->n);
	return b && a + 1 + b == len ? 0 : -1;
}

void
seq_format(struct seq s, char out[SEQ_STR_LEN])
{
	snprintf(out, SEQ_STR_LEN, "%llu-%llu", (unsigned long long)s.ms,
	         (unsigned long long)s.n);
}

int
seq_cmp(struct seq a, struct seq b)
{
	if (a.ms != b.ms)
		return a.ms < b.ms ? -1 : 1;
	if (a.n != b.n)
		return a.n < b.n ? -1 : 1;
	return 0;
}
