/* since.c: a resume point given as a seq, a duration or a time. */
#include "since.h"

#include "isotime.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 1000

/* "<digits><unit>": ms before now; -1 if it is not one. */
static int64_t
duration_ms(const char *s)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {
	    {'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	size_t len = strlen(s), digits = strspn(s, "0123456789");
	int64_t n;

	if (!digits || digits > 9 || digits + 1 != len)
		return -1;
	n = strtoll(s, NULL, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[len - 1] == units[i].unit) {
			int64_t ms = n * units[i].ms;

			return ms <= (int64_t)MAX_DAYS * 86400000 ? ms : -1;
		}
	return -1;
}

void
since_parse(const char *s, uint64_t now_ms, struct since *out)
{
	int64_t back;
	time_t t;

	memset(out, 0, sizeof(*out));
	if (!seq_parse(s, strlen(s), &out->seq)) {
		out->kind = SINCE_SEQ;
		return;
	}
	if ((back = duration_ms(s)) >= 0) {
		out->kind = SINCE_TIME;
		out->ms = (uint64_t)back < now_ms ? now_ms - (uint64_t)back : 0;
		return;
	}
	if (!isotime_parse(s, &t)) {
		out->kind = SINCE_TIME;
		out->ms = (uint64_t)t * 1000;
		return;
	}
	out->kind = SINCE_BAD;
}
