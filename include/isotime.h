/* isotime.h: ISO 8601 timestamps in, UTC "YYYY-MM-DDTHH:MM:SSZ" out. */
#ifndef TICKERD_ISOTIME_H
#define TICKERD_ISOTIME_H

#include <stdint.h>
#include <time.h>

/* 9999-12-31T23:59:59Z: the last time with a four-digit year. */
#define ISOTIME_MAX ((time_t)253402300799)

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define ISOTIME_LEN 21

/*
 * isotime_parse() - read an ISO 8601 / RFC 3339 date-time
 * ("2025-06-24T09:30:00+02:00", "…Z", fractions allowed, no offset = UTC)
 * into seconds since the epoch.  Returns 0, or -1 if it is not one or
 * falls, in UTC, outside 1970-01-01 .. 9999-12-31.
 */
int isotime_parse(const char *s, time_t *out);

/* isotime_now_ms() - the wall clock, in ms since the epoch (the time seqs
 * are logged in: Redis's clock). */
uint64_t isotime_now_ms(void);

/* isotime_format() - write t (clamped to 1970..9999) as UTC into out. */
void isotime_format(time_t t, char out[ISOTIME_LEN]);

#endif
