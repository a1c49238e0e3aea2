/* session.h: one client's life: admitted, greeted, fed from the ring, gone. */
#ifndef TICKERD_SESSION_H
#define TICKERD_SESSION_H

#include "fanout.h"
#include "guard.h"
#include "topics.h"

#include <stdint.h>
#include <time.h>

struct app;
struct csock;
struct msg;
struct topic_filter;

/*
 * What every client has, WebSocket or EventSource; embedded first in each
 * protocol's owner data (csock.c allocates it zeroed, frees it at close).
 */
struct session {
	struct fan_client fan; /* first: fan_foreach() hands this pointer */
	struct guard_client guard;
	unsigned attached : 1;
	unsigned said_bye : 1; /* ws.c: we sent a close frame */
	uint8_t utf8;          /* ws.c: the text message's UTF-8 check */
	/* access.c: the token in force, when it expires (0: none), whether
	 * the client was told it expires soon, an answer waiting for its
	 * moment (NULL: none) */
	unsigned token_warned : 1;
	time_t token_exp;
	struct access_owed *owed;
};

/*
 * What the door hands over with a client's socket (a WebSocket whose 101
 * went out, an EventSource stream whose head did): its topics, resume
 * point and address.  Lives during the adoption only.
 */
struct session_start {
	struct topic_filter filter;
	const char *since; /* NULL: a new client */
	time_t token_exp;  /* access.c: its token's exp (0: none) */
	char ip[48];       /* a copy: the door's connection is gone by then */
	int deflate_bits;  /* permessage-deflate's window (ws.c), 0: none */
	/* The response head (a 101) the door left unsent, to go out in the
	 * same write as the greeting (fan_greet()); head_len 0: none.  It
	 * points into the door's stack: valid until session_adopted(). */
	const char *head;
	size_t head_len;
};

/*
 * session_open() - a client admitted by guard_check(), as start says:
 * prepare its greeting for its topics and resume point (NULL/"" for
 * none), join the fan-out as kind, count it.  0, or -1 (ENOMEM; logged).
 */
int session_open(struct app *app, struct session *s, struct csock *cs,
                 enum fan_kind kind, const struct session_start *start);

/*
 * session_adopted() - the client the door handed over as cs (its owner
 * data begins with a struct session), started as start says, joins the
 * fan-out as kind (a WebSocket that negotiated permessage-deflate: its
 * deflated kind) and is sent its greeting right away, after the response
 * head start left unsent.  -1 if it could not: cs closes soon.
 */
int session_adopted(struct csock *cs, enum fan_kind kind,
                    const struct session_start *start);

/*
 * session_writeable() - from the client's writeable callback: its greeting,
 * then the ring (fan_writeable()).  -1 to close.
 */
int session_writeable(struct app *app, struct session *s);

/* session_close() - the client is gone: leave the fan-out, uncount it. */
void session_close(struct app *app, struct session *s);

/*
 * greeting_prepare() - for a client of the topics start->filter selects
 * that resumes after start->since (NULL or "" for a new client; a seq, a
 * duration such as "30m", or an ISO 8601 time: since_parse()): out[0] is
 * the hello (with what clients are told of the feed now, and what its
 * token grants: access_hello()); out[1] the snapshot of recent items, or
 * NULL when the ring holds since and the client just goes on after it
 * (after a time: with what was logged after it); a since that is not held
 * (trimmed away, older than the ring, Redis lost its data, never seen
 * here) gets a snapshot marked resync.  *next is the ring position to
 * continue from.  The caller owns out[].  0, or -1 on ENOMEM (nothing to
 * free).
 */
int greeting_prepare(struct app *app, const struct session_start *start,
                     struct msg *out[2], uint64_t *next);

/*
 * session_snapshot() - a snapshot of what f selects now, as a newcomer
 * would get it (shared with them when it can be); NULL on ENOMEM.
 */
struct msg *session_snapshot(struct app *app, const struct topic_filter *f);

#endif
