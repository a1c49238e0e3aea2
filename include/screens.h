/* screens.h: the named screens: their reports, lag, staleness, /screens. */
#ifndef TICKERD_SCREENS_H
#define TICKERD_SCREENS_H

#include "screen_report.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Named screens kept at most (connected or gone: a gone one's place is the
 * first taken when the table is full); one gone for a day is forgotten.
 */
#define SCREENS_MAX 256
/* A connection's reports come at most this often; more are ignored. */
#define SCREEN_REPORT_GAP_MS 2000
/*
 * A name another connection holds is taken over once that one has sent no
 * report for this long (twice the widget's interval): a screen that came
 * back before its old connection was seen to close gets its name back
 * then; until then (and for a second screen of the same name) its reports
 * are ignored, its connection left alone.
 */
#define SCREEN_TAKEOVER_MS 10000

struct cfg;
struct fan;
struct topic_filter;
struct screens;

/*
 * screens_new() - an empty table; stale-after is read from cfg live (a
 * SIGHUP changes it); lags are measured on the ring of fan.  NULL on
 * ENOMEM.
 */
struct screens *screens_new(const struct cfg *cfg, const struct fan *fan);
void screens_free(struct screens *t);

/*
 * screens_report() - the connection owner (any unique pointer: its session)
 * from address ip, watching the topics filter selects, sent text[0..len)
 * at now_ms (isotime_now_ms(): the wall clock, as seqs count time).  The first
 * report names the screen.  Returns SCREEN_OK, or the refusal (counted;
 * logged): screen_refusal_answer() says which close the connection gets, if
 * any.
 */
enum screen_refusal screens_report(struct screens *t, const void *owner,
                                   const char *ip,
                                   const struct topic_filter *filter,
                                   const char *text, size_t len,
                                   uint64_t now_ms);

/* screens_gone() - owner's connection closed: its screen is kept, gone. */
void screens_gone(struct screens *t, const void *owner, uint64_t now_ms);

/*
 * screens_sweep() - once a second: bring each screen's lag up to date and
 * judge it; a screen turning stale or fresh again is logged (once) and
 * counted; one gone for a day is forgotten.
 */
void screens_sweep(struct screens *t, uint64_t now_ms);

/*
 * screens_json() - GET /screens: {"stale_after_s":…,"screens":[…]} sorted
 * by name (a new string: free() it), or NULL on ENOMEM.
 */
char *screens_json(struct screens *t, uint64_t now_ms);

/* screens_connected() / screens_stale() - how many now (for /metrics). */
unsigned screens_connected(const struct screens *t);
unsigned screens_stale(const struct screens *t);

#endif
