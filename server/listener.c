/* listener.c: tickerd's own listening socket, handing connections on.
 *
 * lws 4.1.6 accepts one connection per poll() of its listening socket,
 * with a backlog fixed at SOMAXCONN.  When thousands reconnect at once the
 * kernel's queue overflows and each dropped handshake waits a second for
 * TCP's retransmit.  Here accept4() empties the queue whenever it has
 * something, and each connection goes to the front door (door.c) at once:
 * it costs a few µs there until its request arrives.
 */
#define _GNU_SOURCE /* accept4() */
#include "listener.h"

#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_PER_CALL 16384 /* then the loop turns again */
#define EMFILE_PAUSE_MS 100
#define POKE_NS         (5 * 1000 * 1000) /* see listener_poke() */

struct listener {
	uv_poll_t poll;
	uv_timer_t pause;
	int fd;
	uint64_t drained_ns; /* when the kernel's queue was last emptied */
	int paused;          /* out of descriptors: waiting for pause */
	int starved;         /* said so in the log; not yet accepting again */
	int started;
	listener_fn fn; /* where each connection goes */
	void *arg;
	int open_handles;
};

/* Bind and listen (sharing the port: reuse); the socket, or -1 with errno
 * set. */
static int
open_socket(const char *host, int port, int reuse)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1, e;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (!*host)
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		len = sizeof(*a);
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* The kernel caps the backlog at net.core.somaxconn.  Accepted
	 * sockets inherit TCP_NODELAY (frames go out at once): one system
	 * call fewer per connection. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ||
	    (reuse &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on))) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 65535)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * With SO_REUSEPORT, what a closing process's queue holds (connections
 * the kernel handed it that it has not accepted yet) is reset when it
 * closes its socket, unless net.ipv4.tcp_migrate_req (Linux 5.14) has the
 * kernel move them to a sibling: say so when it is off.
 */
static void
check_migrate_req(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_migrate_req", "r");
	int on = -1;

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = -1;
		fclose(f);
	}
	if (on == 0)
		log_notice(
		    "--reuse-port: net.ipv4.tcp_migrate_req is 0, so "
		    "connections waiting in a stopping process's queue "
		    "are reset (their clients reconnect); set it to 1 to "
		    "have the kernel hand them to a sibling (make install "
		    "and the package install sysctl.d/60-tickerd.conf)");
	else if (on < 0)
		log_notice("--reuse-port: this kernel has no "
		           "net.ipv4.tcp_migrate_req: connections waiting in a "
		           "stopping process's queue are reset");
}

struct listener *
listener_new(uv_loop_t *loop, const char *host, int port, int reuse_port)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (reuse_port)
		check_migrate_req();
	l->fd = open_socket(host, port, reuse_port);
	if (l->fd < 0) {
		int e = errno;

		free(l);
		errno = e;
		return NULL;
	}
	uv_poll_init(loop, &l->poll, l->fd);
	uv_timer_init(loop, &l->pause);
	l->poll.data = l->pause.data = l;
	l->open_handles = 2;
	return l;
}

static void on_readable(uv_poll_t *p, int status, int events);

static void
on_pause_over(uv_timer_t *t)
{
	struct listener *l = t->data;

	l->paused = 0;
	uv_poll_start(&l->poll, UV_READABLE, on_readable);
}

/*
 * Out of descriptors (or memory): leave the rest in the kernel's queue
 * and look again in EMFILE_PAUSE_MS, rather than at once in a busy loop.
 * Logged once until accepting works again; every pause is counted.
 */
static void
pause_accepting(struct listener *l, int err)
{
	if (!l->starved)
		log_warn("cannot accept connections: %s; trying again every "
		         "%d ms",
		         strerror(err), EMFILE_PAUSE_MS);
	l->starved = 1;
	l->paused = 1;
	metrics.accept_pauses++;
	uv_poll_stop(&l->poll);
	uv_timer_start(&l->pause, on_pause_over, EMFILE_PAUSE_MS, 0);
}

/* Take everything waiting in the kernel's queue, handing each on. */
static void
drain(struct listener *l)
{

	l->drained_ns = uv_hrtime();
	if (l->paused)
		return;
	for (int i = 0; i < ACCEPT_PER_CALL; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &peer_len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(l, errno);
			return;
		}
		if (l->starved) {
			log_notice("accepting connections again");
			l->starved = 0;
		}
		/* TCP_NODELAY came from the listening socket (open_socket()).
		 */
		l->fn(l->arg, fd, (struct sockaddr *)&peer);
	}
}

static void
on_readable(uv_poll_t *p, int status, int events)
{
	struct listener *l = p->data;

	(void)status;
	(void)events;
	drain(l);
}

void
listener_poke(struct listener *l)
{
	if (l && l->started && uv_hrtime() - l->drained_ns > POKE_NS)
		drain(l);
}

void
listener_start(struct listener *l, listener_fn fn, void *arg)
{
	l->fn = fn;
	l->arg = arg;
	l->started = 1;
	uv_poll_start(&l->poll, UV_READABLE, on_readable);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct listener *l = h->data;

	if (!--l->open_handles)
		free(l);
}

void
listener_close(struct listener *l)
{
	if (!l)
		return;
	uv_close((uv_handle_t *)&l->poll, on_handle_closed);
	uv_close((uv_handle_t *)&l->pause, on_handle_closed);
	close(l->fd);
}
