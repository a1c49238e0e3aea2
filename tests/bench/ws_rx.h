/* ws_rx.h: a streaming WebSocket frame reader that keeps no payload. */
#ifndef BENCH_WS_RX_H
#define BENCH_WS_RX_H

#include <stddef.h>
#include <stdint.h>

#define WS_OP_CONT  0x0
#define WS_OP_TEXT  0x1
#define WS_OP_BIN   0x2
#define WS_OP_CLOSE 0x8
#define WS_OP_PING  0x9
#define WS_OP_PONG  0xa

/*
 * Per-connection state: the header being collected, then a count of the
 * payload bytes still to come.  About 32 bytes, so tens of thousands of
 * connections cost little; payload bytes are handed out as they arrive.
 */
struct ws_rx {
	uint8_t hdr[14];
	uint8_t hdr_len;
	uint8_t opcode; /* of the frame being read */
	uint8_t fin;
	uint8_t in_payload;
	uint64_t remaining;
};

struct ws_rx_cb {
	/* payload bytes of the current frame (opcode as in its header) */
	void (*data)(void *u, int opcode, const uint8_t *p, size_t n);
	/* the current frame ended; fin says whether it ends a message */
	void (*frame_end)(void *u, int opcode, int fin);
};

/* ws_rx_feed() - consume n received bytes, calling cb as frames unfold. */
void ws_rx_feed(struct ws_rx *rx, const uint8_t *p, size_t n,
                const struct ws_rx_cb *cb, void *u);

#endif
