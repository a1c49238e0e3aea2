/* metrics.h: the process's counters, read by /healthz (and later /metrics). */
#ifndef TICKERD_METRICS_H
#define TICKERD_METRICS_H

#include "guard.h"
#include "item.h"
#include "screen_report.h"
#include "token.h"

#include <jansson.h>
#include <stdint.h>
#include <time.h>

/* The HTTP statuses counted in tickerd_http_responses_total. */
#define METRICS_STATUSES 19
extern const int metrics_statuses[METRICS_STATUSES];

/* The statuses counted in tickerd_api_requests_total (api.c's answers). */
#define METRICS_API_STATUSES 12
extern const int metrics_api_statuses[METRICS_API_STATUSES];

/* One instance for the process; the event loop is its only writer. */
struct metrics {
	time_t started;
	uint64_t received;  /* payloads that came from Redis */
	uint64_t published; /* items and updates sent to the screens */
	uint64_t retracted;
	uint64_t duplicates; /* same payload again, or a stale version */
	uint64_t rejected;
	uint64_t rejected_by[ITEM_REASON_COUNT];
	uint64_t deliveries; /* messages written to clients */
	uint64_t writes;     /* writes they took (several messages each) */
	uint64_t pings;      /* keep-alive pings sent */
	uint64_t silent;     /* clients hung up on for not answering them */
	uint64_t culled;     /* clients dropped for lagging (all reasons) */
	uint64_t resyncs;    /* resume points no longer held: snapshot sent */
	uint64_t log_gaps;   /* times entries were trimmed before being read */
	uint64_t lost_entries; /* how many, in all */
	uint64_t clients;      /* WebSocket clients connected now */
	uint64_t redis_connects;
	uint64_t accept_pauses; /* out of descriptors: accepting paused */
	uint64_t culled_unsent; /* culled being owed > 1 MiB, taking none */
	uint64_t refused[GUARD_REFUSAL_COUNT]; /* handshakes turned away */
	uint64_t responses[METRICS_STATUSES];  /* by metrics_statuses[] */
	uint64_t closed_too_big;               /* clients closed with 1009 */
	uint64_t closed_too_fast; /* clients closed with 1008 (too many frames,
	                           * or a screen report refused) */
	uint64_t closed_bad_utf8; /* clients closed with 1007 */
	uint64_t closed_protocol; /* clients closed with 1002 */
	uint64_t
	    record_errors; /* payloads Redis refused or we could not queue */
	uint64_t
	    epoch_changes; /* times Redis was found to have lost its data */
	uint64_t master_switches;     /* times the Redis master changed */
	uint64_t records_resent;      /* records sent again (same token) */
	uint64_t log_rollbacks;       /* the log found behind what was read */
	uint64_t records_unconfirmed; /* recorded, no replica has them yet */
	uint64_t held;                /* embargoed items waiting for release */
	uint64_t dead_air;      /* topics silent past their --dead-air now */
	uint64_t dead_airs;     /* times a topic went silent so long */
	uint64_t feed_degraded; /* 1 while readers are told so (feed.c) */
	uint64_t feed_degradations; /* times they were told */
	uint64_t feed_degraded_s;   /* seconds it lasted, in all */
	uint64_t screen_reports;    /* named screens' reports taken */
	uint64_t screen_refused[SCREEN_REFUSAL_COUNT]; /* and refused */
	uint64_t screens_stale_total; /* times a named screen turned stale */
	uint64_t token_refused[TOKEN_REASONS]; /* tokens refused (access.c) */
	uint64_t ws_deflate; /* upgrades that took permessage-deflate */
	uint64_t deflated;   /* messages deflated (once per window size) */
	uint64_t api_requests[METRICS_API_STATUSES]; /* /api/items, by status */
};

extern struct metrics metrics;

/* The gauges /metrics shows that their owners know (http.c asks them). */
struct metrics_gauges {
	int redis_ok;
	size_t items;
	uint64_t ring_used, ring_capacity;
	unsigned screens, screens_stale; /* named screens: connected, stale */
};

/*
 * metrics_prometheus() - every counter in Prometheus text format, with
 * the gauges g, in a new buffer with head bytes of headroom before the
 * text (free() it).  *len is the text's length.  NULL on ENOMEM.
 */
char *metrics_prometheus(size_t head, int *len, const struct metrics_gauges *g);

/*
 * A family of samples labelled by topic, kept by another module: asked for
 * its samples, fn calls emit(ctx, topic, value) for each.
 */
typedef void (*metrics_emit_fn)(void *ctx, const char *topic, uint64_t value);
typedef void (*metrics_topics_fn)(const void *arg, metrics_emit_fn emit,
                                  void *ctx);

/*
 * metrics_topic_family() - render name (tickerd_<name>{topic="…"}, of type
 * "gauge" or "counter") in /metrics from fn(arg, ...).  At most
 * METRICS_TOPIC_FAMILIES, registered at start; 0, or -1 when full.
 */
#define METRICS_TOPIC_FAMILIES 8
int metrics_topic_family(const char *name, const char *type, const char *help,
                         metrics_topics_fn fn, const void *arg);

/*
 * metrics_health() - set the counters /healthz shows (received, published,
 * rejected, ...) in o, from the table /metrics uses.  0, or -1 on ENOMEM.
 */
int metrics_health(json_t *o);

/* metrics_response() - count one HTTP response with this status. */
void metrics_response(int status);

/* metrics_api() - count one answer of the publish API with this status. */
void metrics_api(int status);

/* metrics_reject() - count one payload rejected for reason. */
void metrics_reject(enum item_reason reason);

#endif
