/* listener.h: tickerd's own listening socket, handing connections on. */
#ifndef TICKERD_LISTENER_H
#define TICKERD_LISTENER_H

#include <libwebsockets.h>
#include <sys/socket.h>
#include <uv.h>

struct listener;

/*
 * Where an accepted (non-blocking) connection goes, with its peer's
 * address (as accept4() gave it: no getpeername() per connection); it
 * owns fd then.
 */
typedef void (*listener_fn)(void *arg, int fd, const struct sockaddr *peer);

/*
 * listener_new() - listen on host:port (host "" = every IPv4 address; an
 * IPv6 literal listens on IPv6) with the largest backlog the kernel allows;
 * reuse_port: shared with other processes that ask for it (SO_REUSEPORT).
 * NULL, with errno set, if the address can't be bound (in use, not here).
 */
struct listener *listener_new(uv_loop_t *loop, const char *host, int port,
                              int reuse_port);

/*
 * listener_start() - accept connections from now on and hand each to fn.
 * Whatever is in the kernel's queue is taken at once, so a reconnect storm
 * never overflows the queue (a dropped handshake costs the client a 1 s
 * retransmit).
 */
void listener_start(struct listener *l, listener_fn fn, void *arg);

/*
 * listener_poke() - empty the kernel's queue if that was last done more
 * than 5 ms ago.  Called from lws callbacks: a loop turn can hold a
 * thousand events (closing connections cost lws ~100 µs each), and the
 * listening socket waits behind all of them in epoll's ready list.
 */
void listener_poke(struct listener *l);

/* listener_close() - stop accepting and close the socket; frees l later. */
void listener_close(struct listener *l);

#endif
