/* session.c: a client's greeting (hello, then a snapshot or what follows its
 * resume point), its joining and its leaving. */
#include "session.h"

#include "access.h"
#include "app.h"
#include "changelog.h"
#include "fanout.h"
#include "feed.h"
#include "history.h"
#include "keepalive.h"
#include "isotime.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "seq.h"
#include "since.h"
#include "csock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int
greeting_prepare(struct app *app, const struct session_start *start,
                 struct msg *out[2], uint64_t *next)
{
	const struct topic_filter *f = &start->filter;
	const char *since = start->since;
	struct msg **items, *newest;
	uint64_t pos = 0;
	int resync = 0;
	long n;

	out[0] = out[1] = NULL;
	/* Positions below are only right with nothing waiting to be sent. */
	fan_flush(app->fan);
	newest = fan_newest(app->fan);
	if (since && *since) {
		struct since at;

		since_parse(since, isotime_now_ms(), &at);
		if (at.kind == SINCE_SEQ)
			pos = fan_find(app->fan, &at.seq);
		else if (at.kind == SINCE_TIME)
			pos = fan_find_time(app->fan, at.ms);
		resync = !pos;
		if (resync) {
			metrics.resyncs++;
			log_info("resume point not held: resync");
		}
	}
	out[0] =
	    msg_new_hello_access(f, time(NULL), changelog_epoch(app->log),
	                         feed_told(app->feed), access_hello, start);
	if (!out[0])
		return -1;
	if (pos) {
		*next = pos + 1;
		return 0;
	}
	/* Newcomers together share one snapshot: made once, not each. */
	if (!resync)
		out[1] = fan_snapshot(app->fan, f);
	n = out[1] ? 0 : history_collect(app->history, f, &items);
	if (!out[1] && n >= 0) {
		out[1] = msg_new_snapshot(items, (size_t)n,
		                          newest ? &newest->seq : NULL, resync);
		free(items);
	}
	if (!out[1]) {
		msg_unref(out[0]);
		out[0] = NULL;
		return -1;
	}
	*next = fan_head(app->fan) + 1;
	return 0;
}

struct msg *
session_snapshot(struct app *app, const struct topic_filter *f)
{
	struct msg **items, *newest, *m;
	long n;

	fan_flush(app->fan);
	m = fan_snapshot(app->fan, f);
	if (m)
		return m;
	newest = fan_newest(app->fan);
	n = history_collect(app->history, f, &items);
	if (n < 0)
		return NULL;
	m = msg_new_snapshot(items, (size_t)n, newest ? &newest->seq : NULL, 0);
	free(items);
	return m;
}

int
session_open(struct app *app, struct session *s, struct csock *cs,
             enum fan_kind kind, const struct session_start *start)
{
	const char *ip = start->ip;
	struct msg *greeting[2];
	uint64_t next;

	if (greeting_prepare(app, start, greeting, &next) ||
	    fan_attach(app->fan, &s->fan, csock_conn(cs), kind, &start->filter,
	               next, greeting)) {
		log_err("out of memory for a new client");
		return -1;
	}
	s->attached = 1;
	s->token_exp = start->token_exp;
	keepalive_heard(&s->fan,
	                keepalive_now(&app->loop)); /* quiet from now */
	metrics.clients++;
	guard_join(app->guard, &s->guard, ip);
	return 0;
}

void
session_close(struct app *app, struct session *s)
{
	access_close(s);
	if (!s->attached)
		return;
	fan_detach(app->fan, &s->fan);
	guard_leave(app->guard, &s->guard);
	metrics.clients--;
	s->attached = 0;
}

int
session_writeable(struct app *app, struct session *s)
{
	return fan_writeable(app->fan, &s->fan);
}

int
session_adopted(struct csock *cs, enum fan_kind kind,
                const struct session_start *start)
{
	struct app *app = csock_app(cs);
	struct session *s = csock_owner(cs);

	if (kind == FAN_WS && start->deflate_bits)
		kind = fan_kind_deflate(start->deflate_bits);
	if (session_open(app, s, cs, kind, start) ||
	    fan_greet(app->fan, &s->fan, (const unsigned char *)start->head,
	              start->head_len)) {
		csock_close_soon(cs);
		return -1;
	}
	return 0;
}
