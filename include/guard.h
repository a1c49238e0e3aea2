/* guard.h: who may connect, and how much a connected client may send. */
#ifndef TICKERD_GUARD_H
#define TICKERD_GUARD_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct guard;
struct guard_addr;

/* Why a handshake was refused; each has a counter. */
enum guard_refusal {
	GUARD_OK = 0,
	GUARD_ORIGIN, /* Origin header not allowed: 403 */
	GUARD_FULL,   /* --max-clients reached: 503 */
	GUARD_PER_IP, /* --max-per-ip reached for this address: 429 */
	GUARD_REFUSAL_COUNT
};

/* One per client: what it sent lately. Zeroed by lws with the session. */
struct guard_client {
	struct guard_addr *addr; /* counted against its address, or NULL */
	uint32_t msg_bytes;      /* of the message being received */
	float tokens;            /* messages it may still send now */
	uint32_t refill_ms;      /* when tokens were last topped up (wraps) */
};

/*
 * guard_new() - admission and limits as cfg says; cfg is kept (not
 * copied), so a SIGHUP that rewrites its limits takes effect at once.
 */
struct guard *guard_new(const struct cfg *cfg);
void guard_free(struct guard *g);

/*
 * guard_check() - may this handshake (WebSocket upgrade or EventSource
 * request) go on?  Pages of the server's own origin, of listed origins,
 * and clients that send no Origin (not a browser) may; then the total and
 * per-address limits apply.  Returns GUARD_OK, or the refusal (counted and
 * logged) with the HTTP status to answer in *status.
 */
enum guard_refusal guard_check(struct guard *g, struct lws *wsi, int *status);

/* guard_join() - count an admitted client against its address. */
void guard_join(struct guard *g, struct guard_client *c, struct lws *wsi);

/* guard_leave() - the client is gone: uncount it. */
void guard_leave(struct guard *g, struct guard_client *c);

/*
 * guard_receive() - the client sent len bytes of a message (final: the
 * last fragment).  Returns 0, or the WebSocket close code to end it with:
 * 1009 for a message past --max-message, 1008 past --max-rate.
 */
int guard_receive(struct guard *g, struct guard_client *c, size_t len,
                  int final);

#endif
