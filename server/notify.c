/* notify.c: telling systemd how tickerd is (sd_notify): ready, reloading,
 * stopping, alive. */
#include "notify.h"

#include "app.h"
#include "changelog.h"
#include "guard.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "subscriber.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

/* The sweep that pets the watchdog runs once a second (main.c). */
#define SWEEP_USEC 1000000u

/* What systemd was last told; one for the whole run. */
static struct {
	int on;            /* NOTIFY_SOCKET is set */
	int failed;        /* a send failed (logged once) */
	uint64_t watchdog; /* WATCHDOG_USEC for this process, or 0 */
	char status[160];  /* the last STATUS= sent */
	const char *redis; /* the Redis state it named */
	unsigned age;      /* sweeps since it was sent */
} nt;

/* Send one message (newline-separated KEY=value lines). */
static void
send_state(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0 && !nt.failed) {
		nt.failed = 1;
		log_warn("cannot notify systemd (%s): %s", state,
		         strerror(-rc));
	}
}

/* The STATUS= text for app now, into buf; returns its Redis word. */
static const char *
make_status(struct app *app, char *buf, size_t len)
{
	int ok;
	const char *redis = http_redis_state(app, &ok);
	unsigned clients = guard_clients(app->guard);
	size_t items = history_count(app->history);

	snprintf(buf, len, "%u client%s, %zu item%s, Redis %s", clients,
	         clients == 1 ? "" : "s", items, items == 1 ? "" : "s", redis);
	return redis;
}

/* READY=1 with the status as it is now. */
static void
send_ready(struct app *app)
{
	char msg[sizeof(nt.status) + 32];

	nt.redis = make_status(app, nt.status, sizeof(nt.status));
	nt.age = 0;
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", nt.status);
	send_state(msg);
}

void
notify_start(struct app *app)
{
	uint64_t usec = 0;

	nt.on = getenv("NOTIFY_SOCKET") != NULL;
	if (!nt.on)
		return;
	if (sd_watchdog_enabled(0, &usec) > 0)
		nt.watchdog = usec;
	if (nt.watchdog && nt.watchdog < 2 * SWEEP_USEC)
		log_warn("WatchdogSec=%" PRIu64 " ms is less than twice the "
		         "1 s sweep that pets it: set 3 s or more",
		         nt.watchdog / 1000);
	log_notice("telling systemd we are ready%s",
	           nt.watchdog ? " (and petting its "
	                         "watchdog each second)"
	                       : "");
	send_ready(app);
}

void
notify_reloading(void)
{
	struct timespec now;
	char msg[64];

	if (!nt.on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	         (uint64_t)now.tv_sec * 1000000u +
	             (uint64_t)now.tv_nsec / 1000);
	send_state(msg);
}

void
notify_reloaded(struct app *app)
{
	if (nt.on)
		send_ready(app);
}

void
notify_stopping(unsigned clients)
{
	char msg[80];

	if (!nt.on)
		return;
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=closing %u client%s",
	         clients, clients == 1 ? "" : "s");
	send_state(msg);
}

void
notify_sweep(struct app *app)
{
	char status[sizeof(nt.status)], msg[sizeof(status) + 32];
	const char *redis;

	if (!nt.on)
		return;
	redis = make_status(app, status, sizeof(status));
	if (redis == nt.redis &&
	    (++nt.age < NOTIFY_STATUS_S || !strcmp(status, nt.status))) {
		if (nt.watchdog)
			send_state("WATCHDOG=1");
		return;
	}
	memcpy(nt.status, status, sizeof(status));
	nt.redis = redis;
	nt.age = 0;
	snprintf(msg, sizeof(msg), "%sSTATUS=%s",
	         nt.watchdog ? "WATCHDOG=1\n" : "", nt.status);
	send_state(msg);
}
