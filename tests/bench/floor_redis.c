/* floor_redis.c: the floor's Redis subscription (PSUBSCRIBE, pmessage). */
#include "floor.h"

#include "resp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int rfd = -1;
static char *buf;
static size_t len, cap;

int
fr_open(int port, const char *pattern)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN};
	char cmd[256];
	int n;

	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rfd < 0 || connect(rfd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	n = snprintf(cmd, sizeof(cmd),
	             "*2\r\n$10\r\nPSUBSCRIBE\r\n$%zu\r\n%s\r\n",
	             strlen(pattern), pattern);
	if (send(rfd, cmd, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	ev.data.fd = rfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, rfd, &ev))
		return -1;
	return rfd;
}

/* Act on one reply: a pmessage is broadcast, the rest is ignored. */
static void
on_reply(const struct resp_elem *el, int count)
{
	if (count == 4 && el[0].type == '$' && el[0].len == 8 &&
	    !memcmp(el[0].p, "pmessage", 8) && el[3].type == '$' && el[3].p)
		fc_broadcast(el[3].p, el[3].len);
}

int
fr_event(void)
{
	struct resp_elem el[RESP_MAX_ELEMS];
	size_t off = 0;
	ssize_t n;
	int count;
	long r;

	if (cap - len < 65536) {
		cap = cap ? cap * 2 : 1 << 20;
		buf = realloc(buf, cap);
		if (!buf)
			return -1;
	}
	n = recv(rfd, buf + len, cap - len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	len += (size_t)n;
	while ((r = resp_parse(buf + off, len - off, el, &count)) > 0) {
		on_reply(el, count);
		off += (size_t)r;
	}
	if (r < 0) {
		fprintf(stderr, "floor: unexpected reply from Redis\n");
		return -1;
	}
	memmove(buf, buf + off, len - off);
	len -= off;
	return 0;
}
