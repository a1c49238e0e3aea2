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
#include "utf8.h"
#include "http.h"
#include "request.h"

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
 * 1 if key is base64 of 16 bytes, as RFC 6455 asks of Sec-WebSocket-Key:
 * 22 characters and "==", the last of them holding 2 bits (A, Q, g or w).
 */
static int
key_is_valid(struct req_str key)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	                          "qrstuvwxyz0123456789+/";

	if (key.len != 24 || memcmp(key.p + 22, "==", 2))
		return 0;
	for (size_t i = 0; i < 22; i++)
		if (!memchr(b64, key.p[i], sizeof(b64) - 1))
			return 0;
	return strchr("AQgw", key.p[21]) != NULL;
}

enum door_next
ws_serve(struct door_conn *c, const struct request *r)
{
	struct topic_filter f;

	if (!r->websocket) {
		guard_refused(GUARD_WS_VERSION, door_ip(c));
		return door_refuse(c, r, 426, "a WebSocket upgrade is needed",
		                   "Upgrade: websocket\r\n");
	}
	if (!req_equals(r->ws_version, "13")) {
		guard_refused(GUARD_WS_VERSION, door_ip(c));
		return door_refuse(c, r, 426, "WebSocket version 13 only",
		                   "Sec-WebSocket-Version: 13\r\n");
	}
	if (!key_is_valid(r->ws_key)) {
		guard_refused(GUARD_BAD_REQUEST, door_ip(c));
		return door_refuse(c, r, 400, "bad Sec-WebSocket-Key", NULL);
	}
	if (http_admit(c, r, &f))
		return DOOR_CLOSE;
	return door_to_lws(c);
}

/*
 * The door vetted the upgrade (path, version, key, origin, limits,
 * topics); lws only checks it is not shutting down meanwhile.
 */
static int
filter_connection(struct lws *wsi)
{
	return app_from_wsi(wsi)->shutting_down ? -1 : 0;
}

/* A new client: hello and snapshot (or its resume point), then the ring. */
static int
establish(struct lws *wsi, struct ws_session *s)
{
	struct app *app = app_from_wsi(wsi);
	struct topic_filter f;
	char why[128], since[SEQ_STR_LEN + 8], ip[48];
	const char *at;

	if (read_topics(wsi, &f, why, sizeof(why)))
		return -1;
	at = lws_get_urlarg_by_name(wsi, "since=", since, (int)sizeof(since));
	lws_get_peer_simple(wsi, ip, sizeof(ip));
	if (session_open(app, &s->s, wsi, FAN_WS, &f, at, ip))
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
 * Close a client that broke the rules with code (and reason): the close
 * frame goes out, then tickerd waits (2 s at most) for the client's
 * answer rather than closing at once: closing a socket with unread input
 * resets it, and the client would never see the code.
 */
static void
say_bye(struct lws *wsi, struct ws_session *s, int code, const char *why)
{
	log_info("closing a client with %d: %s", code, why);
	send_close(wsi, code, why);
	s->s.said_bye = 1;
	s->s.fan.dead = 1; /* nothing more from the ring either */
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
}

/*
 * What a client sends (a piece of a frame: lws hands them on 32 bytes at
 * a time): tickerd needs nothing, but bounds each message's size, counts
 * every frame against the rate (empty fragments too), and checks that
 * text is UTF-8 (1007 otherwise).
 */
static int
receive(struct lws *wsi, struct ws_session *s, const void *in, size_t len,
        int control)
{
	int frame_end = control || !lws_remaining_packet_payload(wsi), code;
	int final = !control && frame_end && lws_is_final_fragment(wsi);

	if (s->s.said_bye)
		return 0;
	keepalive_heard(&s->s.fan, keepalive_now(&app_from_wsi(wsi)->loop));
	code = guard_receive(app_from_wsi(wsi)->guard, &s->s.guard, len,
	                     frame_end, final);
	if (code) {
		say_bye(wsi, s, code,
		        code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
		            ? "message too large"
		            : "too many messages");
		return 0;
	}
	if (!control && !lws_frame_is_binary(wsi)) {
		s->s.utf8 = utf8_feed(s->s.utf8, in, len);
		if (s->s.utf8 == UTF8_BAD || (final && s->s.utf8)) {
			metrics.closed_bad_utf8++;
			say_bye(wsi, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
			        "text is not UTF-8");
		}
	}
	if (final)
		s->s.utf8 = UTF8_START;
	return 0;
}

/* 1 if a client may close with code (RFC 6455 7.4). */
static int
close_code_valid(int code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/*
 * The client closes: lws echoes a valid close; one with a 1-byte body, a
 * code no endpoint may send, or a reason that is not UTF-8 is answered
 * with 1002 (1007 for the reason) instead, and the connection ends.
 */
static int
peer_closed(struct lws *wsi, const unsigned char *in, size_t len)
{
	int code = len >= 2 ? in[0] << 8 | in[1] : 1000;

	if (len > 2 && utf8_feed(UTF8_START, in + 2, len - 2) != UTF8_START) {
		send_close(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
		           "reason is not UTF-8");
		return -1;
	}
	if (len == 1 || !close_code_valid(code)) {
		metrics.closed_protocol++;
		send_close(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR,
		           "bad close frame");
		return -1;
	}
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
		return receive(wsi, s, in, len, 0);
	case LWS_CALLBACK_RECEIVE_PONG:
		/* A pong is a frame like any other for the rate. */
		return receive(wsi, s, in, 0, 1);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		return peer_closed(wsi, in, len);
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
