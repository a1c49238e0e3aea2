/* metrics.c: storage for the process's counters. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct metrics metrics;

void
metrics_reject(enum item_reason reason)
{
	metrics.rejected++;
	if (reason > ITEM_OK && reason < ITEM_REASON_COUNT)
		metrics.rejected_by[reason]++;
}

/* A growing text buffer; on ENOMEM it stops growing and says so. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0 || t->failed)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *bigger = realloc(t->buf, t->cap * 2);

		if (!bigger) {
			t->failed = 1;
			return;
		}
		t->buf = bigger;
		t->cap *= 2;
	}
}

/* One metric: HELP, TYPE and a single unlabelled sample. */
static void
add_metric(struct text *t, const char *name, const char *type, const char *help,
           unsigned long long value)
{
	add(t, "# HELP tickerd_%s %s\n# TYPE tickerd_%s %s\ntickerd_%s %llu\n",
	    name, help, name, type, name, value);
}

/* The plain counters: one sample each, straight from struct metrics. */
static const struct {
	const char *name, *help;
	const uint64_t *value;
} counters[] = {
    {"payloads_received_total", "Payloads heard on the pub/sub channels.",
     &metrics.received},
    {"items_published_total", "Items and updates sent to the screens.",
     &metrics.published},
    {"items_retracted_total", "Retractions sent to the screens.",
     &metrics.retracted},
    {"items_duplicate_total", "Repeats and stale versions ignored.",
     &metrics.duplicates},
    {"deliveries_total", "Messages written to clients.", &metrics.deliveries},
    {"writes_total",
     "Writes to clients; one carries every message a client is due at that "
     "moment.",
     &metrics.writes},
    {"pings_total", "Keep-alive pings sent to quiet WebSocket clients.",
     &metrics.pings},
    {"clients_silent_total",
     "WebSocket clients hung up on for not answering pings.", &metrics.silent},
    {"clients_culled_total",
     "Clients dropped for falling behind: more than the ring, or (also "
     "counted in tickerd_clients_culled_unsent_total) owed more than the "
     "unsent bound and taking none of it.",
     &metrics.culled},
    {"clients_culled_unsent_total",
     "Clients dropped for being owed more than 1 MiB (what lws holds for "
     "them and the rest of their greeting) and taking none of it for 7 s.",
     &metrics.culled_unsent},
    {"log_gaps_total",
     "Times log entries were trimmed before this instance read them (every "
     "client was sent a resync snapshot).",
     &metrics.log_gaps},
    {"log_entries_lost_total",
     "Log entries trimmed before this instance read them.",
     &metrics.lost_entries},
    {"resyncs_total", "Resume points no longer held: resync snapshot sent.",
     &metrics.resyncs},
    {"redis_subscriptions_total",
     "Times the pub/sub subscription was (re)established.",
     &metrics.redis_connects},
    {"accept_pauses_total",
     "Times tickerd ran out of file descriptors and stopped accepting "
     "connections for 100 ms (they wait in the kernel's queue).",
     &metrics.accept_pauses},
    {"record_errors_total",
     "Payloads Redis refused to record, or that could not wait.",
     &metrics.record_errors},
    {"redis_data_lost_total",
     "Times Redis was found to have lost its data (new epoch).",
     &metrics.epoch_changes},
};

char *
metrics_prometheus(size_t head, int *len, int redis_ok, size_t items,
                   uint64_t ring_used, uint64_t ring_capacity)
{
	static const char *const refusals[GUARD_REFUSAL_COUNT] = {
	    [GUARD_ORIGIN] = "origin",
	    [GUARD_FULL] = "max_clients",
	    [GUARD_PER_IP] = "max_per_ip",
	};
	struct text t = {.cap = head + 4096};

	t.buf = malloc(t.cap);
	if (!t.buf)
		return NULL;
	t.len = head;
	add_metric(&t, "up_seconds", "gauge", "Seconds since start.",
	           (unsigned long long)(time(NULL) - metrics.started));
	add_metric(&t, "redis_up", "gauge",
	           "1 when every Redis connection answers.",
	           (unsigned long long)redis_ok);
	add_metric(&t, "clients", "gauge",
	           "WebSocket and EventSource clients connected.",
	           (unsigned long long)metrics.clients);
	add_metric(&t, "history_items", "gauge", "Items kept for snapshots.",
	           (unsigned long long)items);
	add_metric(&t, "ring_used", "gauge", "Messages held in the ring.",
	           (unsigned long long)ring_used);
	add_metric(&t, "ring_capacity", "gauge",
	           "Messages the ring can hold (the resume window).",
	           (unsigned long long)ring_capacity);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		add_metric(&t, counters[i].name, "counter", counters[i].help,
		           (unsigned long long)*counters[i].value);
	add(&t, "# HELP tickerd_payloads_rejected_total Payloads rejected, "
	        "by reason.\n# TYPE tickerd_payloads_rejected_total "
	        "counter\n");
	for (int r = ITEM_OK + 1; r < ITEM_REASON_COUNT; r++)
		add(&t, "tickerd_payloads_rejected_total{reason=\"%s\"} %llu\n",
		    item_reason_name((enum item_reason)r),
		    (unsigned long long)metrics.rejected_by[r]);
	add(&t, "# HELP tickerd_handshakes_refused_total Handshakes turned "
	        "away, by reason.\n# TYPE tickerd_handshakes_refused_total "
	        "counter\n");
	for (int r = GUARD_OK + 1; r < GUARD_REFUSAL_COUNT; r++)
		add(&t,
		    "tickerd_handshakes_refused_total{reason=\"%s\"} %llu\n",
		    refusals[r], (unsigned long long)metrics.refused[r]);
	add(&t,
	    "# HELP tickerd_clients_closed_total Clients closed for what "
	    "they sent, by close code.\n# TYPE tickerd_clients_closed_total "
	    "counter\n"
	    "tickerd_clients_closed_total{code=\"1008\"} %llu\n"
	    "tickerd_clients_closed_total{code=\"1009\"} %llu\n",
	    (unsigned long long)metrics.closed_too_fast,
	    (unsigned long long)metrics.closed_too_big);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = (int)(t.len - head);
	return t.buf;
}
