/* duration.c: 90s, 30m, 6h, 1d. */
#include "duration.h"

#include <string.h>

int
duration_parse(const char *s, size_t len, uint64_t max_ms, uint64_t *ms)
{
	static const struct {
		char unit;
		uint64_t ms;
	} units[] = {
	    {'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	uint64_t n = 0;
	size_t digits = 0;

	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		n = n * 10 + (uint64_t)(s[digits++] - '0');
	if (!digits || digits > 9 || digits + 1 != len)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[len - 1] == units[i].unit) {
			if (n * units[i].ms > max_ms)
				return -1;
			*ms = n * units[i].ms;
			return 0;
		}
	return -1;
}
