/* events.c: EventSource streams at /events: admitted at the door, then fed
 * from the ring on a client socket (csock.c), which is read: a reader that
 * closes its tab is gone at once.  (lws 4.1 kept a header table for the
 * life of a response it did not finish and read nothing meanwhile: a reader
 * that left was seen only when a write failed.)
 */
#include "events.h"

#include "access.h"
#include "app.h"
#include "csock.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "request.h"
#include "seq.h"
#include "session.h"
#include "topics.h"

#include <stdio.h>
#include <string.h>

static const struct csock_handler events_handler;

/* One per stream, allocated with its csock (zeroed) for its life. */
struct events_session {
	struct session s; /* first */
};

enum door_next
events_serve(struct door_conn *c, const struct request *r)
{
	struct session_start start = {0};
	struct csock *cs;
	char since[SEQ_STR_LEN + 8], head[DOOR_HEAD_ROOM];
	long n;
	int hl;

	snprintf(start.ip, sizeof(start.ip), "%s", door_ip(c));
	if (http_admit(c, r, &start.filter) || access_admit(c, r, &start, 0))
		return DOOR_CLOSE;
	/* A browser resuming sends Last-Event-ID; it wins over since=. */
	if (r->last_event_id.p) {
		/* Too long to be a seq: it is none (the reader resyncs). */
		n = r->last_event_id.len < sizeof(since)
		        ? (long)r->last_event_id.len
		        : 0;
		memcpy(since, r->last_event_id.p, (size_t)n);
		since[n] = '\0';
		start.since = n ? since : "-";
	} else if ((n = request_arg(r, "since", since, sizeof(since))) >= 0) {
		start.since = since;
	} else if (n == -2) {
		start.since = "-"; /* unreadable: resync */
	}
	/* The head goes out in one write with the greeting: fan_greet(). */
	hl = door_stream_head(c, 200, "text/event-stream",
	                      "Cache-Control: no-cache\r\n"
	                      "X-Accel-Buffering: no\r\n"
	                      "Access-Control-Allow-Origin: *\r\n",
	                      head, sizeof(head));
	if (hl < 0)
		return DOOR_CLOSE;
	start.head = head;
	start.head_len = (size_t)hl;
	cs = door_to_csock(c, &events_handler, sizeof(struct events_session));
	if (cs)
		session_adopted(cs, FAN_SSE, &start);
	return DOOR_GONE;
}

/* csock's calls: what the reader sent (a stream takes no requests: it
 * ends), room to write, its end. */
static int
on_rx(struct csock *cs, const unsigned char *p, size_t len)
{
	(void)cs;
	(void)p;
	log_info("an EventSource reader sent %zu bytes: closing", len);
	return -1;
}

static int
on_writeable(struct csock *cs)
{
	struct events_session *s = csock_owner(cs);

	if (!s->s.attached || fan_state_of(&s->s.fan) == FAN_CLOSING)
		return -1;
	return session_writeable(csock_app(cs), &s->s);
}

static void
on_closed(struct csock *cs)
{
	struct events_session *s = csock_owner(cs);

	session_close(csock_app(cs), &s->s);
}

static const struct csock_handler events_handler = {
    .rx = on_rx,
    .writeable = on_writeable,
    .closed = on_closed,
};
