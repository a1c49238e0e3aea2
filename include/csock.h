/* csock.h: a client's socket once the door has answered it (a WebSocket
 * after its 101, an EventSource stream after its head), watched, read,
 * written and closed by tickerd on its loop.
 *
 * Every byte a client is sent is ready before it is written: WebSocket
 * frames (message.c frames each message once, fanout_catchup.c heads the
 * pieces of a long greeting, ws.c its control frames) and EventSource
 * events.  So a write is a send(); what the socket refuses is kept, in
 * order, and sent first when it has room.
 *
 * These sockets were lws 4.1.6 raw sockets before: its per-connection
 * struct (865 B), its adoption and its close (a debug build's scan of the
 * whole descriptor table on each, 14 % of a reconnect storm's CPU) cost
 * more than everything else tickerd keeps for a client, for an event
 * loop, a write buffer and two timeouts that are a few lines here.
 */
#ifndef TICKERD_CSOCK_H
#define TICKERD_CSOCK_H

#include <stddef.h>
#include <sys/types.h>

struct app;
struct csock;
struct fan_conn;

/* What the owner of a csock is told.  Each returns 0, or -1 to close. */
struct csock_handler {
	/* The client sent len bytes. */
	int (*rx)(struct csock *s, const unsigned char *p, size_t len);
	/* The socket has room (after csock_want_writeable(), or once what
	 * was kept went out). */
	int (*writeable)(struct csock *s);
	/* The connection is gone, by either side: the owner's last call,
	 * while its data is still there. */
	void (*closed)(struct csock *s);
};

/*
 * csock_open() - watch fd (a connected, non-blocking socket) for h, with
 * owner_size bytes of zeroed owner data (csock_owner()).  NULL if it can't
 * (the socket is then closed).
 */
struct csock *csock_open(struct app *app, int fd, const struct csock_handler *h,
                         size_t owner_size);

/* csock_owner() - the owner's data; csock_of() - back from it. */
void *csock_owner(struct csock *s);
struct csock *csock_of(void *owner);

/* csock_app() - the app s belongs to. */
struct app *csock_app(const struct csock *s);

/*
 * csock_try() - write what the socket takes now of p, to a csock holding
 * nothing: the bytes taken (maybe 0), or -1 if the connection failed.
 */
ssize_t csock_try(struct csock *s, const unsigned char *p, size_t len);

/*
 * csock_keep() - keep a copy of p, to go out after what is kept already,
 * as the socket takes it.  0, or -1 (ENOMEM).
 */
int csock_keep(struct csock *s, const unsigned char *p, size_t len);

/* csock_holding() - 1 while kept bytes are not all sent. */
int csock_holding(const struct csock *s);

/*
 * csock_write() - write all of p: behind what is kept, or with send() and
 * the rest kept.  0, or -1 if the connection failed.
 */
int csock_write(struct csock *s, const unsigned char *p, size_t len);

/* csock_want_writeable() - a writeable call when the socket has room. */
void csock_want_writeable(struct csock *s);

/* csock_close_soon() - close s from the loop, whatever we are in now. */
void csock_close_soon(struct csock *s);

/*
 * csock_close_after() - close s in secs seconds unless it goes first (a
 * client given a close frame, waited for to answer).
 */
void csock_close_after(struct csock *s, unsigned secs);

/*
 * csock_unacked() - bytes in the socket its peer has not acknowledged
 * (they leave as it reads), or -1 if the kernel does not say.
 */
int csock_unacked(const struct csock *s);

/* csock_close_all() - close every client socket now (tickerd is ending). */
void csock_close_all(struct app *app);

/* csock_fan_ops - the fan-out's way to its clients: the functions above,
 * on connections that csock_conn() makes of csocks. */
extern const struct fan_ops csock_fan_ops;

/* csock_conn() - s as a connection of the fan-out's (csock_fan_ops'). */
static inline struct fan_conn *
csock_conn(struct csock *s)
{
	return (struct fan_conn *)s;
}

#endif
