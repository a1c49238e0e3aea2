/* floor_clients.c: accept, upgrade, and broadcast with one send() each. */
#include "floor.h"

#include "floor_ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX     4096
#define PENDING_MAX (64u << 20) /* a client this far behind is dropped */

/*
 * Per connection, indexed by fd.  req exists only while the upgrade request
 * is arriving; out only while the socket would not take a whole frame.
 */
struct fclient {
	int open_idx; /* position in open_fds, -1 while upgrading */
	char *req;
	size_t req_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

static struct fclient *cl;
static int *open_fds, lfd = -1;
static unsigned nopen, max_fd;
static unsigned long upgraded; /* clients upgraded since the start */
static uint8_t *frame;
static size_t frame_cap;

int
fc_listen(int port, int reuse_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN};
	struct rlimit rl;
	int one = 1;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	max_fd = (unsigned)rl.rlim_cur;
	cl = calloc(max_fd, sizeof(*cl));
	open_fds = calloc(max_fd, sizeof(*open_fds));
	if (!cl || !open_fds)
		return -1;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuse_port &&
	     setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 65535))
		return -1;
	ev.data.fd = lfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev))
		return -1;
	return lfd;
}

/* Forget a client and close its socket. */
static void
drop(int fd)
{
	struct fclient *c = &cl[fd];

	if (c->open_idx >= 0) {
		int last = open_fds[--nopen];

		open_fds[c->open_idx] = last;
		cl[last].open_idx = c->open_idx;
	}
	free(c->req);
	free(c->out);
	memset(c, 0, sizeof(*c));
	close(fd);
}

void
fc_accept(void)
{
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	       0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

		if ((unsigned)fd >= max_fd) {
			close(fd);
			continue;
		}
		memset(&cl[fd], 0, sizeof(cl[fd]));
		cl[fd].open_idx = -1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
			close(fd);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		perror("floor: accept");
}

/* Keep bytes the socket did not take; ask for EPOLLOUT. 0, or -1. */
static int
queue(int fd, const void *p, size_t n)
{
	struct fclient *c = &cl[fd];
	int was_empty = c->out_len == 0;

	if (c->out_off) { /* slide the unsent part to the front */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n > PENDING_MAX)
		return -1;
	if (c->out_len + n > c->out_cap) {
		size_t cap = (c->out_len + n) * 2;
		char *o = realloc(c->out, cap);

		if (!o)
			return -1;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	if (was_empty) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
		                         .data.fd = fd};

		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	}
	return 0;
}

/* Send what is queued; back to EPOLLIN only once it is all gone. */
static int
flush(int fd)
{
	struct fclient *c = &cl[fd];
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	while (c->out_off < c->out_len) {
		ssize_t n =
		    send(fd, c->out + c->out_off, c->out_len - c->out_off,
		         MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = c->out_cap = 0;
	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	return 0;
}

/* Collect the upgrade request; answer 101 once it is complete. */
static int
upgrade(int fd)
{
	struct fclient *c = &cl[fd];
	char reply[256];
	ssize_t n;
	int len;

	if (!c->req && !(c->req = malloc(REQ_MAX)))
		return -1;
	n = recv(fd, c->req + c->req_len, REQ_MAX - 1 - c->req_len, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	if (!strstr(c->req, "\r\n\r\n"))
		return c->req_len < REQ_MAX - 1 ? 0 : -1;
	len = ws_handshake_reply(c->req, c->req_len, reply, sizeof(reply));
	free(c->req);
	c->req = NULL;
	if (len < 0 || send(fd, reply, (size_t)len, MSG_NOSIGNAL) != len)
		return -1;
	c->open_idx = (int)nopen;
	open_fds[nopen++] = fd;
	upgraded++;
	return 0;
}

void
fc_event(int fd, uint32_t events)
{
	char buf[4096];
	ssize_t n;

	if ((unsigned)fd >= max_fd)
		return;
	if (cl[fd].open_idx < 0) {
		if (upgrade(fd))
			drop(fd);
		return;
	}
	if ((events & EPOLLOUT) && flush(fd)) {
		drop(fd);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* Clients say nothing we need; a close frame or EOF ends them. */
	n = recv(fd, buf, sizeof(buf), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (n > 0 && (buf[0] & 0x0f) == 0x8))
		drop(fd);
}

void
fc_broadcast(const char *payload, size_t len)
{
	uint8_t hdr[10];
	size_t hl = ws_text_header(len, hdr), flen = hl + len;
	unsigned ndead = 0;
	int *dead = NULL;

	if (flen > frame_cap) {
		frame = realloc(frame, flen);
		frame_cap = flen;
	}
	memcpy(frame, hdr, hl);
	memcpy(frame + hl, payload, len);
	for (unsigned i = 0; i < nopen; i++) {
		int fd = open_fds[i];
		ssize_t n = 0;

		if (!cl[fd].out_len) {
			n = send(fd, frame, flen, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n == (ssize_t)flen)
				continue;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				n = -2;
			else if (n < 0)
				n = 0;
		}
		if (n == -2 || queue(fd, frame + n, flen - (size_t)n)) {
			if (!dead)
				dead = malloc(nopen * sizeof(*dead));
			if (dead)
				dead[ndead++] = fd;
		}
	}
	for (unsigned i = 0; i < ndead; i++)
		drop(dead[i]);
	free(dead);
}

unsigned
fc_count(void)
{
	return nopen;
}

unsigned long
fc_upgraded(void)
{
	return upgraded;
}
