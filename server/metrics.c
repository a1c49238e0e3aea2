/* metrics.c: storage for the process's counters. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct metrics metrics;

const int metrics_statuses[METRICS_STATUSES] = {
    101, 200, 201, 304, 400, 401, 403, 404, 405, 408,
    409, 411, 413, 426, 429, 431, 500, 503, 505};

const int metrics_api_statuses[METRICS_API_STATUSES] = {
    200, 201, 400, 401, 403, 404, 405, 409, 411, 413, 429, 503};

void
metrics_api(int status)
{
	for (size_t i = 0; i < METRICS_API_STATUSES; i++)
		if (metrics_api_statuses[i] == status) {
			metrics.api_requests[i]++;
			return;
		}
}

void
metrics_response(int status)
{
	for (size_t i = 0; i < METRICS_STATUSES; i++)
		if (metrics_statuses[i] == status) {
			metrics.responses[i]++;
			return;
		}
}

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

/* The per-topic families other modules keep (metrics_topic_family()). */
static struct {
	const char *name, *type, *help;
	metrics_topics_fn fn;
	const void *arg;
} topic_families[METRICS_TOPIC_FAMILIES];
static int n_topic_families;

int
metrics_topic_family(const char *name, const char *type, const char *help,
                     metrics_topics_fn fn, const void *arg)
{
	if (n_topic_families == METRICS_TOPIC_FAMILIES)
		return -1;
	topic_families[n_topic_families].name = name;
	topic_families[n_topic_families].type = type;
	topic_families[n_topic_families].help = help;
	topic_families[n_topic_families].fn = fn;
	topic_families[n_topic_families].arg = arg;
	n_topic_families++;
	return 0;
}

/* What a family's fn emits: one sample, for the family being written. */
struct topic_emit {
	struct text *t;
	const char *name;
};

static void
emit_topic(void *ctx, const char *topic, uint64_t value)
{
	struct topic_emit *e = ctx;

	/* Topics are A-Z a-z 0-9 _ . - (or "*"): nothing to escape. */
	add(e->t, "tickerd_%s{topic=\"%s\"} %llu\n", e->name, topic,
	    (unsigned long long)value);
}

static void
add_topic_families(struct text *t)
{
	for (int i = 0; i < n_topic_families; i++) {
		struct topic_emit e = {t, topic_families[i].name};

		add(t, "# HELP tickerd_%s %s\n# TYPE tickerd_%s %s\n", e.name,
		    topic_families[i].help, e.name, topic_families[i].type);
		topic_families[i].fn(topic_families[i].arg, emit_topic, &e);
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

/*
 * The plain counters: one sample each in /metrics (prom: its name after
 * "tickerd_"), and in /healthz those with a health name.
 */
static const struct {
	const char *prom, *help, *health;
	const uint64_t *value;
} counters[] = {
    {"payloads_received_total", "Payloads heard on the pub/sub channels.",
     "received", &metrics.received},
    {"items_published_total", "Items and updates sent to the screens.",
     "published", &metrics.published},
    {"items_retracted_total", "Retractions sent to the screens.", "retracted",
     &metrics.retracted},
    {NULL, NULL, "rejected", &metrics.rejected}, /* by reason in /metrics */
    {"items_duplicate_total", "Repeats and stale versions ignored.",
     "duplicates", &metrics.duplicates},
    {"deliveries_total", "Messages written to clients.", "deliveries",
     &metrics.deliveries},
    {"writes_total",
     "Writes to clients; one carries every message a client is due at that "
     "moment.",
     NULL, &metrics.writes},
    {"pings_total", "Keep-alive pings sent to quiet WebSocket clients.", NULL,
     &metrics.pings},
    {"clients_silent_total",
     "WebSocket clients hung up on for not answering pings.", NULL,
     &metrics.silent},
    {"clients_culled_total",
     "Clients dropped for falling behind: more than the ring, or (also "
     "counted in tickerd_clients_culled_unsent_total) owed more than the "
     "unsent bound and taking none of it.",
     "culled", &metrics.culled},
    {"clients_culled_unsent_total",
     "Clients dropped for being owed more than 1 MiB (what lws holds for "
     "them and the rest of their greeting) and taking none of it for 7 s.",
     NULL, &metrics.culled_unsent},
    {"log_gaps_total",
     "Times log entries were trimmed before this instance read them (every "
     "client was sent a resync snapshot).",
     NULL, &metrics.log_gaps},
    {"log_entries_lost_total",
     "Log entries trimmed before this instance read them.", NULL,
     &metrics.lost_entries},
    {"resyncs_total", "Resume points no longer held: resync snapshot sent.",
     "resyncs", &metrics.resyncs},
    {"redis_subscriptions_total",
     "Times the pub/sub subscription was (re)established.", NULL,
     &metrics.redis_connects},
    {"accept_pauses_total",
     "Times tickerd ran out of file descriptors and stopped accepting "
     "connections for 100 ms (they wait in the kernel's queue).",
     NULL, &metrics.accept_pauses},
    {"record_errors_total",
     "Payloads Redis refused to record, or that could not wait.",
     "record_errors", &metrics.record_errors},
    {"redis_data_lost_total",
     "Times Redis was found to have lost its data (new epoch).", NULL,
     &metrics.epoch_changes},
    {"redis_master_switches_total",
     "Times tickerd moved to a new Redis master (Sentinel or Cluster "
     "failover).",
     "master_switches", &metrics.master_switches},
    {"records_resent_total",
     "Records sent to Redis again with their token after a lost answer, a "
     "failover or a \"not the master\" error (each is recorded once).",
     "records_resent", &metrics.records_resent},
    {"log_rollbacks_total",
     "Times the log was found behind what this instance had read (a "
     "failover lost entries): history rebuilt, every client resynced.",
     "log_rollbacks", &metrics.log_rollbacks},
    {"dead_air_total",
     "Times a topic went longer than its --dead-air without an item.", NULL,
     &metrics.dead_airs},
    {"feed_degraded_total",
     "Times clients were told the feed is degraded (Redis away for 2 s "
     "or more: headlines may be out of date).",
     "degradations", &metrics.feed_degradations},
    {"feed_degraded_seconds_total",
     "Seconds clients were told the feed is degraded, in all.", "degraded_s",
     &metrics.feed_degraded_s},
    {"screen_reports_total", "Named screens' reports taken.", NULL,
     &metrics.screen_reports},
    {"screens_stale_total",
     "Times a named screen turned stale (silent or lagging past "
     "--stale-after).",
     NULL, &metrics.screens_stale_total},
    {"ws_deflate_total",
     "WebSocket upgrades that negotiated permessage-deflate (--compress).",
     NULL, &metrics.ws_deflate},
    {"messages_deflated_total",
     "Messages compressed for permessage-deflate clients: once per message "
     "and window size, whatever the number of clients.",
     NULL, &metrics.deflated},
};

int
metrics_health(json_t *o)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (counters[i].health &&
		    json_object_set_new(
		        o, counters[i].health,
		        json_integer((json_int_t)*counters[i].value)))
			return -1;
	return 0;
}

/* The families with a label: by reason, by close code, by status. */
static void
add_labelled(struct text *t)
{
	add(t, "# HELP tickerd_payloads_rejected_total Payloads rejected, "
	       "by reason.\n# TYPE tickerd_payloads_rejected_total "
	       "counter\n");
	for (int r = ITEM_OK + 1; r < ITEM_REASON_COUNT; r++)
		add(t, "tickerd_payloads_rejected_total{reason=\"%s\"} %llu\n",
		    item_reason_name((enum item_reason)r),
		    (unsigned long long)metrics.rejected_by[r]);
	add(t, "# HELP tickerd_handshakes_refused_total Handshakes turned "
	       "away, by reason.\n# TYPE tickerd_handshakes_refused_total "
	       "counter\n");
	for (int r = GUARD_OK + 1; r < GUARD_REFUSAL_COUNT; r++)
		add(t, "tickerd_handshakes_refused_total{reason=\"%s\"} %llu\n",
		    guard_refusal_name((enum guard_refusal)r),
		    (unsigned long long)metrics.refused[r]);
	add(t,
	    "# HELP tickerd_clients_closed_total Clients closed for what "
	    "they sent, by close code.\n# TYPE tickerd_clients_closed_total "
	    "counter\n"
	    "tickerd_clients_closed_total{code=\"1002\"} %llu\n"
	    "tickerd_clients_closed_total{code=\"1007\"} %llu\n"
	    "tickerd_clients_closed_total{code=\"1008\"} %llu\n"
	    "tickerd_clients_closed_total{code=\"1009\"} %llu\n",
	    (unsigned long long)metrics.closed_protocol,
	    (unsigned long long)metrics.closed_bad_utf8,
	    (unsigned long long)metrics.closed_too_fast,
	    (unsigned long long)metrics.closed_too_big);
	add(t, "# HELP tickerd_screen_reports_refused_total Named screens' "
	       "reports refused or ignored, by reason.\n# TYPE "
	       "tickerd_screen_reports_refused_total counter\n");
	for (int r = SCREEN_OK + 1; r < SCREEN_REFUSAL_COUNT; r++)
		add(t,
		    "tickerd_screen_reports_refused_total{reason=\"%s\"} "
		    "%llu\n",
		    screen_refusal_name((enum screen_refusal)r),
		    (unsigned long long)metrics.screen_refused[r]);
	add(t, "# HELP tickerd_token_refusals_total Readers' tokens refused, "
	       "and private topics asked for without one, by reason.\n# TYPE "
	       "tickerd_token_refusals_total counter\n");
	for (int r = TOKEN_OK + 1; r < TOKEN_REASONS; r++)
		add(t, "tickerd_token_refusals_total{reason=\"%s\"} %llu\n",
		    token_reason_name((enum token_reason)r),
		    (unsigned long long)metrics.token_refused[r]);
	add(t, "# HELP tickerd_api_requests_total Requests to the publish "
	       "API (/api/items), by status.\n# TYPE "
	       "tickerd_api_requests_total counter\n");
	for (size_t i = 0; i < METRICS_API_STATUSES; i++)
		add(t, "tickerd_api_requests_total{status=\"%d\"} %llu\n",
		    metrics_api_statuses[i],
		    (unsigned long long)metrics.api_requests[i]);
	add(t, "# HELP tickerd_http_responses_total HTTP responses tickerd "
	       "wrote itself, by status.\n# TYPE tickerd_http_responses_total "
	       "counter\n");
	for (size_t i = 0; i < METRICS_STATUSES; i++)
		add(t, "tickerd_http_responses_total{code=\"%d\"} %llu\n",
		    metrics_statuses[i],
		    (unsigned long long)metrics.responses[i]);
}

char *
metrics_prometheus(size_t head, int *len, const struct metrics_gauges *g)
{
	struct text t = {.cap = head + 4096};

	t.buf = malloc(t.cap);
	if (!t.buf)
		return NULL;
	t.len = head;
	add_metric(&t, "up_seconds", "gauge", "Seconds since start.",
	           (unsigned long long)(time(NULL) - metrics.started));
	add_metric(&t, "redis_up", "gauge",
	           "1 when every Redis connection answers.",
	           (unsigned long long)g->redis_ok);
	add_metric(&t, "feed_degraded", "gauge",
	           "1 while clients are told the feed is degraded.",
	           (unsigned long long)metrics.feed_degraded);
	add_metric(&t, "items_held", "gauge",
	           "Embargoed items waiting for their release.",
	           (unsigned long long)metrics.held);
	add_metric(&t, "records_unconfirmed", "gauge",
	           "Records the master took that no replica has confirmed "
	           "yet (kept, to be sent again after a failover).",
	           (unsigned long long)metrics.records_unconfirmed);
	add_metric(&t, "clients", "gauge",
	           "WebSocket and EventSource clients connected.",
	           (unsigned long long)metrics.clients);
	add_metric(&t, "history_items", "gauge", "Items kept for snapshots.",
	           (unsigned long long)g->items);
	add_metric(&t, "ring_used", "gauge", "Messages held in the ring.",
	           (unsigned long long)g->ring_used);
	add_metric(&t, "ring_capacity", "gauge",
	           "Messages the ring can hold (the resume window).",
	           (unsigned long long)g->ring_capacity);
	add_metric(&t, "screens_connected", "gauge", "Named screens connected.",
	           (unsigned long long)g->screens);
	add_metric(&t, "screens_stale", "gauge",
	           "Named screens stale now (connected or not).",
	           (unsigned long long)g->screens_stale);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (counters[i].prom)
			add_metric(&t, counters[i].prom, "counter",
			           counters[i].help,
			           (unsigned long long)*counters[i].value);
	add_labelled(&t);
	add_topic_families(&t);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = (int)(t.len - head);
	return t.buf;
}
