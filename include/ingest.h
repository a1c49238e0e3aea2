/* ingest.h: the path of one published payload, from Redis to the screens. */
#ifndef TICKERD_INGEST_H
#define TICKERD_INGEST_H

#include "seq.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct changelog;
struct fan;
struct cfg_topic_spans;
struct dead_air;
struct held;
struct history;
struct log_entry;

/* The pipeline's state; one per process, lives as long as the server. */
struct ingest {
	struct history *history;
	struct fan *fan;
	struct changelog *log;
	const char *prefix; /* channels are <prefix>:<topic> */
	time_t (*now)(void);
	int quiet;         /* reading the log anew: keep, tell no screen yet */
	struct held *held; /* embargoed items waiting for release */
	const struct cfg_topic_spans *topic_ttl; /* lifetimes, per topic */
	struct dead_air *dead_air;               /* told of every item shown */
};

/*
 * ingest_payload() - a sub_message_fn: check the payload published on
 * channel and, if it is a valid item, record it in the change log (which
 * is what delivers it, see ingest_entry()).  A bad payload is logged with
 * its reason, counted, and goes nowhere.
 */
void ingest_payload(void *ingest, const char *channel, size_t channel_len,
                    const char *payload, size_t payload_len);

/*
 * ingest_entry() - a log_entry_fn: an entry read back from the change log,
 * in log order.  Parse it (a plain-text item's time is the entry's), decide
 * against the history whether it is new, an update, a duplicate or a
 * retraction, encode the message once with seq as its position, keep it
 * and hand it to the fan-out.  An item under embargo at the entry's time
 * (or a correction of one held) is held: no screen gets it, and the log is
 * asked to append it at the release (an entry with fired set, shown as it
 * stands); a kill cancels that.  A shown item with an expiry (its own, or
 * its topic's lifetime) has the log append its kill then.  Every instance
 * reading the same log makes the same decisions and the same bytes.
 * Returns NULL, or why a usable item was skipped: "stale" (a version no
 * newer than the one kept) or "duplicate" (the same item again).
 */
const char *ingest_entry(void *ingest, const struct log_entry *e);

/*
 * ingest_gap() - a log_gap_fn: entries were lost before they could be
 * read; every client gets a resync snapshot of what is known now.
 */
void ingest_gap(void *ingest, unsigned long long missing);

/*
 * ingest_rebase() - a log_rebase_fn: the log rolled back.  Before it is
 * read anew (done 0) history is forgotten and entries only rebuild it;
 * after (done 1) every client gets a resync snapshot of the new history,
 * standing for last (the new log's last entry; NULL if it is empty), and
 * entries reach the screens again.
 */
void ingest_rebase(void *ingest, int done, const struct seq *last);

/* ingest_held() - a log_held_fn: Redis holds id in topic until ms. */
void ingest_held(void *ingest, const char *topic, const char *id, uint64_t ms);

#endif
