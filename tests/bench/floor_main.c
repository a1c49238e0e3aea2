/*
 * floor_main.c: the raw floor, a yardstick for tickerd.  One epoll loop:
 * it PSUBSCRIBEs to Redis as tickerd does, builds each frame once and
 * send()s it to every upgraded client, queueing only what a socket refuses.
 * No parsing, no history, no per-client work beyond the send.
 *
 * With --reuse-port (argument 4) it shares its port with other floor
 * processes (SO_REUSEPORT), one per core, as tickerd --reuse-port does:
 * the kernel spreads connections over them and each subscribes to Redis
 * and delivers every item to its own clients.
 */
#include "floor.h"

#include "floor_ws.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

int epfd;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	static struct epoll_event ev[1024];
	const char *pattern = argc > 3 ? argv[3] : "ticker:*";
	int reuse_port = argc > 4 && !strcmp(argv[4], "--reuse-port");
	struct rlimit rl;
	int lfd, rfd;

	if (argc < 3) {
		fprintf(stderr, "usage: floor PORT REDIS_PORT [PATTERN "
		                "[--reuse-port]]\n");
		return 2;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	lfd = fc_listen(atoi(argv[1]), reuse_port);
	rfd = fr_open(atoi(argv[2]), pattern);
	if (epfd < 0 || lfd < 0 || rfd < 0) {
		fprintf(stderr,
		        "floor: cannot listen on %s or reach Redis on "
		        "%s: %s\n",
		        argv[1], argv[2], strerror(errno));
		return 1;
	}
	ws_preload();
	fprintf(stderr,
	        "floor: listening on 127.0.0.1:%s%s, subscribed to %s\n",
	        argv[1], reuse_port ? " (SO_REUSEPORT)" : "", pattern);
	while (!stop) {
		int n = epoll_wait(epfd, ev, 1024, -1);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == lfd)
				fc_accept();
			else if (fd == rfd && fr_event()) {
				fprintf(stderr, "floor: lost Redis\n");
				return 1;
			} else if (fd != rfd)
				fc_event(fd, ev[i].events);
		}
	}
	fprintf(stderr, "floor: exiting with %u clients, %lu served\n",
	        fc_count(), fc_upgraded());
	return 0;
}
