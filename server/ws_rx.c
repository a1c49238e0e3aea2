/* ws_rx.c: what a WebSocket client sends, read by tickerd: frames parsed
 * byte by byte across reads (RFC 6455 section 5), control frames answered,
 * a text message begun with '{' kept for screens.c or access.c, compressed
 * messages (permessage-deflate) inflated by deflate.c.
 *
 * lws 4.1.6 answers pings itself without telling its user, and accepts
 * unmasked client frames: neither a ping flood nor a protocol error could
 * be seen from its callbacks, hence this small state machine.
 */
#include "ws_private.h"

#include "access.h"
#include "app.h"
#include "deflate.h"
#include "fanout.h"
#include "guard.h"
#include "isotime.h"
#include "keepalive.h"
#include "metrics.h"
#include "screens.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

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
frame_begins(struct csock *cs, struct ws_session *s)
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
		ws_say_bye(cs, s, LWS_CLOSE_STATUS_PROTOCOL_ERR,
		           rx->in_message ? "a new message inside a message"
		                          : "a continuation of nothing");
		return 0;
	}
	code =
	    guard_frame(csock_app(cs)->guard, &s->s.guard, rx->left, !control);
	if (code) {
		ws_say_bye(cs, s, code,
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
text_bytes(struct csock *cs, struct ws_session *s, const unsigned char *p,
           size_t len)
{
	keep_report(&s->rx, p, len);
	s->s.utf8 = utf8_feed(s->s.utf8, p, len);
	if (s->s.utf8 == UTF8_BAD)
		ws_say_bye(cs, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
		           "text is not UTF-8");
}

/* Close a client whose compressed message deflate.c refused with code. */
static void
deflate_refused(struct csock *cs, struct ws_session *s, int code)
{
	if (code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE)
		metrics.closed_too_big++;
	ws_say_bye(
	    cs, s, code,
	    code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE ? "message too large"
	    : code == LWS_CLOSE_STATUS_PROTOCOL_ERR    ? "bad compressed data"
	                                               : "out of memory");
}

/* Unmasked payload bytes of the current frame. */
static void
frame_payload(struct csock *cs, struct ws_session *s, const unsigned char *p,
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
		text_bytes(cs, s, p, len);
	else if ((code = deflate_keep(&rx->msg, &rx->msg_len, p, len)))
		deflate_refused(cs, s, code); /* kept whole, to inflate */
}

/* deflate_inflate()'s sink: the inflated bytes of a client's message. */
static int
inflated(void *arg, const unsigned char *p, size_t len)
{
	struct csock *cs = arg;
	struct ws_session *s = csock_owner(cs);

	text_bytes(cs, s, p, len);
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
take_report(struct csock *cs, struct ws_session *s)
{
	struct app *app = csock_app(cs);
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
	ws_say_bye(cs, s, code, answer);
}

/*
 * The client closes: a valid close is echoed; one with a 1-byte body, a
 * code no endpoint may send or a reason that is not UTF-8 is answered
 * with 1002 (1007 for the reason).  Either way the connection ends: -1.
 */
static int
peer_closes(struct csock *cs, struct ws_session *s)
{
	const unsigned char *p = s->rx.ctl;
	size_t len = s->rx.ctl_len;
	int code = len >= 2 ? p[0] << 8 | p[1] : 0;

	if (s->s.said_bye)
		return -1; /* the answer to our close */
	if (len == 1 || (len >= 2 && !close_code_valid(code)))
		ws_say_bye(cs, s, LWS_CLOSE_STATUS_PROTOCOL_ERR,
		           "bad close frame");
	else if (len > 2 && utf8_feed(UTF8_START, p + 2, len - 2) != UTF8_START)
		ws_say_bye(cs, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
		           "close reason is not UTF-8");
	else
		ws_send_control(cs, OP_CLOSE, p, len >= 2 ? 2 : 0);
	return -1;
}

/* The frame is whole: act on it.  0, or -1 to close at once. */
static int
frame_ends(struct csock *cs, struct ws_session *s)
{
	struct ws_rx *rx = &s->rx;
	int r = 0, code;

	switch (rx->opcode) {
	case OP_CLOSE:
		r = peer_closes(cs, s);
		break;
	case OP_PING:
		if (!s->s.said_bye &&
		    ws_send_control(cs, OP_PONG, rx->ctl, rx->ctl_len))
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
			                    csock_app(cs)->cfg.max_message,
			                    inflated, cs);
			if (code)
				deflate_refused(cs, s, code);
		}
		if (!s->s.said_bye && rx->text && s->s.utf8 != UTF8_START)
			ws_say_bye(cs, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
			           "text is not UTF-8");
		if (rx->msg && !s->s.said_bye)
			take_report(cs, s);
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
header_start(struct csock *cs, struct ws_session *s)
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
			ws_say_bye(cs, s, LWS_CLOSE_STATUS_PROTOCOL_ERR, why);
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
header_done(struct csock *cs, struct ws_session *s)
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
				ws_say_bye(cs, s, LWS_CLOSE_STATUS_PROTOCOL_ERR,
				           "length too large");
			return -1;
		}
	}
	rx->mask_at = 0;
	return frame_begins(cs, s);
}

/*
 * What a client sent: frames, read byte by byte across reads.  0, or -1
 * to close the connection now.
 */
int
ws_receive(struct csock *cs, struct ws_session *s, const unsigned char *p,
           size_t len)
{
	struct ws_rx *rx = &s->rx;

	keepalive_heard(&s->s.fan, keepalive_now(&csock_app(cs)->loop));
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
			    header_start(cs, s))
				return s->s.said_bye ? 0 : -1;
			if (rx->head_len < rx->head_need || !rx->head_need)
				continue;
			if (header_done(cs, s))
				return s->s.said_bye ? 0 : -1;
			if (!rx->left && frame_ends(cs, s))
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
			frame_payload(cs, s, chunk, take);
			p += take;
			len -= take;
			rx->left -= take;
			if (!rx->left && frame_ends(cs, s))
				return -1;
		}
	}
	return 0;
}

/* The client is gone: what was being read of it is freed, and a named
 * screen is told gone (screens.c). */
void
ws_rx_end(struct csock *cs, struct ws_session *s)
{
	free(s->rx.ctl);
	s->rx.ctl = NULL;
	forget_report(&s->rx);
	if (s->rx.named)
		screens_gone(csock_app(cs)->screens, s, isotime_now_ms());
}
