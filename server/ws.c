/* ws.c: /ws sessions: handshake, hello + snapshot, live messages, close. */
#include "ws.h"

#include "app.h"
#include "fanout.h"
#include "session.h"
#include "guard.h"
#include "keepalive.h"
#include "listener.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "seq.h"
#include "topics.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * One of these per WebSocket client, allocated by lws (zeroed) for the
 * connection's life: only what every client has (kept small: it is most
 * of what a connection costs us).
 */
struct ws_session {
	struct session s; /* first */
};

/* Read ?topics= into f; 0, or -1 with the reason in why[]. */
static int
read_topics(struct lws *wsi, struct topic_filter *f, char *why, size_t len)
{
	char buf[TOPIC_FILTER_MAX * (TOPIC_MAX_LEN + 1) + 16];
	const char *v =
	    lws_get_urlarg_by_name(wsi, "topics=", buf, (int)sizeof(buf));

	return topic_filter_parse(f, v, why, len);
}

/*
 * Only /ws upgrades, with valid topics, from allowed origins, within the
 * connection limits, while not shutting down.  A refusal is answered with
 * its HTTP status.
 */
static int
filter_connection(struct lws *wsi)
{
	struct app *app = app_from_wsi(wsi);
	char uri[64], why[128];
	struct topic_filter f;
	int status;

	if (app->shutting_down)
		return -1;
	if (guard_check(app->guard, wsi, &status) != GUARD_OK) {
		lws_return_http_status(wsi, (unsigned)status, NULL);
		return -1;
	}
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    strcmp(uri, "/ws")) {
		log_info("refused WebSocket upgrade on %s", uri);
		return -1;
	}
	if (read_topics(wsi, &f, why, sizeof(why))) {
		log_info("refused WebSocket client: %s", why);
		return -1;
	}
	return 0;
}

/* A new client: hello and snapshot (or its resume point), then the ring. */
static int
establish(struct lws *wsi, struct ws_session *s)
{
	struct app *app = app_from_wsi(wsi);
	struct topic_filter f;
	char why[128], since[SEQ_STR_LEN + 8];
	const char *at;

	if (read_topics(wsi, &f, why, sizeof(why)))
		return -1;
	at = lws_get_urlarg_by_name(wsi, "since=", since, (int)sizeof(since));
	if (session_open(app, &s->s, wsi, FAN_WS, &f, at))
		return -1;
	/*
	 * The 101 response has just gone out: send the greeting (and what a
	 * resuming client missed) now rather than after a WRITEABLE round
	 * trip, which costs four epoll changes per connection on lws 4.1 +
	 * libuv; that counts when thousands reconnect at once.
	 */
	if (lws_partial_buffered(wsi)) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	return session_writeable(app, &s->s);
}

/* lws's private opcode for a close frame (lws-write.h leaves it out). */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

/*
 * Write a close frame with code and reason ourselves, and return -1 so lws
 * ends the connection: with lws 4.1.6 on libuv, lws_close_reason() + -1
 * kills the socket before the queued close frame goes out (clients see
 * 1006).
 */
static int
send_close(struct lws *wsi, int code, const char *reason)
{
	unsigned char buf[LWS_PRE + 2 + 64], *p = buf + LWS_PRE;
	size_t len = strlen(reason) > 64 ? 64 : strlen(reason);

	p[0] = (unsigned char)(code >> 8);
	p[1] = (unsigned char)(code & 0xff);
	memcpy(p + 2, reason, len);
	lws_write(wsi, p, 2 + len, WS_WRITE_CLOSE);
	return -1;
}

/*
 * What a client sends: tickerd needs nothing, but bounds size and rate.
 * Past a limit it sends the close frame and waits (2 s at most) for the
 * client's answer rather than closing at once: closing a socket with
 * unread input resets it, and the client would never see the code.
 */
static int
receive(struct lws *wsi, struct ws_session *s, size_t len)
{
	int code;

	if (s->s.said_bye)
		return 0;
	keepalive_heard(&s->s.fan, keepalive_now(&app_from_wsi(wsi)->loop));
	code = guard_receive(app_from_wsi(wsi)->guard, &s->s.guard, len,
	                     lws_is_final_fragment(wsi) &&
	                         !lws_remaining_packet_payload(wsi));
	if (!code)
		return 0;
	log_info("closing a client with %d: %s", code,
	         code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
	             ? "message too large"
	             : "sending too fast");
	send_close(wsi, code,
	           code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
	               ? "message too large"
	               : "too many messages");
	s->s.said_bye = 1;
	s->s.fan.dead = 1; /* nothing more from the ring either */
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
	return 0;
}

static int
writeable(struct lws *wsi, struct ws_session *s)
{
	struct app *app = app_from_wsi(wsi);

	if (s->s.fan.closing)
		return send_close(wsi, LWS_CLOSE_STATUS_GOINGAWAY,
		                  "server shutting down");
	return session_writeable(app, &s->s);
}

static int
callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
            void *in, size_t len)
{
	struct ws_session *s = user;

	/* Keep the accept queue moving during long loop turns. */
	if (wsi)
		listener_poke(app_from_wsi(wsi)->listener);

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_connection(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return establish(wsi, s);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(wsi, s);
	case LWS_CALLBACK_RECEIVE:
		return receive(wsi, s, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		keepalive_heard(&s->s.fan,
		                keepalive_now(&app_from_wsi(wsi)->loop));
		return 0;
	case LWS_CALLBACK_CLOSED:
		session_close(app_from_wsi(wsi), &s->s);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

const struct lws_protocols ws_protocol = {
    .name = "tickerd",
    .callback = callback_ws,
    .per_session_data_size = sizeof(struct ws_session),
    /*
     * Clients send only control frames: a small buffer per client (lws
     * allocates it for every connection).  lws hands frames on in pieces
     * of this size, so a ping's payload is echoed whole up to 32 bytes;
     * a longer one is answered by several pongs.
     */
    .rx_buffer_size = 32,
    .tx_packet_size = 65536,
};

/* Mark one client as closing and ask for the WRITEABLE that closes it. */
static void
close_client(struct fan_client *c, void *arg)
{
	(void)arg;
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

void
ws_shutdown(struct app *app)
{
	app->shutting_down = 1;
	fan_foreach(app->fan, close_client, NULL);
}
