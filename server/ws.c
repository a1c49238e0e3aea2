/* ws.c: /ws: the upgrade, checked and answered at the door; then each
 * client's frames, read by tickerd on an lws raw socket.
 *
 * lws 4.1.6 answers pings itself without telling its user, and accepts
 * unmasked client frames: neither a ping flood nor a protocol error could
 * be seen from its callbacks.  Clients send tickerd only control frames
 * (and, at most, a named screen's small reports, handed to screens.c, and
 * token messages, handed to access.c), so
 * reading them here is a small state machine (RFC 6455 section 5), and lws
 * keeps only what it does well: the socket, its writes' remainders and its
 * timeouts.
 */
#include "ws.h"

#include "access.h"
#include "app.h"
#include "deflate.h"
#include "fanout.h"
#include "guard.h"
#include "http.h"
#include "isotime.h"
#include "keepalive.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "screens.h"
#include "seq.h"
#include "session.h"
#include "topics.h"
#include "utf8.h"
#include "version.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define CTL_MAX 125 /* a control frame's payload, at most */
/* A text message begun with '{' is kept up to this (and one byte more, to
 * tell it was longer): a screen report, or a token message (access.c). */
#define WS_KEPT_MAX ACCESS_MESSAGE_MAX

enum ws_opcode {
	OP_CONT = 0x0,
	OP_TEXT = 0x1,
	OP_BINARY = 0x2,
	OP_CLOSE = 0x8,
	OP_PING = 0x9,
	OP_PONG = 0xa,
};

/* The frame being read from a client, and the message it belongs to. */
struct ws_rx {
	unsigned char head[14]; /* the frame header, as it arrives */
	uint8_t head_len;
	uint8_t head_need; /* 0: no frame begun */
	uint8_t opcode;
	uint8_t fin : 1;
	uint8_t in_message : 1; /* a fragmented data message goes on */
	uint8_t text : 1;       /* ... a text one */
	uint8_t broken : 1;     /* a frame we can't read: the rest is noise */
	uint8_t named : 1;      /* it sent a screen report (screens.c) */
	uint8_t fresh : 1;      /* a text message begun, no byte of it yet */
	uint8_t deflated : 1;   /* the message is compressed (RSV1) */
	uint8_t mask_at;        /* which mask byte comes next */
	uint8_t ctl_len;
	uint16_t msg_len;   /* bytes of a text message begun with '{' */
	unsigned char *ctl; /* a control frame's payload, while it arrives */
	uint64_t left;      /* payload bytes of the frame still to come */
	/* A text message begun with '{' (a screen report, a token message),
	 * while it arrives: WS_KEPT_MAX + 1 bytes, msg_len of them used (one
	 * more: too long); a compressed text message, as it arrives
	 * (DEFLATE_IN_MAX bytes); NULL for anything else a client sends. */
	unsigned char *msg;
};

/*
 * One of these per WebSocket client, allocated by lws (zeroed) for the
 * connection's life: only what every client has (kept small: it is most
 * of what a connection costs us).
 */
struct ws_session {
	struct session s; /* first */
	struct ws_rx rx;
};

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
	return door_to_raw(c, ws_protocol.name, &start);
}

/* Write a whole control frame (opcode, payload); 0 or -1 (closed soon). */
static int
send_control(struct lws *wsi, int opcode, const void *payload, size_t len)
{
	unsigned char p[2 + CTL_MAX];

	if (len > CTL_MAX)
		len = CTL_MAX;
	p[0] = (unsigned char)(0x80 | opcode);
	p[1] = (unsigned char)len;
	if (len)
		memcpy(p + 2, payload, len);
	/* Behind whatever is kept for it: always whole frames. */
	return wire_write(wsi, p, 2 + len);
}

/* A close frame with code and a short reason. */
static void
send_close(struct lws *wsi, int code, const char *reason)
{
	unsigned char p[2 + 64];
	size_t len = strlen(reason) > 64 ? 64 : strlen(reason);

	p[0] = (unsigned char)(code >> 8);
	p[1] = (unsigned char)(code & 0xff);
	memcpy(p + 2, reason, len);
	send_control(wsi, OP_CLOSE, p, 2 + len);
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
	if (code == LWS_CLOSE_STATUS_PROTOCOL_ERR)
		metrics.closed_protocol++;
	else if (code == LWS_CLOSE_STATUS_INVALID_PAYLOAD)
		metrics.closed_bad_utf8++;
	send_close(wsi, code, why);
	s->s.said_bye = 1;
	fan_retire(&s->s.fan); /* nothing more from the ring either */
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
}

/* 1 if a client may close with code (RFC 6455 7.4). */
static int
close_code_valid(int code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/*
 * The header is whole: check it against the rules and the limits.  0 to
 * read the payload, -1 to close at once.  After a bye, only the client's
 * close frame matters.
 */
static int
frame_begins(struct lws *wsi, struct ws_session *s)
{
	struct ws_rx *rx = &s->rx;
	int control = rx->opcode & 0x8, code;

	if (s->s.said_bye)
		return 0;
	if (control) {
		if (rx->left && !(rx->ctl = malloc(CTL_MAX)))
			return -1;
		rx->ctl_len = 0;
	} else if ((rx->opcode == OP_CONT) != rx->in_message) {
		say_bye(wsi, s, LWS_CLOSE_STATUS_PROTOCOL_ERR,
		        rx->in_message ? "a new message inside a message"
		                       : "a continuation of nothing");
		return 0;
	}
	code = guard_frame(app_from_wsi(wsi)->guard, &s->s.guard, rx->left,
	                   !control);
	if (code) {
		say_bye(wsi, s, code,
		        code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
		            ? "message too large"
		            : "too many frames");
		return 0;
	}
	if (!control && rx->opcode != OP_CONT) {
		rx->in_message = 1;
		rx->text = rx->opcode == OP_TEXT;
		rx->fresh = rx->text;
		rx->deflated = !!(rx->head[0] & 0x40);
		s->s.utf8 = UTF8_START;
	}
	return 0;
}

/*
 * A text message's bytes: one that begins with '{' is kept (at most
 * WS_KEPT_MAX + 1 bytes: one more says it is too long) for screens.c or
 * access.c; nothing else is.
 */
static void
keep_report(struct ws_rx *rx, const unsigned char *p, size_t len)
{
	size_t room;

	if (!len)
		return;
	if (rx->fresh) {
		rx->fresh = 0;
		if (p[0] == '{') /* NULL on ENOMEM: not read, as any other */
			rx->msg = malloc(WS_KEPT_MAX + 1);
	}
	if (!rx->msg)
		return;
	room = WS_KEPT_MAX + 1 - rx->msg_len;
	if (len > room)
		len = room;
	memcpy(rx->msg + rx->msg_len, p, len);
	rx->msg_len = (uint16_t)(rx->msg_len + len);
}

/* A text message's bytes (inflated, if it came compressed). */
static void
text_bytes(struct lws *wsi, struct ws_session *s, const unsigned char *p,
           size_t len)
{
	keep_report(&s->rx, p, len);
	s->s.utf8 = utf8_feed(s->s.utf8, p, len);
	if (s->s.utf8 == UTF8_BAD)
		say_bye(wsi, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
		        "text is not UTF-8");
}

/* Close a client whose compressed message deflate.c refused with code. */
static void
deflate_refused(struct lws *wsi, struct ws_session *s, int code)
{
	if (code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE)
		metrics.closed_too_big++;
	say_bye(wsi, s, code,
	        code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE ? "message too large"
	        : code == LWS_CLOSE_STATUS_PROTOCOL_ERR ? "bad compressed data"
	                                                : "out of memory");
}

/* Unmasked payload bytes of the current frame. */
static void
frame_payload(struct lws *wsi, struct ws_session *s, const unsigned char *p,
              size_t len)
{
	struct ws_rx *rx = &s->rx;
	int code;

	if (rx->ctl) {
		memcpy(rx->ctl + rx->ctl_len, p, len);
		rx->ctl_len = (uint8_t)(rx->ctl_len + len);
		return;
	}
	if (s->s.said_bye || !rx->text)
		return;
	if (!rx->deflated)
		text_bytes(wsi, s, p, len);
	else if ((code = deflate_keep(&rx->msg, &rx->msg_len, p, len)))
		deflate_refused(wsi, s, code); /* kept whole, to inflate */
}

/* deflate_inflate()'s sink: the inflated bytes of a client's message. */
static int
inflated(void *arg, const unsigned char *p, size_t len)
{
	struct lws *wsi = arg;
	struct ws_session *s = lws_wsi_user(wsi);

	text_bytes(wsi, s, p, len);
	return s->s.said_bye;
}

/* The text message kept for screens.c is done with. */
static void
forget_report(struct ws_rx *rx)
{
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_len = 0;
	rx->fresh = 0;
}

/*
 * A text message that began with '{' is whole: a named screen's report
 * (README "Screen health").  screens.c takes it, or refuses it: ignored
 * and counted, or answered with a close (1008, 1009 when too long).
 */
static void
take_report(struct lws *wsi, struct ws_session *s)
{
	struct app *app = app_from_wsi(wsi);
	enum screen_refusal why;
	const char *answer;
	int code;

	if (access_is_token_message((const char *)s->rx.msg, s->rx.msg_len)) {
		access_message(app, &s->s, (const char *)s->rx.msg,
		               s->rx.msg_len);
		return;
	}
	why = screens_report(app->screens, s, guard_client_ip(&s->s.guard),
	                     fan_filter_of(&s->s.fan), (const char *)s->rx.msg,
	                     s->rx.msg_len, isotime_now_ms());
	if (why == SCREEN_OK) {
		s->rx.named = 1;
		return;
	}
	answer = screen_refusal_answer(why, &code);
	if (!answer)
		return; /* ignored: counted */
	if (code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE)
		metrics.closed_too_big++;
	else
		metrics.closed_too_fast++; /* 1008, as for too many frames */
	say_bye(wsi, s, code, answer);
}

/*
 * The client closes: a valid close is echoed; one with a 1-byte body, a
 * code no endpoint may send or a reason that is not UTF-8 is answered
 * with 1002 (1007 for the reason).  Either way the connection ends: -1.
 */
static int
peer_closes(struct lws *wsi, struct ws_session *s)
{
	const unsigned char *p = s->rx.ctl;
	size_t len = s->rx.ctl_len;
	int code = len >= 2 ? p[0] << 8 | p[1] : 0;

	if (s->s.said_bye)
		return -1; /* the answer to our close */
	if (len == 1 || (len >= 2 && !close_code_valid(code)))
		say_bye(wsi, s, LWS_CLOSE_STATUS_PROTOCOL_ERR,
		        "bad close frame");
	else if (len > 2 && utf8_feed(UTF8_START, p + 2, len - 2) != UTF8_START)
		say_bye(wsi, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
		        "close reason is not UTF-8");
	else
		send_control(wsi, OP_CLOSE, p, len >= 2 ? 2 : 0);
	return -1;
}

/* The frame is whole: act on it.  0, or -1 to close at once. */
static int
frame_ends(struct lws *wsi, struct ws_session *s)
{
	struct ws_rx *rx = &s->rx;
	int r = 0, code;

	switch (rx->opcode) {
	case OP_CLOSE:
		r = peer_closes(wsi, s);
		break;
	case OP_PING:
		if (!s->s.said_bye &&
		    send_control(wsi, OP_PONG, rx->ctl, rx->ctl_len))
			r = -1;
		break;
	case OP_PONG:
		break;
	default:
		if (!rx->fin)
			break;
		if (!s->s.said_bye && rx->text && rx->deflated) {
			rx->fresh = 1; /* inflated: read as any text */
			code = deflate_take(&rx->msg, &rx->msg_len,
			                    app_from_wsi(wsi)->cfg.max_message,
			                    inflated, wsi);
			if (code)
				deflate_refused(wsi, s, code);
		}
		if (!s->s.said_bye && rx->text && s->s.utf8 != UTF8_START)
			say_bye(wsi, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
			        "text is not UTF-8");
		if (rx->msg && !s->s.said_bye)
			take_report(wsi, s);
		forget_report(rx);
		rx->in_message = 0;
		guard_message_done(&s->s.guard);
		break;
	}
	free(rx->ctl);
	rx->ctl = NULL;
	rx->head_len = rx->head_need = 0;
	return r;
}

/*
 * The first two header bytes are in: check the fixed rules (no RSV bits
 * but RSV1 on the first frame of a data message when permessage-deflate
 * was negotiated, known opcodes, masked, control frames whole and short)
 * and say how long the header is.  0, or -1 when the client broke them
 * (said bye).
 */
static int
header_start(struct lws *wsi, struct ws_session *s)
{
	struct ws_rx *rx = &s->rx;
	unsigned char b0 = rx->head[0], b1 = rx->head[1];
	const char *why = NULL;

	rx->fin = !!(b0 & 0x80);
	rx->opcode = b0 & 0x0f;
	if ((b0 & 0x70) && ((b0 & 0x70) != 0x40 || s->s.fan.kind < FAN_WSZ ||
	                    (rx->opcode != OP_TEXT && rx->opcode != OP_BINARY)))
		why = "reserved bits set";
	else if (rx->opcode > OP_BINARY && rx->opcode < OP_CLOSE)
		why = "unknown opcode";
	else if (rx->opcode > OP_PONG)
		why = "unknown opcode";
	else if (!(b1 & 0x80))
		why = "unmasked frame";
	else if ((rx->opcode & 0x8) && (!rx->fin || (b1 & 0x7f) > CTL_MAX))
		why = "fragmented or long control frame";
	if (why) {
		rx->broken = 1;
		if (!s->s.said_bye)
			say_bye(wsi, s, LWS_CLOSE_STATUS_PROTOCOL_ERR, why);
		return -1;
	}
	rx->head_need = (uint8_t)(2 + 4 +
	                          ((b1 & 0x7f) == 126   ? 2
	                           : (b1 & 0x7f) == 127 ? 8
	                                                : 0));
	return 0;
}

/* The whole header is in: the payload's length (0, or -1 if invalid). */
static int
header_done(struct lws *wsi, struct ws_session *s)
{
	struct ws_rx *rx = &s->rx;
	int ext = rx->head_need - 6;

	rx->left = rx->head[1] & 0x7f;
	if (ext) {
		rx->left = 0;
		for (int i = 0; i < ext; i++)
			rx->left = rx->left << 8 | rx->head[2 + i];
		if (ext == 8 && rx->head[2] & 0x80) {
			rx->broken = 1;
			if (!s->s.said_bye)
				say_bye(wsi, s, LWS_CLOSE_STATUS_PROTOCOL_ERR,
				        "length too large");
			return -1;
		}
	}
	rx->mask_at = 0;
	return frame_begins(wsi, s);
}

/*
 * What a client sent: frames, read byte by byte across reads.  0, or -1
 * to close the connection now.
 */
static int
receive(struct lws *wsi, struct ws_session *s, const unsigned char *p,
        size_t len)
{
	struct ws_rx *rx = &s->rx;

	keepalive_heard(&s->s.fan, keepalive_now(&app_from_wsi(wsi)->loop));
	if (rx->broken)
		return 0; /* waiting out the bye's timeout */
	while (len) {
		if (!rx->head_need || rx->head_len < rx->head_need) {
			size_t need = rx->head_need ? rx->head_need : 2;
			size_t take = need - rx->head_len;

			if (take > len)
				take = len;
			memcpy(rx->head + rx->head_len, p, take);
			rx->head_len = (uint8_t)(rx->head_len + take);
			p += take;
			len -= take;
			if (!rx->head_need && rx->head_len == 2 &&
			    header_start(wsi, s))
				return s->s.said_bye ? 0 : -1;
			if (rx->head_len < rx->head_need || !rx->head_need)
				continue;
			if (header_done(wsi, s))
				return s->s.said_bye ? 0 : -1;
			if (!rx->left && frame_ends(wsi, s))
				return -1;
			continue;
		}
		{
			unsigned char chunk[256];
			const unsigned char *mask =
			    rx->head + rx->head_need - 4;
			size_t take = len < sizeof(chunk) ? len : sizeof(chunk);

			if (take > rx->left)
				take = (size_t)rx->left;
			for (size_t i = 0; i < take; i++)
				chunk[i] = p[i] ^ mask[(rx->mask_at + i) & 3];
			rx->mask_at = (uint8_t)((rx->mask_at + take) & 3);
			frame_payload(wsi, s, chunk, take);
			p += take;
			len -= take;
			rx->left -= take;
			if (!rx->left && frame_ends(wsi, s))
				return -1;
		}
	}
	return 0;
}

static int
writeable(struct lws *wsi, struct ws_session *s)
{
	if (!s->s.attached)
		return -1;
	if (fan_state_of(&s->s.fan) == FAN_CLOSING) {
		send_close(wsi, LWS_CLOSE_STATUS_GOINGAWAY,
		           "server shutting down");
		return -1;
	}
	return session_writeable(app_from_wsi(wsi), &s->s);
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
	case LWS_CALLBACK_RAW_ADOPT:
		return session_adopted(wsi, &s->s, FAN_WS);
	case LWS_CALLBACK_RAW_RX:
		return s->s.attached ? receive(wsi, s, in, len) : -1;
	case LWS_CALLBACK_RAW_WRITEABLE:
		return writeable(wsi, s);
	case LWS_CALLBACK_RAW_CLOSE:
		free(s->rx.ctl);
		s->rx.ctl = NULL;
		forget_report(&s->rx);
		if (s->rx.named)
			screens_gone(app_from_wsi(wsi)->screens, s,
			             isotime_now_ms());
		session_close(app_from_wsi(wsi), &s->s);
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols ws_protocol = {
    .name = "tickerd",
    .callback = callback_ws,
    .per_session_data_size = sizeof(struct ws_session),
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
