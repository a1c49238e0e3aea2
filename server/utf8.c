/* utf8.c: checking UTF-8 that arrives in pieces (RFC 3629). */
#include "utf8.h"

/*
 * States: 0 expects a lead byte; 1-3 expect that many continuation bytes
 * (80-BF); 4-7 expect the first continuation byte of a lead with a
 * narrower range (E0: A0-BF, ED: 80-9F, F0: 90-BF, F4: 80-8F); 8 is bad.
 */
uint8_t
utf8_feed(uint8_t state, const unsigned char *p, size_t len)
{
	static const struct {
		unsigned char lo, hi, then;
	} first[4] = {
	    {0xa0, 0xbf, 1}, {0x80, 0x9f, 1}, {0x90, 0xbf, 2}, {0x80, 0x8f, 2}};

	for (size_t i = 0; i < len && state != UTF8_BAD; i++) {
		unsigned char c = p[i];

		if (state >= 4) {
			state =
			    c >= first[state - 4].lo && c <= first[state - 4].hi
			        ? first[state - 4].then
			        : UTF8_BAD;
		} else if (state) {
			state = (c & 0xc0) == 0x80 ? state - 1 : UTF8_BAD;
		} else if (c < 0x80) {
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			state = 1;
		} else if (c == 0xe0) {
			state = 4;
		} else if (c == 0xed) {
			state = 5;
		} else if (c >= 0xe1 && c <= 0xef) {
			state = 2;
		} else if (c == 0xf0) {
			state = 6;
		} else if (c == 0xf4) {
			state = 7;
		} else if (c >= 0xf1 && c <= 0xf3) {
			state = 3;
		} else {
			state = UTF8_BAD;
		}
	}
	return state;
}
