/* gen_publish.h: publishing timestamped items to the server under test. */
#ifndef BENCH_GEN_PUBLISH_H
#define BENCH_GEN_PUBLISH_H

#include <stdint.h>

/*
 * pub_open() - connect to what spec names: "redis:PORT:CHANNEL" (PUBLISH
 * over RESP, written by hand) or "http:PORT:PATH" (Nchan's publisher
 * location, HTTP/1.1 keep-alive POSTs).  0, or -1 with a message.
 */
int pub_open(const char *spec, unsigned size);

/* What an item is for: its id says so, and prefill items carry no marker. */
enum pub_kind { PUB_LIVE, PUB_PREFILL, PUB_MISSED };

/*
 * pub_item() - publish item seq, scheduled at sched_ns, as a JSON object
 * of the configured size whose headline carries the marker (not for
 * PUB_PREFILL: those are history only).
 */
void pub_item(uint32_t seq, uint64_t sched_ns, enum pub_kind kind);

/* pub_event() - epoll reported events on the publisher's socket. */
void pub_event(uint32_t events);

/* pub_acked() - replies received so far; pub_errors() - error replies. */
uint64_t pub_acked(void);
uint64_t pub_errors(void);

#endif
