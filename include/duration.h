/* duration.h: spans of time as people write them: 90s, 30m, 6h, 1d. */
#ifndef TICKERD_DURATION_H
#define TICKERD_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * duration_parse() - read len bytes at s, a whole number (at most 9
 * digits) then s, m, h or d, into milliseconds; 0, or -1 if it is not one
 * or is longer than max_ms.
 */
int duration_parse(const char *s, size_t len, uint64_t max_ms, uint64_t *ms);

#endif
