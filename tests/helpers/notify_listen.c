/* notify_listen.c: a systemd NOTIFY_SOCKET for the tests, printing what it is
 * sent. */
/*
 * notify-listen PATH: binds a Unix datagram socket at PATH (as systemd's
 * NOTIFY_SOCKET), prints "listening", then one line per datagram:
 * CLOCK_MONOTONIC in microseconds at receipt, then each of the datagram's
 * lines after a tab ("123456789\tWATCHDOG=1\tSTATUS=..."), flushed at once.
 * Runs until killed; exits 1 if it cannot bind.  (Node has no AF_UNIX
 * datagram sockets.)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char buf[4096];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: notify-listen PATH (< %zu bytes)\n",
		        sizeof(addr.sun_path));
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("notify-listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		struct timespec now;

		if (n < 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n' || buf[i] == '\t')
				buf[i] = '\t';
		printf("%llu\t%s\n",
		       (unsigned long long)now.tv_sec * 1000000ull +
		           (unsigned long long)now.tv_nsec / 1000,
		       buf);
		fflush(stdout);
	}
}
