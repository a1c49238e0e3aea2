/* isotime.c: strict ISO 8601 date-time parsing and UTC formatting. */
#include "isotime.h"

#include <ctype.h>
#include <string.h>

/* Read exactly n decimal digits at *p into *out and advance; -1 if not. */
static int
read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

int
isotime_parse(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec = 0, off_h = 0, off_m = 0, sign = 0;
	const char *p = s;
	time_t t;

	if (!s || read_digits(&p, 4, &y) || *p++ != '-' ||
	    read_digits(&p, 2, &mo) || *p++ != '-' || read_digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
		return -1;
	if (*p == ':') {
		p++;
		if (read_digits(&p, 2, &sec))
			return -1;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (read_digits(&p, 2, &off_h))
			return -1;
		if (*p == ':')
			p++;
		if (read_digits(&p, 2, &off_m))
			return -1;
	}
	if (*p)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 ||
	    off_h > 23 || off_m > 59)
		return -1;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec; /* a leap second reads as :59 */
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	t -= sign * (off_h * 3600 + off_m * 60);
	/* In UTC it must still be 1970-01-01 .. 9999-12-31, as we print it. */
	if (t < 0 || t > ISOTIME_MAX)
		return -1;
	*out = t;
	return 0;
}

void
isotime_format(time_t t, char out[ISOTIME_LEN])
{
	struct tm tm;

	if (t < 0 || t > ISOTIME_MAX)
		t = t < 0 ? 0 : ISOTIME_MAX;
	gmtime_r(&t, &tm);
	if (!strftime(out, ISOTIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

uint64_t
isotime_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
