/* item_text.c: what makes an item's text acceptable: no control
 * characters, a visible character at least (Unicode spaces and invisible
 * characters don't count), safe URLs, BCP 47 language tags. */
#include "item_text.h"

#include "item_fields.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/*
 * 1 if s[0..len) holds a C0 or C1 control character or DEL.  The text is
 * valid UTF-8 already, so C1 controls are exactly the pairs C2 80..C2 9F.
 */
int
text_has_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 1;
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return 1;
	}
	return 0;
}

/*
 * 1 if code point c shows nothing on a screen: white space (ASCII and
 * Unicode: no-break, ideographic, en/em ... spaces, line and paragraph
 * separators) or an invisible character (zero-width space and joiners,
 * word joiner, byte order mark, soft hyphen, bidi marks and isolates,
 * fillers, variation selectors, tags).
 */
static int
is_invisible(uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
	} ranges[] = {
	    {0x0009, 0x000d},   {0x0020, 0x0020},   {0x0085, 0x0085},
	    {0x00a0, 0x00a0},   {0x00ad, 0x00ad},   {0x034f, 0x034f},
	    {0x061c, 0x061c},   {0x115f, 0x1160},   {0x1680, 0x1680},
	    {0x17b4, 0x17b5},   {0x180b, 0x180f},   {0x2000, 0x200f},
	    {0x2028, 0x202f},   {0x205f, 0x2064},   {0x2066, 0x206f},
	    {0x2800, 0x2800},   {0x3000, 0x3000},   {0x3164, 0x3164},
	    {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
	    {0xfff9, 0xfffb},   {0x1d173, 0x1d17a}, {0xe0000, 0xe007f},
	    {0xe0100, 0xe01ef},
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (c >= ranges[i].lo && c <= ranges[i].hi)
			return 1;
	return 0;
}

/*
 * The code point starting at s[*i] (s[0..len) is valid UTF-8); *i moves
 * past it.  A byte that starts no sequence is returned as itself.
 */
static uint32_t
next_code_point(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = len - *i, n;
	uint32_t c;

	if (p[0] < 0xc0) /* ASCII, or a stray continuation byte */
		n = 1, c = p[0];
	else if (p[0] < 0xe0)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] < 0xf0)
		n = 3, c = p[0] & 0x0f;
	else
		n = 4, c = p[0] & 0x07;
	if (n > left)
		n = 1, c = p[0];
	for (size_t k = 1; k < n; k++)
		c = c << 6 | (p[k] & 0x3f);
	*i += n;
	return c;
}

/* 1 if s[0..len) (valid UTF-8) has no visible character. */
static int
is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len;)
		if (!is_invisible(next_code_point(s, len, &i)))
			return 0;
	return 1;
}

/*
 * Check a headline's text (what names it in the message): a visible
 * character, at most max bytes, no control characters.  0 or -1.
 */
int
text_check_headline(const char *s, size_t len, size_t max, const char *what,
                    struct item_error *err)
{
	if (!len || is_blank(s, len))
		return item_fail(err, ITEM_ERR_HEADLINE,
		                 "%s is empty (no visible character)", what);
	if (len > max)
		return item_fail(err, ITEM_ERR_HEADLINE,
		                 "%s is %zu bytes, more than %zu", what, len,
		                 max);
	if (text_has_controls(s, len))
		return item_fail(err, ITEM_ERR_HEADLINE,
		                 "%s contains control characters", what);
	return 0;
}

/* 1 if s is an absolute http(s) URL with a host and no blanks/controls. */
int
text_url_is_safe(const char *s, size_t len)
{
	size_t skip;

	if (len > ITEM_URL_MAX)
		return 0;
	if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else
		return 0;
	if (len == skip || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return !text_has_controls(s, len);
}

/* 1 if s looks like a BCP 47 tag: "fr", "nb-NO", "zh-Hant-TW". */
int
text_lang_is_valid(const char *s)
{
	size_t len = strlen(s), part = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '-') {
			if (!part || part > 8)
				return 0;
			part = 0;
		} else if (isalnum((unsigned char)s[i])) {
			if (i < 2 && !isalpha((unsigned char)s[i]))
				return 0;
			part++;
		} else {
			return 0;
		}
	}
	return strchr(s, '-') ? (size_t)(strchr(s, '-') - s) >= 2 : len >= 2;
}
