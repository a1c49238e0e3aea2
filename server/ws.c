/* ws.c: /ws: the upgrade, checked and answered at the door; then each
 * client's session on a client socket (csock.c): begun, written to (the feed,
 * control frames, the close), closed.  What a client sends is read by
 * ws_rx.c.
 */
#include "ws.h"
#include "ws_private.h"

#include "access.h"
#include "app.h"
#include "csock.h"
#include "deflate.h"
#include "fanout.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "seq.h"
#include "session.h"
#include "version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const struct csock_handler ws_handler;

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)) into out[29+]. */
static void
accept_key(struct req_str key, char *out, int len)
{
	unsigned char buf[64], md[20];

	memcpy(buf, key.p, key.len);
	memcpy(buf + key.len, WS_GUID, sizeof(WS_GUID) - 1);
	lws_SHA1(buf, key.len + sizeof(WS_GUID) - 1, md);
	lws_b64_encode_string((const char *)md, 20, out, len);
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
	struct session_start start = {0};
	struct csock *cs;
	char since[SEQ_STR_LEN + 8], accept[32], head[512], ext[192] = "";
	long n;
	int hl, asked = 0;

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
	if (http_admit(c, r, &start.filter) || access_admit(c, r, &start, 1))
		return DOOR_CLOSE;
	n = request_arg(r, "since", since, sizeof(since));
	start.since = n >= 0 ? since : n == -2 ? "-" : NULL;
	snprintf(start.ip, sizeof(start.ip), "%s", door_ip(c));
	accept_key(r->ws_key, accept, sizeof(accept));
	/* permessage-deflate, if offered: deflate.c's shared forms. */
	if (door_app(c)->cfg.compress)
		start.deflate_bits = deflate_offer_request(r, &asked);
	if (start.deflate_bits &&
	    deflate_answer(start.deflate_bits, asked, ext, sizeof(ext)) < 0)
		start.deflate_bits = 0;
	hl = snprintf(head, sizeof(head),
	              "HTTP/1.1 101 Switching Protocols\r\n"
	              "Upgrade: websocket\r\n"
	              "Connection: Upgrade\r\n"
	              "Sec-WebSocket-Accept: %s\r\n"
	              "%s"
	              "Server: %s\r\n\r\n",
	              accept, start.deflate_bits ? ext : "", TICKERD_SERVER);
	/* The 101 goes out in one write with the greeting: fan_greet(). */
	if (door_head_later(c, 101))
		return DOOR_CLOSE;
	start.head = head;
	start.head_len = (size_t)hl;
	if (start.deflate_bits)
		metrics.ws_deflate++;
	cs = door_to_csock(c, &ws_handler, sizeof(struct ws_session));
	if (cs)
		session_adopted(cs, FAN_WS, &start);
	return DOOR_GONE;
}

/* Write a whole control frame (opcode, payload); 0 or -1 (closed soon). */
int
ws_send_control(struct csock *cs, int opcode, const void *payload, size_t len)
{
	unsigned char p[2 + CTL_MAX];

	if (len > CTL_MAX)
		len = CTL_MAX;
	p[0] = (unsigned char)(0x80 | opcode);
	p[1] = (unsigned char)len;
	if (len)
		memcpy(p + 2, payload, len);
	/* Behind whatever is kept for it: always whole frames. */
	return csock_write(cs, p, 2 + len);
}

/* A close frame with code and a short reason. */
static void
send_close(struct csock *cs, int code, const char *reason)
{
	unsigned char p[2 + 64];
	size_t len = strlen(reason) > 64 ? 64 : strlen(reason);

	p[0] = (unsigned char)(code >> 8);
	p[1] = (unsigned char)(code & 0xff);
	memcpy(p + 2, reason, len);
	ws_send_control(cs, OP_CLOSE, p, 2 + len);
}

/*
 * Close a client that broke the rules with code (and reason): the close
 * frame goes out, then tickerd waits (2 s at most) for the client's
 * answer rather than closing at once: closing a socket with unread input
 * resets it, and the client would never see the code.
 */
void
ws_say_bye(struct csock *cs, struct ws_session *s, int code, const char *why)
{
	log_info("closing a client with %d: %s", code, why);
	if (code == LWS_CLOSE_STATUS_PROTOCOL_ERR)
		metrics.closed_protocol++;
	else if (code == LWS_CLOSE_STATUS_INVALID_PAYLOAD)
		metrics.closed_bad_utf8++;
	send_close(cs, code, why);
	s->s.said_bye = 1;
	fan_retire(&s->s.fan); /* nothing more from the ring either */
	csock_close_after(cs, 2);
}

static int
writeable(struct csock *cs, struct ws_session *s)
{
	if (!s->s.attached)
		return -1;
	if (fan_state_of(&s->s.fan) == FAN_CLOSING) {
		send_close(cs, LWS_CLOSE_STATUS_GOINGAWAY,
		           "server shutting down");
		return -1;
	}
	return session_writeable(csock_app(cs), &s->s);
}

/* csock's calls: what the client sent, room to write, its end. */
static int
on_rx(struct csock *cs, const unsigned char *p, size_t len)
{
	struct ws_session *s = csock_owner(cs);

	return s->s.attached ? ws_receive(cs, s, p, len) : -1;
}

static int
on_writeable(struct csock *cs)
{
	return writeable(cs, csock_owner(cs));
}

static void
on_closed(struct csock *cs)
{
	struct ws_session *s = csock_owner(cs);

	ws_rx_end(cs, s);
	session_close(csock_app(cs), &s->s);
}

static const struct csock_handler ws_handler = {
    .rx = on_rx,
    .writeable = on_writeable,
    .closed = on_closed,
};

/* Mark one client as closing and ask for the WRITEABLE that closes it. */
static void
close_client(struct fan_client *c, void *arg)
{
	fan_close(arg, c);
}

void
ws_shutdown(struct app *app)
{
	app->shutting_down = 1;
	fan_foreach(app->fan, close_client, app->fan);
}
