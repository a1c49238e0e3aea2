/* floor_redis.c: the floor's Redis subscription (PSUBSCRIBE, pmessage). */
#include "floor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Each recv() takes up to 1 MiB; the reader is given it FEED_MAX bytes at a
 * time, the size hiredis's own redisBufferRead() feeds.  Once a reply has
 * consumed 1 KiB of the reader's buffer, redisReaderGetReply() slides the
 * rest of that buffer to its front: fed 1 MiB at once, a floor that has
 * fallen behind would copy ~1 MiB for every few messages.
 */
#define RECV_MAX (1u << 20)
#define FEED_MAX (16u << 10)

static int rfd = -1;
static redisReader *reader;
static char buf[RECV_MAX];

int
fr_open(int port, const char *pattern)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN};
	char cmd[256];
	int n;

	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!(reader = redisReaderCreate()))
		return -1;
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
on_reply(const redisReply *r)
{
	const redisReply *kind, *payload;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
		return;
	kind = r->element[0];
	payload = r->element[3];
	if (kind->type == REDIS_REPLY_STRING && kind->len == 8 &&
	    !memcmp(kind->str, "pmessage", 8) &&
	    payload->type == REDIS_REPLY_STRING)
		fc_broadcast(payload->str, payload->len);
}

int
fr_event(void)
{
	ssize_t n = recv(rfd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	for (size_t off = 0; off < (size_t)n; off += FEED_MAX) {
		size_t k =
		    (size_t)n - off < FEED_MAX ? (size_t)n - off : FEED_MAX;
		void *reply;

		if (redisReaderFeed(reader, buf + off, k) != REDIS_OK)
			goto bad;
		for (;;) {
			if (redisReaderGetReply(reader, &reply) != REDIS_OK)
				goto bad;
			if (!reply)
				break;
			on_reply(reply);
			freeReplyObject(reply);
		}
	}
	return 0;
bad:
	fprintf(stderr, "floor: unexpected reply from Redis: %s\n",
	        reader->errstr);
	return -1;
}
