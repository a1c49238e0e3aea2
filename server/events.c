/* events.c: EventSource streams at /events: admitted at the door, then fed
 * from the ring on an lws raw socket.
 *
 * lws 4.1 keeps a header table for the life of an HTTP response it did not
 * finish, and reads nothing while one runs (a reader that left was seen
 * only when a write failed, with the socket spinning the loop until then).
 * A raw socket holds no header table, and lws reads it: a reader that
 * closes its tab is gone at once.
 */
#include "events.h"

#include "access.h"
#include "app.h"
#include "guard.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "request.h"
#include "seq.h"
#include "session.h"
#include "topics.h"

#include <stdio.h>
#include <string.h>

/* One per stream, allocated by lws (zeroed) for the connection's life. */
struct events_session {
	struct session s; /* first */
};

enum door_next
events_serve(struct door_conn *c, const struct request *r)
{
	struct session_start start = {0};
	char since[SEQ_STR_LEN + 8];
	long n;

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
	if (door_start_stream(c, 200, "text/event-stream",
	                      "Cache-Control: no-cache\r\n"
	                      "X-Accel-Buffering: no\r\n"
	                      "Access-Control-Allow-Origin: *\r\n"))
		return DOOR_CLOSE;
	return door_to_raw(c, events_protocol.name, &start);
}

static int
callback_events(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                void *in, size_t len)
{
	struct events_session *s = user;

	(void)in;
	/* Keep the accept queue moving during long loop turns. */
	if (wsi)
		listener_poke(app_from_wsi(wsi)->listener);
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		return session_adopted(wsi, &s->s, FAN_SSE);
	case LWS_CALLBACK_RAW_RX:
		log_info("an EventSource reader sent %zu bytes: closing", len);
		return -1;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (!s->s.attached || fan_state_of(&s->s.fan) == FAN_CLOSING)
			return -1;
		return session_writeable(app_from_wsi(wsi), &s->s);
	case LWS_CALLBACK_RAW_CLOSE:
		session_close(app_from_wsi(wsi), &s->s);
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols events_protocol = {
    .name = "tickerd-events",
    .callback = callback_events,
    .per_session_data_size = sizeof(struct events_session),
};
