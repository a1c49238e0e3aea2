/* request_fields.c: the values of the request headers a file's answer
 * depends on: entity-tag lists (If-None-Match), content codings and their
 * weights (Accept-Encoding), HTTP dates (If-Modified-Since).  RFC 9110. */
#define _DEFAULT_SOURCE /* timegm() */
#include "request.h"

#include <string.h>
#include <strings.h>
#include <time.h>

/* Skip blanks (OWS) from i in s; the new position. */
static size_t
skip_ows(struct req_str s, size_t i)
{
	while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
		i++;
	return i;
}

/*
 * An entity-tag at s[i..): [W/] DQUOTE *etagc DQUOTE.  Its opaque part (the
 * quotes and what is between them) in *tag; the position after it, or 0 if
 * there is none there (an entity-tag is at least 2 bytes long, so 0 is
 * never a position after one).
 */
static size_t
entity_tag(struct req_str s, size_t i, struct req_str *tag)
{
	size_t start;

	if (i + 1 < s.len && s.p[i] == 'W' && s.p[i + 1] == '/')
		i += 2;
	if (i >= s.len || s.p[i] != '"')
		return 0;
	start = i++;
	/* etagc: %x21 / %x23-7E / obs-text; the parser let no controls in */
	while (i < s.len && s.p[i] != '"') {
		unsigned char c = (unsigned char)s.p[i];

		if (c < 0x21 || c == 0x7f)
			return 0;
		i++;
	}
	if (i >= s.len)
		return 0;
	tag->p = s.p + start;
	tag->len = ++i - start;
	return i;
}

int
req_etag_listed(struct req_str s, const char *etag)
{
	size_t el = strlen(etag), i = 0;
	int listed = 0;

	if (!s.p)
		return 0;
	i = skip_ows(s, 0);
	if (i < s.len && s.p[i] == '*')
		return skip_ows(s, i + 1) == s.len;
	/* #entity-tag: empty elements are allowed, anything else is not. */
	while (i < s.len) {
		struct req_str tag;
		size_t after;

		if (s.p[i] == ',') {
			i = skip_ows(s, i + 1);
			continue;
		}
		after = entity_tag(s, i, &tag);
		if (!after)
			return 0;
		if (tag.len == el && !memcmp(tag.p, etag, el))
			listed = 1;
		i = skip_ows(s, after);
		if (i < s.len && s.p[i] != ',')
			return 0;
	}
	return listed;
}

/*
 * A qvalue (RFC 9110 12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]) in
 * v[0..len), in thousandths; -1 if it is not one.
 */
static int
qvalue(const char *v, size_t len)
{
	int q, scale = 100;

	if (!len || (v[0] != '0' && v[0] != '1') || len > 5 ||
	    (len > 1 && v[1] != '.'))
		return -1;
	q = (v[0] - '0') * 1000;
	for (size_t i = 2; i < len; i++, scale /= 10) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		q += (v[i] - '0') * scale;
	}
	return q <= 1000 ? q : -1;
}

/*
 * The weight of the element s[i..end) of an Accept-Encoding list
 * (codings *( OWS ";" OWS name "=" value )): from its q parameter, 1000
 * without one, 0 if the q is malformed; its coding in *name.
 */
static int
coding_weight(struct req_str s, size_t i, size_t end, struct req_str *name)
{
	size_t semi = end;
	int q = 1000;

	name->p = s.p + i;
	while (i < end && s.p[i] != ';' && s.p[i] != ' ' && s.p[i] != '\t')
		i++;
	name->len = (size_t)(s.p + i - name->p);
	for (; i < end; i = semi) {
		size_t ps, pe;

		i = skip_ows(s, i);
		if (i == end)
			break;
		if (s.p[i] != ';')
			return 0;
		i = skip_ows(s, i + 1);
		ps = i;
		semi = i;
		while (semi < end && s.p[semi] != ';')
			semi++;
		pe = semi;
		while (pe > ps && (s.p[pe - 1] == ' ' || s.p[pe - 1] == '\t'))
			pe--;
		if (pe - ps >= 2 && (s.p[ps] | 0x20) == 'q' &&
		    s.p[ps + 1] == '=') {
			q = qvalue(s.p + ps + 2, pe - ps - 2);
			if (q < 0)
				return 0;
		}
	}
	return q;
}

/* 1 if name is coding, any case; "x-gzip" is "gzip" (RFC 9110 8.4.1.3). */
static int
same_coding(struct req_str name, const char *coding)
{
	if (req_equals(name, coding))
		return 1;
	return !strcasecmp(coding, "gzip") && req_equals(name, "x-gzip");
}

int
req_coding_q(struct req_str s, const char *coding)
{
	int star = -1;
	size_t i = 0;

	while (s.p && i < s.len) {
		size_t end = i;
		struct req_str name;
		int q;

		i = skip_ows(s, i);
		while (end < s.len && s.p[end] != ',')
			end++;
		if (end > i) {
			q = coding_weight(s, i, end, &name);
			if (same_coding(name, coding))
				return q;
			if (star < 0 && req_equals(name, "*"))
				star = q;
		}
		i = end + 1;
	}
	return star;
}

/* The number in the n digits at p, or -1 if they are not all digits. */
static int
digits(const char *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* The month named by the 3 letters at p (case as sent: "Nov"), or -1. */
static int
month_of(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int m = 0; m < 12; m++)
		if (!memcmp(p, months + 3 * m, 3))
			return m;
	return -1;
}

/* 1 if the n bytes at p are a day name, short ("Sun") or long ("Sunday"). */
static int
is_day_name(const char *p, size_t n, int lng)
{
	static const char *const days[] = {"Sunday",    "Monday",   "Tuesday",
	                                   "Wednesday", "Thursday", "Friday",
	                                   "Saturday"};

	for (int d = 0; d < 7; d++)
		if ((lng ? strlen(days[d]) == n : n == 3) &&
		    !memcmp(p, days[d], n))
			return 1;
	return 0;
}

/* "HH:MM:SS" at p into tm; 0, or -1. */
static int
clock_of(const char *p, struct tm *tm)
{
	tm->tm_hour = digits(p, 2);
	tm->tm_min = digits(p + 3, 2);
	tm->tm_sec = digits(p + 6, 2);
	return p[2] == ':' && p[5] == ':' && tm->tm_hour >= 0 &&
	               tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 &&
	               tm->tm_sec >= 0 && tm->tm_sec <= 60
	           ? 0
	           : -1;
}

int
req_http_date(struct req_str s, time_t *t)
{
	struct tm tm, back;
	const char *p = s.p;
	const char *comma = s.p ? memchr(s.p, ',', s.len) : NULL;
	time_t when;

	memset(&tm, 0, sizeof(tm));
	if (!p)
		return -1;
	if (s.len == 29 && comma == p + 3) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		if (!is_day_name(p, 3, 0) || p[4] != ' ' || p[7] != ' ' ||
		    p[11] != ' ' || p[16] != ' ' || memcmp(p + 25, " GMT", 4) ||
		    clock_of(p + 17, &tm))
			return -1;
		tm.tm_mday = digits(p + 5, 2);
		tm.tm_mon = month_of(p + 8);
		tm.tm_year = digits(p + 12, 4) - 1900;
		if (digits(p + 12, 4) < 0)
			return -1;
	} else if (comma && s.len == (size_t)(comma - p) + 24) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *d = comma + 2;
		int yy = digits(d + 7, 2);

		if (!is_day_name(p, (size_t)(comma - p), 1) ||
		    comma[1] != ' ' || d[2] != '-' || d[6] != '-' ||
		    d[9] != ' ' || memcmp(d + 18, " GMT", 4) ||
		    clock_of(d + 10, &tm) || yy < 0)
			return -1;
		tm.tm_mday = digits(d, 2);
		tm.tm_mon = month_of(d + 3);
		/* Two-digit years: the last century's from 70 on. */
		tm.tm_year = yy >= 70 ? yy : yy + 100;
	} else if (s.len == 24 && !comma) {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		if (!is_day_name(p, 3, 0) || p[3] != ' ' || p[7] != ' ' ||
		    p[10] != ' ' || p[19] != ' ' || clock_of(p + 11, &tm) ||
		    digits(p + 20, 4) < 0)
			return -1;
		tm.tm_mday = p[8] == ' ' ? digits(p + 9, 1) : digits(p + 8, 2);
		tm.tm_mon = month_of(p + 4);
		tm.tm_year = digits(p + 20, 4) - 1900;
	} else {
		return -1;
	}
	if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return -1;
	back = tm;
	when = timegm(&tm);
	/* No 31 November: timegm() would have moved it to 1 December. */
	if (when == (time_t)-1 || tm.tm_mday != back.tm_mday ||
	    tm.tm_mon != back.tm_mon)
		return -1;
	*t = when;
	return 0;
}
