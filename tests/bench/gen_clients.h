/* gen_clients.h: the generator's client connections (WebSocket or
 * EventSource). */
#ifndef BENCH_GEN_CLIENTS_H
#define BENCH_GEN_CLIENTS_H

#include <stdint.h>

/* clients_init() - room for n clients; 0 or -1. */
int clients_init(unsigned n);

/*
 * clients_start() - (re)connect every client using path, at most
 * max_inflight handshakes at a time (clients_pump() starts the rest).  A
 * client is ready once upgraded and it has had greet hello/snapshot
 * messages and items item messages.  t0 is the instant ready times are
 * measured from (0 = each its own connect start).
 */
void clients_start(const char *path, unsigned max_inflight, uint64_t t0,
                   unsigned greet, unsigned items);

/* clients_resume_seq() - the last "seq" client 0 saw ("" if none). */
const char *clients_resume_seq(void);

/* clients_pump() - start more connections if the in-flight cap allows. */
void clients_pump(void);

/* clients_pending() - connections not yet ready nor failed. */
unsigned clients_pending(void);

/* clients_close_all() - close every connection at once. */
void clients_close_all(void);

/* clients_event() - epoll reported events for client i. */
void clients_event(uint32_t i, uint32_t events);

/*
 * clients_expect() - from now on, count a client complete at m items, and
 * keep each item's first and last receive latency (see clients_item()).
 */
void clients_expect(unsigned m);

/* clients_item() - item seq's earliest and latest latency so far, ns. */
void clients_item(unsigned seq, uint64_t *first, uint64_t *last);

#endif
