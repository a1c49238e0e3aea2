/* ws_private.h: a WebSocket client's state, shared by ws.c (the upgrade,
 * the session's life, what tickerd writes) and ws_rx.c (reading what the
 * client sends).  Nothing else includes it. */
#ifndef TICKERD_WS_PRIVATE_H
#define TICKERD_WS_PRIVATE_H

#include "access.h"
#include "csock.h"
#include "session.h"

#include <libwebsockets.h> /* LWS_CLOSE_STATUS_* */
#include <stddef.h>
#include <stdint.h>

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
 * One of these per WebSocket client, allocated with its csock (zeroed) for the
 * connection's life: only what every client has (kept small: it is most
 * of what a connection costs us).
 */
struct ws_session {
	struct session s; /* first */
	struct ws_rx rx;
};

/* ws.c's: write a whole control frame (opcode, payload): 0, or -1 (closed
 * soon); close a client that broke the rules with code and why (the close
 * frame, then up to 2 s for its answer). */
int ws_send_control(struct csock *cs, int opcode, const void *payload,
                    size_t len);
void ws_say_bye(struct csock *cs, struct ws_session *s, int code,
                const char *why);

/* ws_rx.c's: what a client sent (0, or -1 to close the connection now);
 * the client's reading state freed when it goes. */
int ws_receive(struct csock *cs, struct ws_session *s, const unsigned char *p,
               size_t len);
void ws_rx_end(struct csock *cs, struct ws_session *s);

#endif
