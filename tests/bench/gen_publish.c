/* gen_publish.c: a minimal RESP / HTTP writer on a non-blocking socket. */
#include "gen_publish.h"

#include "gen.h"
#include "marker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PUB_REDIS, PUB_HTTP };

static int fd = -1, mode, want_out;
static char where[128]; /* channel or path */
static unsigned item_size;
static char *out;
static size_t out_len, out_off, out_cap;
static uint64_t acked, errors, nonce;
static uint8_t at_line_start = 1; /* RESP reply scanner */
static uint8_t http_match;        /* progress through "HTTP/1.1 " */

static int port;
static uint64_t sent; /* items handed to the socket's buffer */

/* Connect (blocking) to the publisher's port and watch the socket. */
static int
pub_connect(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TAG_PUB};
	int one = 1;

	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "tickbench: publisher port %d: %s\n", port,
		        strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){1 << 20}, sizeof(int));
	want_out = 0;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int
pub_open(const char *spec, unsigned size)
{
	char kind[8];

	if (sscanf(spec, "%7[a-z]:%d:%127s", kind, &port, where) != 3 ||
	    (strcmp(kind, "redis") && strcmp(kind, "http"))) {
		fprintf(stderr, "tickbench: bad --pub %s\n", spec);
		return -1;
	}
	mode = strcmp(kind, "redis") ? PUB_HTTP : PUB_REDIS;
	item_size = size;
	nonce = (uint64_t)getpid();
	return pub_connect();
}

/* Append n bytes to the output buffer. */
static void
put(const void *p, size_t n)
{
	if (out_len + n > out_cap) {
		out_cap = (out_len + n) * 2;
		out = realloc(out, out_cap);
		if (!out) {
			fprintf(stderr, "tickbench: out of memory\n");
			exit(1);
		}
	}
	memcpy(out + out_len, p, n);
	out_len += n;
}

/* Write what the socket takes; wait for EPOLLOUT for the rest. */
static void
flush(void)
{
	int want;

	while (out_off < out_len) {
		ssize_t n = send(fd, out + out_off, out_len - out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "tickbench: publish: %s\n",
				        strerror(errno));
				exit(1);
			}
			break;
		}
		out_off += (size_t)n;
	}
	if (out_off == out_len)
		out_off = out_len = 0;
	want = out_len != 0;
	if (want != want_out) {
		struct epoll_event ev = {.events =
		                             EPOLLIN | (want ? EPOLLOUT : 0u),
		                         .data.u32 = TAG_PUB};

		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
		want_out = want;
	}
}

/* The JSON payload: exactly item_size bytes when that is room enough. */
static int
format_item(char *buf, size_t cap, uint32_t seq, uint64_t sched,
            enum pub_kind kind)
{
	static const char *const id_tag[] = {"", "p", "m"};
	int n = snprintf(buf, cap,
	                 "{\"id\":\"b%llu-%s%u\",\"headline\":\"%s%u:%llu; ",
	                 (unsigned long long)nonce, id_tag[kind], seq,
	                 kind == PUB_PREFILL ? "PREFILL:" : MARKER_TAG, seq,
	                 (unsigned long long)sched);

	for (; (size_t)n + 2 < item_size && (size_t)n + 3 < cap; n++)
		buf[n] = (char)('a' + n % 26);
	memcpy(buf + n, "\"}", 3);
	return n + 2;
}

void
pub_item(uint32_t seq, uint64_t sched_ns, enum pub_kind kind)
{
	char payload[4096], head[256];
	int len = format_item(payload, sizeof(payload), seq, sched_ns, kind),
	    hl;

	if (mode == PUB_REDIS)
		hl = snprintf(head, sizeof(head),
		              "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%d\r\n",
		              strlen(where), where, len);
	else
		hl = snprintf(head, sizeof(head),
		              "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		              "Content-Type: text/plain\r\n"
		              "Content-Length: %d\r\n\r\n",
		              where, len);
	put(head, (size_t)hl);
	put(payload, (size_t)len);
	sent++;
	if (mode == PUB_REDIS)
		put("\r\n", 2);
	flush();
}

/* Count replies: RESP lines starting ':' (or '-'), HTTP status lines. */
static void
scan_replies(const uint8_t *p, size_t n)
{
	static const char st[] = "HTTP/1.1 ";

	for (size_t i = 0; i < n; i++) {
		if (mode == PUB_REDIS) {
			if (at_line_start && p[i] == ':')
				acked++;
			else if (at_line_start && p[i] == '-')
				acked++, errors++;
			at_line_start = p[i] == '\n';
		} else if (http_match == sizeof(st) - 1) {
			acked++;
			errors += p[i] != '2';
			http_match = 0;
		} else if (p[i] == (uint8_t)st[http_match]) {
			http_match++;
		} else {
			http_match = p[i] == 'H';
		}
	}
}

void
pub_event(uint32_t events)
{
	uint8_t buf[65536];
	ssize_t n;

	if (events & EPOLLOUT)
		flush();
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		scan_replies(buf, (size_t)n);
		return;
	}
	/*
	 * An HTTP server may close an idle keep-alive connection (nginx does
	 * when its connections run short): connect again.  Requests it had
	 * not answered count as errors.  Redis closing is fatal.
	 */
	close(fd);
	if (mode != PUB_HTTP || pub_connect()) {
		fprintf(stderr, "tickbench: publisher connection closed\n");
		exit(1);
	}
	errors += sent - acked;
	acked = sent;
	http_match = 0;
	out_off = out_len = 0;
}

uint64_t
pub_acked(void)
{
	return acked;
}

uint64_t
pub_errors(void)
{
	return errors;
}
