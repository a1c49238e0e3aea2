/* ingest.h: the path of one published payload, from Redis to the screens. */
#ifndef TICKERD_INGEST_H
#define TICKERD_INGEST_H

#include "seq.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct changelog;
struct fan;
struct history;

/* The pipeline's state; one per process, lives as long as the server. */
struct ingest {
	struct history *history;
	struct fan *fan;
	struct changelog *log;
	const char *prefix; /* channels are <prefix>:<topic> */
	time_t (*now)(void);
	int quiet; /* reading the log anew: keep, tell no screen yet */
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
 * and hand it to the fan-out.  Every instance reading the same log makes
 * the same decisions and the same bytes.
 */
void ingest_entry(void *ingest, struct seq seq, const char *topic,
                  size_t topic_len, const char *payload, size_t payload_len);

/*
 * ingest_gap() - a log_gap_fn: entries were lost before they could be
 * read; every client gets a resync snapshot of what is known now.
 */
void ingest_gap(void *ingest, unsigned long long missing);

/*
 * ingest_rebase() - a log_rebase_fn: the log rolled back.  Before it is
 * read anew (done 0) history is forgotten and entries only rebuild it;
 * after (done 1) every client gets a resync snapshot of the new history,
 * and entries reach the screens again.
 */
void ingest_rebase(void *ingest, int done);

#endif
