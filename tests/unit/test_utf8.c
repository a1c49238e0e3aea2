/* test_utf8.c: UTF-8 checked in pieces (utf8.c), against a reference
 * decoder written here: whole, split at every position, byte by byte. */
#include "unit.h"

#include "utf8.h"

#include <stdio.h>

/* What a UTF-8 check can say of some bytes. */
enum { U_VALID, U_CUT, U_BAD };

/*
 * The reference: U_VALID if p[0..len) is UTF-8, U_CUT if it is UTF-8 cut
 * short (more bytes could complete it), U_BAD if nothing can.  A sequence
 * is read as the interval [lo, hi] of code points its bytes so far allow,
 * against those valid at its length: at least the shortest form's first,
 * at most U+10FFFF, not a surrogate.
 */
static int
ref_utf8(const unsigned char *p, size_t len)
{
	static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000},
	                      max[4] = {0x7f, 0x7ff, 0xffff, 0x10ffff};
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i++];
		size_t n, have = 0;
		uint32_t cp, lo, hi, a, b;

		if (c < 0x80)
			continue;
		if (c >= 0xc0 && c < 0xe0)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c < 0xf0)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c < 0xf8)
			n = 3, cp = c & 0x07;
		else
			return U_BAD;
		for (; have < n && i < len; have++, i++) {
			if ((p[i] & 0xc0) != 0x80)
				return U_BAD;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		lo = cp << 6 * (n - have);
		hi = lo | ((1u << 6 * (n - have)) - 1);
		a = lo > min[n] ? lo : min[n];
		b = hi < max[n] ? hi : max[n];
		if (a > b || (a >= 0xd800 && b <= 0xdfff))
			return U_BAD;
		if (have < n)
			return U_CUT;
	}
	return U_VALID;
}

/*
 * utf8_feed() on p[0..len) in one piece, in two at every cut, and byte by
 * byte: the same state every way.  Returns what that state says.
 */
static int
feed(const unsigned char *p, size_t len)
{
	uint8_t whole = utf8_feed(UTF8_START, p, len), s = UTF8_START;

	for (size_t cut = 0; cut <= len; cut++) {
		uint8_t two = utf8_feed(utf8_feed(UTF8_START, p, cut), p + cut,
		                        len - cut);

		if (two != whole)
			fail_msg("cut at %zu: state %d, whole %d", cut, two,
			         whole);
	}
	for (size_t i = 0; i < len; i++)
		s = utf8_feed(s, p + i, 1);
	assert_int_equal(s, whole);
	assert_true(whole <= UTF8_BAD);
	return whole == UTF8_START ? U_VALID
	       : whole == UTF8_BAD ? U_BAD
	                           : U_CUT;
}

/* Print p[0..len) in hex into out (which has room for 3 * len + 1). */
static const char *
hex_of(const unsigned char *p, size_t len, char *out)
{
	out[0] = '\0';
	for (size_t i = 0; i < len; i++)
		sprintf(out + 3 * i, "%02X ", p[i]);
	return out;
}

/* Named byte strings and what they are. */
static void
test_utf8_table(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		int want;
	} cases[] = {
	    {S(""), U_VALID},
	    {S("plain ASCII \x01\x7f"), U_VALID},
	    {S("\0"), U_VALID},
	    {S("caf\xc3\xa9 \xe2\x80\x99 \xc2\xab \xc2\xbb\xc2\xa0"), U_VALID},
	    {S("\xf0\x9f\x93\xb0"), U_VALID},       /* U+1F4F0 */
	    {S("\xef\xbb\xbf"), U_VALID},           /* BOM */
	    {S("\xc2\x80"), U_VALID},               /* U+0080 */
	    {S("\xdf\xbf"), U_VALID},               /* U+07FF */
	    {S("\xe0\xa0\x80"), U_VALID},           /* U+0800 */
	    {S("\xed\x9f\xbf"), U_VALID},           /* U+D7FF */
	    {S("\xee\x80\x80"), U_VALID},           /* U+E000 */
	    {S("\xef\xbf\xbf"), U_VALID},           /* U+FFFF */
	    {S("\xf0\x90\x80\x80"), U_VALID},       /* U+10000 */
	    {S("\xf4\x8f\xbf\xbf"), U_VALID},       /* U+10FFFF */
	    {S("\xc0\x80"), U_BAD},                 /* overlong NUL */
	    {S("\xc0"), U_BAD},                     /* never valid */
	    {S("\xc1\xbf"), U_BAD},                 /* overlong U+7F */
	    {S("\xe0\x80\x80"), U_BAD},             /* overlong */
	    {S("\xe0\x9f\xbf"), U_BAD},             /* overlong U+7FF */
	    {S("\xe0\x9f"), U_BAD},                 /* known at once */
	    {S("\xf0\x80\x80\x80"), U_BAD},         /* overlong */
	    {S("\xf0\x8f\xbf\xbf"), U_BAD},         /* overlong U+FFFF */
	    {S("\xf0\x8f"), U_BAD},                 /* known at once */
	    {S("\xed\xa0\x80"), U_BAD},             /* U+D800 */
	    {S("\xed\xbf\xbf"), U_BAD},             /* U+DFFF */
	    {S("\xed\xa0"), U_BAD},                 /* known at once */
	    {S("\xed\xa0\x80\xed\xb0\x80"), U_BAD}, /* a CESU-8 pair */
	    {S("\xf4\x90\x80\x80"), U_BAD},         /* U+110000 */
	    {S("\xf4\x90"), U_BAD},                 /* known at once */
	    {S("\xf5\x80\x80\x80"), U_BAD},
	    {S("\xf7\xbf\xbf\xbf"), U_BAD},
	    {S("\xf8\x88\x80\x80\x80"), U_BAD},     /* 5 bytes */
	    {S("\xfc\x84\x80\x80\x80\x80"), U_BAD}, /* 6 bytes */
	    {S("\xfe"), U_BAD},
	    {S("\xff"), U_BAD},
	    {S("\x80"), U_BAD}, /* lone continuation */
	    {S("\xbf"), U_BAD},
	    {S("a\xc3\xa9\xa9"), U_BAD}, /* one too many */
	    {S("\xc3"), U_CUT},
	    {S("\xe2\x80"), U_CUT},
	    {S("\xe2"), U_CUT},
	    {S("\xf0\x9f\x93"), U_CUT},
	    {S("\xf4\x8f\xbf"), U_CUT},
	    {S("\xed\x9f"), U_CUT},
	    {S("\xc3"
	       "a"),
	     U_BAD}, /* cut, then ASCII */
	    {S("\xe2\x80"
	       "a"),
	     U_BAD},
	    {S("\xf0\x9f\x93"
	       "a"),
	     U_BAD},
	    {S("\xc3\xc3\xa9"), U_BAD}, /* a lead for a tail */
	};
	char hex[64];

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		const unsigned char *p = (const unsigned char *)cases[i].in;
		int ref = ref_utf8(p, cases[i].len),
		    got = feed(p, cases[i].len);

		/* The reference agrees with the table, utf8_feed() with both.
		 */
		if (ref != cases[i].want || got != cases[i].want)
			fail_msg("%s: utf8_feed %d, reference %d, want %d",
			         hex_of(p, cases[i].len, hex), got, ref,
			         cases[i].want);
	}
}

/*
 * Every 1-4 byte string made of bytes at the edges of UTF-8's ranges,
 * alone, after ASCII, before ASCII and twice over: utf8_feed() (whole,
 * cut anywhere, byte by byte) says what the reference says.
 */
static void
test_utf8_edges_against_reference(void **state)
{
	static const unsigned char edges[] = {
	    0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
	    0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0,
	    0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff};
	const size_t ne = N_OF(edges);
	size_t tried = 0, seen[3] = {0, 0, 0};
	unsigned char s[10];
	char hex[40];

	(void)state;
	for (size_t n = 1; n <= 4; n++) {
		size_t total = 1;

		for (size_t k = 0; k < n; k++)
			total *= ne;
		for (size_t code = 0; code < total; code++) {
			unsigned char b[4];
			size_t c = code;

			for (size_t k = 0; k < n; k++, c /= ne)
				b[k] = edges[c % ne];
			for (int wrap = 0; wrap < 4; wrap++) {
				size_t len = 0;
				int ref, got;

				if (wrap == 1)
					s[len++] = 'a';
				memcpy(s + len, b, n);
				len += n;
				if (wrap == 2)
					s[len++] = 'z';
				if (wrap == 3) {
					memcpy(s + len, b, n);
					len += n;
				}
				ref = ref_utf8(s, len);
				got = feed(s, len);
				if (got != ref)
					fail_msg("%s: utf8_feed %d, reference "
					         "%d",
					         hex_of(s, len, hex), got, ref);
				seen[ref]++;
				tried++;
			}
		}
	}
	/* The strings reached every verdict, many times over. */
	assert_true(tried > 2000000);
	assert_true(seen[U_VALID] > 1000 && seen[U_CUT] > 1000 &&
	            seen[U_BAD] > 1000);
}

/* UTF-8 of cp (a scalar value or a surrogate) into out; its length. */
static size_t
encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Every code point, in its shortest form: valid but for the surrogates;
 * its form less the last byte is cut (or bad, for a surrogate); and the
 * same code point in a form one byte longer (overlong) is bad.
 */
static void
test_utf8_every_code_point(void **state)
{
	(void)state;
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		int surrogate = cp >= 0xd800 && cp <= 0xdfff;
		unsigned char b[4], o[4];
		size_t n = encode(cp, b);
		uint8_t st = utf8_feed(UTF8_START, b, n);

		if (st != (surrogate ? UTF8_BAD : UTF8_START))
			fail_msg("U+%04X: state %d", cp, st);
		if (n > 1) {
			st = utf8_feed(UTF8_START, b, n - 1);
			if (surrogate ? st != UTF8_BAD
			              : st == UTF8_START || st == UTF8_BAD)
				fail_msg("U+%04X cut: state %d", cp, st);
		}
		/* The overlong form, one byte longer. */
		if (n < 4) {
			uint32_t lead = n == 1 ? 0xc0 : n == 2 ? 0xe0 : 0xf0;
			size_t on = n + 1;

			for (size_t k = on; k-- > 1;)
				o[k] = (unsigned char)(0x80 |
				                       (cp >> 6 * (on - 1 - k) &
				                        0x3f));
			o[0] = (unsigned char)(lead | cp >> 6 * (on - 1));
			if (utf8_feed(UTF8_START, o, on) != UTF8_BAD)
				fail_msg("U+%04X overlong in %zu bytes", cp,
				         on);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_table),
	    cmocka_unit_test(test_utf8_edges_against_reference),
	    cmocka_unit_test(test_utf8_every_code_point),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
