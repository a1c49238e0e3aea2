/* wire.h: how bytes reach a client's socket once the door has handed it to
 * lws as a raw socket (a WebSocket after its 101, an EventSource stream
 * after its head).  The only module that writes to such a socket.
 *
 * Every byte a client is sent is ready before it is written: WebSocket
 * frames (message.c frames each message once, fanout_catchup.c heads the
 * pieces of a long greeting, ws.c its control frames) and EventSource
 * events.  lws_write() on a raw socket passes bytes through, but costs a
 * noticeable share of a delivery when one message goes to 19,000 clients,
 * so a client that lws holds nothing for is written with send() itself,
 * and only what its socket refused is handed to lws, which keeps it (its
 * "partial buffer") and sends it before anything written later.
 *
 * That relies on three things lws 4.1.6 does (lib/core-net/output.c,
 * lws_issue_raw()), checked against its source:
 *  - a raw socket's lws_write() neither frames nor transforms the bytes,
 *    and needs no headroom in front of them;
 *  - bytes lws keeps go out before any written after them, and
 *    lws_partial_buffered() says whether it still holds some;
 *  - while it holds none, a send() on lws_get_socket_fd() leaves lws's
 *    state as it was.
 * Under TLS the bytes must go through the TLS session, and an lws extension
 * (its permessage-deflate) transforms them: send() would corrupt the stream.
 * (tickerd's own permessage-deflate, deflate.c, makes each compressed frame
 * before it gets here: its bytes are as ready as any.)
 * So wire_check_library() refuses at start an lws whose major.minor the
 * path was not checked against, wire_check_context() refuses a context
 * with TLS or extensions, and wire_adopted() refuses a TLS connection.
 */
#ifndef TICKERD_WIRE_H
#define TICKERD_WIRE_H

#include <libwebsockets.h>
#include <stddef.h>
#include <sys/types.h>

/* The lws this write path was checked against (see above). */
#define WIRE_LWS_MAJOR 4
#define WIRE_LWS_MINOR 1

#if LWS_LIBRARY_VERSION_MAJOR != WIRE_LWS_MAJOR ||                             \
    LWS_LIBRARY_VERSION_MINOR != WIRE_LWS_MINOR
#error "wire.c's write path was checked against lws 4.1 only: check again"
#endif

struct fan_ops;

/*
 * wire_check_library() - 0 if the lws loaded at run time is one the write
 * path was checked against, else -1 with the reason in why.
 */
int wire_check_library(char *why, size_t len);

/*
 * wire_check_context() - 0 if a context made from info carries bytes as
 * the write path writes them (no TLS, no extensions), else -1 and why.
 */
int wire_check_context(const struct lws_context_creation_info *info, char *why,
                       size_t len);

/* wire_adopted() - 0 if the adopted wsi can be written with send(). */
int wire_adopted(struct lws *wsi);

/*
 * wire_try() - write what the socket takes now of p (len bytes), with
 * send(), to a wsi lws holds nothing for: the bytes taken (maybe 0), or -1
 * if the connection failed.
 */
ssize_t wire_try(struct lws *wsi, const unsigned char *p, size_t len);

/*
 * wire_keep() - hand lws len bytes, which it copies and sends after what
 * it holds, as the socket takes them.  0, or -1 if it refused.
 */
int wire_keep(struct lws *wsi, const unsigned char *p, size_t len);

/* wire_holding() - 1 while lws holds bytes for wsi not yet sent. */
int wire_holding(struct lws *wsi);

/*
 * wire_write() - write all of p: behind what lws holds, or with send() and
 * the rest kept.  0, or -1 if the connection failed.
 */
int wire_write(struct lws *wsi, const unsigned char *p, size_t len);

/* wire_want_writeable() - a WRITEABLE callback when the socket has room. */
void wire_want_writeable(struct lws *wsi);

/* wire_close_soon() - close wsi from the loop, whatever we are in now. */
void wire_close_soon(struct lws *wsi);

/*
 * wire_unacked() - bytes in wsi's socket its peer has not acknowledged
 * (they leave as it reads), or -1 if the kernel does not say.
 */
int wire_unacked(struct lws *wsi);

/* wire_fan_ops - the fan-out's way to its clients: the functions above,
 * on connections that wire_conn() makes of wsis. */
extern const struct fan_ops wire_fan_ops;

struct fan_conn;

/* wire_conn() - wsi as a connection of the fan-out's (wire_fan_ops'). */
static inline struct fan_conn *
wire_conn(struct lws *wsi)
{
	return (struct fan_conn *)wsi;
}

#endif
