/* ingest.h: the path of one published payload, from Redis to the screens. */
#ifndef TICKERD_INGEST_H
#define TICKERD_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct fan;
struct history;

/* The pipeline's state; one per process, lives as long as the server. */
struct ingest {
	struct history *history;
	struct fan *fan;
	const char *prefix; /* channels are <prefix>:<topic> */
	uint64_t seq;       /* last message number handed out */
	time_t (*now)(void);
};

/*
 * ingest_payload() - an rb_message_fn: parse the payload published on
 * channel, decide against the history whether it is new, an update, a
 * duplicate or a retraction, encode the resulting message once, keep it
 * and hand it to the fan-out.  A bad payload is logged with its reason,
 * counted, and goes nowhere.
 */
void ingest_payload(void *ingest, const char *channel, size_t channel_len,
                    const char *payload, size_t payload_len);

#endif
