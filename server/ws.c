/* ws.c: /ws sessions: handshake, hello + snapshot, live messages, close. */
#include "ws.h"

#include "app.h"
#include "fanout.h"
#include "greeting.h"
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
 * connection's life.  greeting holds the hello and snapshot, sent before
 * anything from the ring.
 */
struct ws_session {
	struct fan_client fan;
	struct msg *greeting[2]; /* each NULL once written (or not needed) */
	int attached;
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

/* Only /ws upgrades, with valid topics, while not shutting down. */
static int
filter_connection(struct lws *wsi)
{
	char uri[64], why[128];
	struct topic_filter f;

	if (app_from_wsi(wsi)->shutting_down)
		return -1;
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
	uint64_t next;

	if (read_topics(wsi, &f, why, sizeof(why)))
		return -1;
	at = lws_get_urlarg_by_name(wsi, "since=", since, (int)sizeof(since));
	if (greeting_prepare(app, &f, at, s->greeting, &next) ||
	    fan_attach(app->fan, &s->fan, wsi, FAN_WS, &f, next)) {
		log_err("out of memory for a new client");
		return -1;
	}
	s->attached = 1;
	metrics.clients++;
	lws_callback_on_writable(wsi);
	return 0;
}

/* lws's private opcode for a close frame (lws-write.h leaves it out). */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

/*
 * Write the close frame (1001, going away) ourselves and end the
 * connection: with lws 4.1.6 on libuv, lws_close_reason() + return -1 kills
 * the socket before the queued close frame goes out, and clients see 1006.
 */
static int
send_going_away(struct lws *wsi)
{
	static const char bye[] = "server shutting down";
	unsigned char buf[LWS_PRE + 2 + sizeof(bye)], *p = buf + LWS_PRE;

	p[0] = (unsigned char)(LWS_CLOSE_STATUS_GOINGAWAY >> 8);
	p[1] = (unsigned char)(LWS_CLOSE_STATUS_GOINGAWAY & 0xff);
	memcpy(p + 2, bye, sizeof(bye) - 1);
	lws_write(wsi, p, 2 + sizeof(bye) - 1, WS_WRITE_CLOSE);
	return -1;
}

static int
writeable(struct lws *wsi, struct ws_session *s)
{
	struct app *app = app_from_wsi(wsi);

	if (s->fan.closing)
		return send_going_away(wsi);
	return greet_or_serve(app->fan, &s->fan, s->greeting);
}

static int
callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
            void *in, size_t len)
{
	struct ws_session *s = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_connection(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return establish(wsi, s);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(wsi, s);
	case LWS_CALLBACK_RECEIVE:
		/* Clients have nothing to tell us; what they send is dropped.
		 */
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (s->attached) {
			fan_detach(app_from_wsi(wsi)->fan, &s->fan);
			metrics.clients--;
			s->attached = 0;
		}
		for (int i = 0; i < 2; i++) {
			msg_unref(s->greeting[i]);
			s->greeting[i] = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

const struct lws_protocols ws_protocol = {
    .name = "tickerd",
    .callback = callback_ws,
    .per_session_data_size = sizeof(struct ws_session),
    .rx_buffer_size = 1024,
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
