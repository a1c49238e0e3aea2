/* guard.h: who may connect, and how much a connected client may send. */
#ifndef TICKERD_GUARD_H
#define TICKERD_GUARD_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct fwd_client;
struct guard;
struct guard_addr;
struct request;

/*
 * Why a connection or a handshake was turned away; each has a counter
 * (tickerd_handshakes_refused_total{reason}) and a name for it.
 */
enum guard_refusal {
	GUARD_OK = 0,
	GUARD_ORIGIN,      /* Origin header not allowed: 403 */
	GUARD_FULL,        /* --max-clients reached: 503 */
	GUARD_PER_IP,      /* --max-per-ip clients from this address: 429 */
	GUARD_UNFINISHED,  /* --max-per-ip unfinished requests: closed */
	GUARD_TIMEOUT,     /* no whole request within the timeout: 408 */
	GUARD_BAD_REQUEST, /* malformed, a body, no Host, bad key: 400/505 */
	GUARD_TOO_LARGE,   /* request head past 8 KiB: 431 */
	GUARD_METHOD,      /* not GET or HEAD: 405 */
	GUARD_NOT_FOUND,   /* an upgrade or stream on another path: 404 */
	GUARD_WS_VERSION,  /* not a WebSocket 13 upgrade: 426 */
	GUARD_BAD_TOPICS,  /* topics= invalid or too long: 400 */
	GUARD_SHUTDOWN,    /* shutting down: 503 */
	GUARD_PROXY_HDR,   /* --proxy-protocol: no PROXY header: closed */
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
 * request r from client w: its address, and the host and scheme it asked
 * for, as fwd_resolve() found them) go on?  Pages of the server's own
 * origin (http:// or https://, or w's scheme, + w's host), of listed
 * origins, and clients that send no Origin (not a browser) may; an Origin
 * that came twice or is too long to compare is refused, never taken as
 * absent.  Then the total and per-address limits apply.  Returns GUARD_OK,
 * or the refusal (counted and logged) with the HTTP status to answer in
 * *status.
 */
enum guard_refusal guard_check(struct guard *g, const struct fwd_client *w,
                               const struct request *r, int *status);

/* guard_clients() - clients connected now (WebSocket and EventSource). */
unsigned guard_clients(const struct guard *g);

/* guard_join() - count an admitted client against its address ip. */
void guard_join(struct guard *g, struct guard_client *c, const char *ip);

/*
 * guard_arrive() - a connection from ip whose request has not arrived
 * yet: counted against its address until guard_depart().  NULL when that
 * address already has --max-per-ip of them (counted as a refusal: the
 * caller closes the connection) or on ENOMEM.
 */
struct guard_addr *guard_arrive(struct guard *g, const char *ip);

/* guard_depart() - its request arrived (or it left): uncount it. */
void guard_depart(struct guard *g, struct guard_addr *a);

/* guard_refused() - count a refusal for reason, and log it at info. */
void guard_refused(enum guard_refusal reason, const char *ip);

/* guard_refusal_name() - the reason's name in metrics and logs. */
const char *guard_refusal_name(enum guard_refusal reason);

/* guard_client_ip() - the address c is counted against ("" if none). */
const char *guard_client_ip(const struct guard_client *c);

/* guard_leave() - the client is gone: uncount it. */
void guard_leave(struct guard *g, struct guard_client *c);

/*
 * guard_frame() - the client began a frame: every frame (fragments, pings,
 * pongs, all) counts against --max-rate; a data frame's len bytes count
 * toward its message's size.  Returns 0, or the WebSocket close code to
 * end it with: 1009 for a message past --max-message, 1008 past
 * --max-rate frames a second.
 */
int guard_frame(struct guard *g, struct guard_client *c, uint64_t len,
                int data);

/* guard_message_done() - the client's message ended: a new one begins. */
void guard_message_done(struct guard_client *c);

#endif
