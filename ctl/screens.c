/* screens.c: tickerctl screens: tickerd's GET /screens as a table. */
#include "ctl.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define ANSWER_MAX (4 * 1024 * 1024) /* 256 screens take ~100 KB */

/*
 * Connect to HOST:PORT ([V6]:PORT; "*" or an empty host: 127.0.0.1), with
 * 5 s to connect, send and read.  The socket, or -1 (said).
 */
static int
dial(const char *where)
{
	char host[256];
	const char *colon = strrchr(where, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
	struct timeval tv = {.tv_sec = 5};
	size_t len = colon ? (size_t)(colon - where) : 0;
	int fd = -1;

	if (len && where[0] == '[' && where[len - 1] == ']')
		where++, len -= 2;
	if (!colon || len >= sizeof(host) || !colon[1]) {
		ctl_say("--tickerd \"%s\": HOST:PORT", where);
		return -1;
	}
	memcpy(host, where, len);
	host[len] = '\0';
	if (!len || !strcmp(host, "*"))
		strcpy(host, "127.0.0.1");
	if (getaddrinfo(host, colon + 1, &hints, &ai)) {
		ctl_say("tickerd at %s: no such address", where);
		return -1;
	}
	for (a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		ctl_say("tickerd at %s: %m", where);
	return fd;
}

/*
 * GET /screens from tickerd at where: its JSON (a new reference), or NULL
 * (said).
 */
static json_t *
fetch(const char *where)
{
	static const char req[] = "GET /screens HTTP/1.0\r\n"
	                          "Host: tickerd\r\n\r\n";
	char *buf = malloc(ANSWER_MAX + 1), *body;
	size_t len = 0;
	ssize_t n = 0;
	json_t *o = NULL;
	int fd = dial(where);

	if (fd < 0 || !buf || send(fd, req, sizeof(req) - 1, 0) < 0)
		goto done;
	while (len < ANSWER_MAX &&
	       (n = recv(fd, buf + len, ANSWER_MAX - len, 0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (n < 0 || strncmp(buf, "HTTP/1.1 200 ", 13) || !body) {
		ctl_say("tickerd at %s: %s", where,
		        n < 0 ? "no answer" : "GET /screens failed");
		goto done;
	}
	o = json_loads(body + 4, 0, NULL);
	if (!json_is_array(json_object_get(o, "screens"))) {
		ctl_say("tickerd at %s: /screens is not what it should be",
		        where);
		json_decref(o);
		o = NULL;
	}
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	return o;
}

/* "a,b" from a JSON array of topics, "*" for none (every topic). */
static void
topics_text(json_t *topics, char *out, size_t len)
{
	size_t i, n = 0;
	json_t *t;

	snprintf(out, len, "*");
	json_array_foreach(topics, i, t)
	{
		if (n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s",
			                      i ? "," : "",
			                      json_string_value(t));
	}
}

/* One screen's line, its name in a column width wide; 1 if it is stale. */
static int
print_screen(json_t *s, int width)
{
	const char *seq = json_string_value(json_object_get(s, "seq"));
	const char *why = json_string_value(json_object_get(s, "stale_reason"));
	char topics[256], state[32];

	topics_text(json_object_get(s, "topics"), topics, sizeof(topics));
	snprintf(state, sizeof(state), "%s%s%s",
	         json_is_true(json_object_get(s, "connected")) ? "" : "gone,",
	         why ? "stale:" : "ok", why ? why : "");
	printf(
	    "%-*s %-18s %-24s %7lld %6lld %-7s %-15s %-20s %s\n", width,
	    json_string_value(json_object_get(s, "name")), state,
	    seq ? seq : "-",
	    (long long)json_integer_value(json_object_get(s, "lag_messages")),
	    (long long)json_integer_value(json_object_get(s, "lag_s")),
	    json_is_true(json_object_get(s, "visible")) ? "yes" : "no",
	    json_string_value(json_object_get(s, "address")),
	    json_string_value(json_object_get(s, "last_heard")), topics);
	return why != NULL;
}

int
ctl_screens(struct ctl *c)
{
	json_t *o = fetch(c->tickerd), *list, *s;
	size_t i;
	int stale = 0, width = 20;

	if (!o)
		return CTL_UNREACHABLE;
	list = json_object_get(o, "screens");
	json_array_foreach(list, i, s)
	{
		int n = (int)json_string_length(json_object_get(s, "name"));

		if (n > width)
			width = n;
	}
	printf("%-*s %-18s %-24s %7s %6s %-7s %-15s %-20s %s\n", width, "NAME",
	       "STATE", "SEQ", "LAG", "LAG_S", "VISIBLE", "ADDRESS",
	       "LAST_HEARD", "TOPICS");
	json_array_foreach(list, i, s) stale += print_screen(s, width);
	json_decref(o);
	return stale ? CTL_REFUSED : CTL_DONE;
}
