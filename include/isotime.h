/* isotime.h: ISO 8601 timestamps in, UTC "YYYY-MM-DDTHH:MM:SSZ" out. */
#ifndef TICKERD_ISOTIME_H
#define TICKERD_ISOTIME_H

#include <time.h>

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define ISOTIME_LEN 21

/*
 * isotime_parse() - read an ISO 8601 / RFC 3339 date-time
 * ("2025-06-24T09:30:00+02:00", "…Z", fractions allowed, no offset = UTC)
 * into seconds since the epoch.  Returns 0, or -1 if it is not one.
 */
int isotime_parse(const char *s, time_t *out);

/* isotime_format() - write t as UTC into out[ISOTIME_LEN]. */
void isotime_format(time_t t, char out[ISOTIME_LEN]);

#endif
