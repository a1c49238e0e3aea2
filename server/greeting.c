/* greeting.c: hello, then a snapshot or the messages after a resume point. */
#include "greeting.h"

#include "app.h"
#include "changelog.h"
#include "fanout.h"
#include "history.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "seq.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int
greeting_prepare(struct app *app, const struct topic_filter *f,
                 const char *since, struct msg *out[2], uint64_t *next)
{
	struct msg **items, *newest = fan_newest(app->fan);
	struct seq at;
	uint64_t pos = 0;
	int resync = 0;
	long n;

	out[0] = out[1] = NULL;
	if (since && *since) {
		if (!seq_parse(since, strlen(since), &at))
			pos = fan_find(app->fan, &at);
		resync = !pos;
		if (resync) {
			metrics.resyncs++;
			log_info("resume point %.42s not held: resync", since);
		}
	}
	out[0] = msg_new_hello(f, time(NULL), changelog_epoch(app->log));
	if (!out[0])
		return -1;
	if (pos) {
		*next = pos + 1;
		return 0;
	}
	n = history_collect(app->history, f, &items);
	if (n >= 0) {
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
