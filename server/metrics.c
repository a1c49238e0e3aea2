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
	add_metric(&t, "payloads_received_total", "counter",
	           "Payloads heard on the pub/sub channels.",
	           (unsigned long long)metrics.received);
	add(&t, "# HELP tickerd_payloads_rejected_total Payloads rejected, "
	        "by reason.\n# TYPE tickerd_payloads_rejected_total "
	        "counter\n");
	for (int r = ITEM_OK + 1; r < ITEM_REASON_COUNT; r++)
		add(&t, "tickerd_payloads_rejected_total{reason=\"%s\"} %llu\n",
		    item_reason_name((enum item_reason)r),
		    (unsigned long long)metrics.rejected_by[r]);
	add_metric(&t, "items_published_total", "counter",
	           "Items and updates sent to the screens.",
	           (unsigned long long)metrics.published);
	add_metric(&t, "items_retracted_total", "counter",
	           "Retractions sent to the screens.",
	           (unsigned long long)metrics.retracted);
	add_metric(&t, "items_duplicate_total", "counter",
	           "Repeats and stale versions ignored.",
	           (unsigned long long)metrics.duplicates);
	add_metric(&t, "deliveries_total", "counter",
	           "Messages written to clients.",
	           (unsigned long long)metrics.deliveries);
	add_metric(&t, "writes_total", "counter",
	           "Writes to clients; one carries every message a client is "
	           "due at that moment.",
	           (unsigned long long)metrics.writes);
	add_metric(&t, "pings_total", "counter",
	           "Keep-alive pings sent to quiet WebSocket clients.",
	           (unsigned long long)metrics.pings);
	add_metric(&t, "clients_silent_total", "counter",
	           "WebSocket clients hung up on for not answering pings.",
	           (unsigned long long)metrics.silent);
	add_metric(&t, "clients_culled_total", "counter",
	           "Clients dropped for falling behind the ring.",
	           (unsigned long long)metrics.culled);
	add_metric(&t, "log_gaps_total", "counter",
	           "Times log entries were trimmed before this instance read "
	           "them (every client was sent a resync snapshot).",
	           (unsigned long long)metrics.log_gaps);
	add_metric(&t, "log_entries_lost_total", "counter",
	           "Log entries trimmed before this instance read them.",
	           (unsigned long long)metrics.lost_entries);
	add_metric(&t, "resyncs_total", "counter",
	           "Resume points no longer held: resync snapshot sent.",
	           (unsigned long long)metrics.resyncs);
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
	add_metric(&t, "redis_subscriptions_total", "counter",
	           "Times the pub/sub subscription was (re)established.",
	           (unsigned long long)metrics.redis_connects);
	add_metric(&t, "accept_pauses_total", "counter",
	           "Times tickerd ran out of file descriptors and stopped "
	           "accepting connections for 100 ms (they wait in the "
	           "kernel's queue).",
	           (unsigned long long)metrics.accept_pauses);
	add_metric(&t, "record_errors_total", "counter",
	           "Payloads Redis refused to record, or that could not wait.",
	           (unsigned long long)metrics.record_errors);
	add_metric(&t, "redis_data_lost_total", "counter",
	           "Times Redis was found to have lost its data (new epoch).",
	           (unsigned long long)metrics.epoch_changes);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = (int)(t.len - head);
	return t.buf;
}
