/* sse_rx.h: a streaming EventSource (text/event-stream) reader that keeps
 * no data. */
#ifndef BENCH_SSE_RX_H
#define BENCH_SSE_RX_H

#include <stddef.h>
#include <stdint.h>

/* Event types longer than this are reported as "" (never a known one). */
#define SSE_TYPE_MAX 15

/*
 * Per-connection state: where the reader is in the current line, the
 * field it names, and the current event's type (about 24 bytes).  Data
 * bytes are handed out as they arrive, as the WebSocket reader hands out
 * payload bytes; lines end with LF, CR or CRLF, as the EventSource
 * specification says.
 */
struct sse_rx {
	uint8_t state;    /* enum in sse_rx.c */
	uint8_t field;    /* of the line being read */
	uint8_t name_len; /* bytes of the field name so far */
	uint8_t cr;       /* the previous byte was a CR */
	uint8_t has_data; /* the event has a data field */
	uint8_t type_len; /* bytes of its type; SSE_TYPE_MAX + 1: too long */
	char name[6];     /* the field name, while it fits */
	char type[SSE_TYPE_MAX + 1];
};

struct sse_rx_cb {
	/* bytes of the current event's data (a '\n' between data lines) */
	void (*data)(void *u, const uint8_t *p, size_t n);
	/* a blank line ended an event that had data; type is its event
	 * field ("message" without one) */
	void (*event)(void *u, const char *type);
	/* a comment line (":..."), the server's keep-alive */
	void (*comment)(void *u);
};

/* sse_rx_feed() - consume n received bytes, calling cb as events unfold. */
void sse_rx_feed(struct sse_rx *rx, const uint8_t *p, size_t n,
                 const struct sse_rx_cb *cb, void *u);

#endif
