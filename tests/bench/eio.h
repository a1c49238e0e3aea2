/* eio.h: just enough Engine.IO v4 / Socket.IO v5 to count a Socket.IO
 * server's deliveries over its WebSocket transport. */
#ifndef BENCH_EIO_H
#define BENCH_EIO_H

#include <stddef.h>
#include <stdint.h>

/* The WebSocket transport's path (Engine.IO v4, no polling first). */
#define EIO_PATH "/socket.io/?EIO=4&transport=websocket"

enum eio_kind {
	EIO_UNKNOWN, /* not enough bytes yet */
	EIO_OPEN,    /* "0{...}": Engine.IO open; answer "40" */
	EIO_CONNECT, /* "40{...}": Socket.IO connected to namespace "/" */
	EIO_PING,    /* "2": answer "3" */
	EIO_EVENT,   /* "42[...]": an event, e.g. ["item", "..."] */
	EIO_OTHER,
};

/*
 * eio_classify() - the kind of a text message from its byte at position pos
 * (0 or 1; the caller keeps feeding while EIO_UNKNOWN comes back, and the
 * byte at 0 was a '4' when it calls with pos 1).
 */
enum eio_kind eio_classify(size_t pos, uint8_t b);

/* eio_send() - send text as one masked WebSocket text frame (at most 125
 * bytes); 0, or -1 if the socket would not take it whole. */
int eio_send(int fd, const char *text);

#endif
