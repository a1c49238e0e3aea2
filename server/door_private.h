/* door_private.h: the front door's state, shared by door.c (reading
 * requests, handing them on), door_out.c (writing answers, keep-alive,
 * lingering closes), door_body.c (a POST's body, held requests) and
 * door_deadline.c (the deadlines).  Nothing else includes it. */
#ifndef TICKERD_DOOR_PRIVATE_H
#define TICKERD_DOOR_PRIVATE_H

#include "door.h"
#include "forwarded.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define DOOR_TICK_MS 100 /* how often deadlines are looked at */

/* One connection at the door: from accept until handed on or closed. */
struct door_conn {
	struct door *door;
	struct door_conn *prev, *next; /* the door's list, by deadline */
	uv_poll_t poll;
	int fd;
	unsigned polling : 1;     /* poll initialised (closed when freed) */
	unsigned listed : 1;      /* in the door's list */
	unsigned lingering : 1;   /* answered for the last time: draining */
	unsigned peer_done : 1;   /* the client will send nothing more */
	unsigned close_after : 1; /* close once out is written */
	unsigned want_proxy : 1;  /* --proxy-protocol: its header is to come */
	unsigned trusted : 1;     /* ip is a --trusted-proxy: not counted */
	unsigned held : 1;        /* door_hold(): its answer comes later */
	unsigned served;          /* requests answered */
	struct guard_addr *addr;  /* counted at the door for its address */
	uint64_t deadline;        /* loop ms */
	char *in;
	size_t in_len, in_cap;
	size_t want; /* a POST's head and body: read up to this much */
	/* door_hold()'s: told when a held connection ends unanswered. */
	void (*hold_end)(void *arg, int expired);
	void *hold_arg;
	char *out; /* what the socket has not taken yet */
	size_t out_len, out_off;
	/* While a request is routed: its client (fwd_resolve(): routed). */
	const struct fwd_client *who;
	struct fwd_client routed;
	char ip[48]; /* the peer's, or the one its PROXY header named */
};

struct door {
	struct app *app;
	struct door_conn *first, *last; /* by deadline, soonest first */
	size_t count;
	uv_timer_t tick;
	int ticking;
};

/* door_deadline.c's: c out of the deadline list; c given until now + ms
 * (the list kept in order, the timer started); until now +
 * --handshake-timeout for its (next) request. */
void door_unlist(struct door_conn *c);
void door_deadline_in(struct door_conn *c, uint64_t ms);
void door_deadline(struct door_conn *c);

/* door.c's: c is past its deadline (408 if it began a request; closed). */
void door_expire(struct door_conn *c);

/* door.c's: forget c (out of the list, uncounted, freed; its socket
 * closed unless keep_fd); wait for events (UV_READABLE, UV_WRITABLE) on c,
 * 0 or -1 (close it); answer every whole request in c->in, in order,
 * while answers go out. */
void door_conn_end(struct door_conn *c, int keep_fd);
int door_watch(struct door_conn *c, int events);
void door_process(struct door_conn *c);

/* door_out.c's: wait for what comes next on c (the rest of its answer,
 * its next request) or linger after its last answer; read and drop what a
 * lingering client sends; write more of an answer once c is writable. */
void door_rewatch(struct door_conn *c);
void door_drop_input(struct door_conn *c);
void door_flush(struct door_conn *c);

/* door_body.c's: a held connection ends unanswered (door_hold()'s end
 * told; expired: its time is up). */
void door_hold_over(struct door_conn *c, int expired);

#endif
