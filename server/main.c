/* main.c: tickerd's entry point: one libuv loop, tickerd's sockets and
 * hiredis on it. */
#include "access.h"
#include "api.h"
#include "app.h"
#include "config.h"
#include "fanout.h"
#include "feed.h"
#include "guard.h"
#include "dead_air.h"
#include "held.h"
#include "history.h"
#include "isotime.h"
#include "http.h"
#include "ingest.h"
#include "keepalive.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "screens.h"
#include "changelog.h"
#include "redis_where.h"
#include "door.h"
#include "events.h"
#include "files.h"
#include "subscriber.h"
#include "version.h"
#include "csock.h"
#include "ws.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 2000
#define SHUTDOWN_POLL_MS  20

static struct app app;
static uv_signal_t sig_int, sig_term, sig_hup;
static uv_timer_t shutdown_timer, sweep_timer;
static uv_check_t flush_check;
static uint64_t shutdown_deadline;

/* SIGHUP: read the configuration again; origins and limits change now. */
static void
on_hup(uv_signal_t *s, int signum)
{
	struct cfg_error err;
	struct files *files;
	char now[512];

	(void)s;
	(void)signum;
	notify_reloading();
	if (cfg_reload(&app.cfg, app.argc, app.argv, &err)) {
		log_err("SIGHUP: configuration not reloaded: %s", err.text);
		notify_reloaded(&app);
		return;
	}
	http_csp_build(&app);
	files = files_load(app.cfg.web_dir);
	if (files) {
		files_free(app.files);
		app.files = files;
	}
	cfg_describe(&app.cfg, 1, now, sizeof(now));
	log_notice("SIGHUP: reloaded: %s; %zu files", now,
	           files_count(app.files));
	notify_reloaded(&app);
}

/*
 * Once a second: clients that stopped reading and fell behind go; quiet
 * ones are pinged, silent ones hung up on; named screens are judged;
 * systemd's watchdog is petted.
 */
static void
on_sweep(uv_timer_t *t)
{
	(void)t;
	notify_sweep(&app);
	fan_sweep(app.fan);
	dead_air_check(app.dead_air, isotime_now_ms());
	keepalive_sweep(app.fan, app.cfg.ping_interval,
	                keepalive_now(&app.loop));
	screens_sweep(app.screens, isotime_now_ms());
	access_sweep(&app);
}

/*
 * After each loop turn's I/O: whatever was published during the turn goes
 * to the caught-up clients, one write each.
 */
static void
on_turn_end(uv_check_t *h)
{
	(void)h;
	fan_flush(app.fan);
}

static time_t
wall_clock(void)
{
	return time(NULL);
}

/* Wait for the clients' closes (or the grace period), then close the rest. */
static void
on_shutdown_tick(uv_timer_t *t)
{
	unsigned left = guard_clients(app.guard);

	if (left && uv_now(&app.loop) < shutdown_deadline)
		return;
	if (left)
		log_warn("%u clients did not close in time", left);
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
	uv_close((uv_handle_t *)&sweep_timer, NULL);
	uv_close((uv_handle_t *)&flush_check, NULL);
	csock_close_all(&app); /* those that did not close in time */
	door_free(app.door);
	app.door = NULL;
}

static void
on_signal(uv_signal_t *s, int signum)
{
	(void)s;
	if (app.shutting_down)
		return;
	log_notice("%s: closing %u clients and exiting",
	           signum == SIGINT ? "SIGINT" : "SIGTERM",
	           guard_clients(app.guard));
	notify_stopping(guard_clients(app.guard));
	listener_close(app.listener); /* no one new */
	app.listener = NULL;
	sub_stop(app.sub);
	changelog_stop(app.log);
	where_stop(app.where);
	feed_stop(app.feed);
	uv_timer_stop(&sweep_timer);
	ws_shutdown(&app);
	shutdown_deadline = uv_now(&app.loop) + SHUTDOWN_GRACE_MS;
	uv_timer_init(&app.loop, &shutdown_timer);
	uv_timer_start(&shutdown_timer, on_shutdown_tick, 0, SHUTDOWN_POLL_MS);
}

/* The subscriber's messages go to ingest. */
static void
on_payload(void *arg, const char *channel, size_t channel_len,
           const char *payload, size_t payload_len)
{
	ingest_payload(&((struct app *)arg)->ingest, channel, channel_len,
	               payload, payload_len);
}

/* The subscriber's probes go out on the change log's command connection. */
static int
send_probe(void *arg, const char *channel, const char *text,
           sub_probe_done_fn done, void *sub)
{
	return changelog_publish(((struct app *)arg)->log, channel, text, done,
	                         sub);
}

static const struct sub_ops sub_ops = {.message = on_payload,
                                       .probe = send_probe};
/* Each entry read: into the history and to the screens, then the API's
 * publishes waiting for it are answered (they see what they published). */
static void
on_entry(void *arg, const struct log_entry *e)
{
	api_entry_read(e->seq, ingest_entry(arg, e));
}

static const struct changelog_ops log_ops = {.entry = on_entry,
                                             .gap = ingest_gap,
                                             .rebase = ingest_rebase,
                                             .held = ingest_held};

/* The listener's hand-over: every accepted connection goes to the door. */
static void
on_accept(void *arg, int fd, const struct sockaddr *peer)
{
	door_accept(arg, fd, peer);
}

/*
 * /metrics' tickerd_readers{topic}: every client once under each topic it
 * chose (fan_readers()), "*" for every topic, "(other)" past the first
 * FAN_READER_TOPICS.  Nothing on ENOMEM.
 */
static void
emit_readers(const void *fan, metrics_emit_fn emit, void *ctx)
{
	struct fan_readers *r = malloc(sizeof(*r));

	if (!r)
		return;
	fan_readers(fan, r);
	emit(ctx, "*", r->all);
	for (unsigned i = 0; i < r->n; i++)
		emit(ctx, r->at[i].topic, r->at[i].readers);
	if (r->other)
		emit(ctx, "(other)", r->other);
	free(r);
}

/*
 * The modules of app, wired to each other: history, ring, Redis side,
 * ingest, guard, door, files.  0, or -1 on ENOMEM (logged).
 */
static int
make_app(void)
{
	char pattern[80], probe[80], slot_key[80];
	struct stat st;

	app.history = history_new(app.cfg.history);
	/* The ring is the resume window: as long as the change log. */
	app.fan = fan_new(app.cfg.log_length, &csock_fan_ops);
	snprintf(pattern, sizeof(pattern), "%s:*", app.cfg.prefix);
	/* Outside the pattern, and this instance's own:
	 * tickerd:probe:<pid>.<t> */
	snprintf(probe, sizeof(probe), "tickerd:probe:%d.%llu", (int)getpid(),
	         (unsigned long long)uv_hrtime());
	/* On a cluster every key hashes to one slot: one log, one function
	 * call touching them all. */
	snprintf(app.key_prefix, sizeof(app.key_prefix),
	         app.cfg.redis.mode == REDIS_CLUSTER ? "{%s}" : "%s",
	         app.cfg.prefix);
	snprintf(slot_key, sizeof(slot_key), "%s:log", app.key_prefix);
	app.where = where_new(&app.loop, &app.cfg.redis,
	                      app.cfg.sentinel_password, slot_key);
	if (!app.where) {
		log_err("out of memory");
		return -1;
	}
	app.sub = sub_new(&app.loop, app.where, pattern, probe, &sub_ops, &app);
	app.log =
	    changelog_new(&app.loop, app.where, app.key_prefix,
	                  app.cfg.log_length, probe, &log_ops, &app.ingest);
	app.held = held_new();
	app.dead_air = dead_air_new(&app.cfg.dead_air, isotime_now_ms());
	app.ingest = (struct ingest){.history = app.history,
	                             .fan = app.fan,
	                             .log = app.log,
	                             .prefix = app.cfg.prefix,
	                             .now = wall_clock,
	                             .held = app.held,
	                             .dead_air = app.dead_air,
	                             .topic_ttl = &app.cfg.topic_ttl};
	app.feed = feed_new(&app.loop, app.sub, app.log, app.fan);
	app.guard = guard_new(&app.cfg);
	app.screens = screens_new(&app.cfg, app.fan);
	if (app.fan)
		metrics_topic_family(
		    "readers", "gauge",
		    "WebSocket and EventSource clients per topic "
		    "they chose (\"*\": every topic).",
		    emit_readers, app.fan);
	http_csp_build(&app);
	app.door = door_new(&app);
	if (stat(app.cfg.web_dir, &st) || !S_ISDIR(st.st_mode))
		log_warn("web directory %s not found: / will answer 404",
		         app.cfg.web_dir);
	app.files = files_load(app.cfg.web_dir);
	if (!app.history || !app.held || !app.dead_air || !app.fan ||
	    !app.sub || !app.log || !app.feed || !app.guard || !app.door ||
	    !app.files || !app.screens) {
		log_err("out of memory");
		return -1;
	}
	return 0;
}

/* Listen, and say what is served.  0, or -1 (logged). */
static int
serve(void)
{
	char settings[512];

	app.listener = listener_new(&app.loop, app.cfg.listen_host,
	                            app.cfg.listen_port, app.cfg.reuse_port);
	if (!app.listener) {
		log_err("cannot serve on %s:%d: %s",
		        app.cfg.listen_host[0] ? app.cfg.listen_host : "*",
		        app.cfg.listen_port, strerror(errno));
		return -1;
	}
	listener_start(app.listener, on_accept, app.door);
	cfg_describe(&app.cfg, 0, settings, sizeof(settings));
	log_notice("%s serving: %s", TICKERD_SERVER, settings);
	cfg_describe(&app.cfg, 1, settings, sizeof(settings));
	log_notice("reloadable: %s", settings);
	return 0;
}

/* Signals, the once-a-second sweep, the end-of-turn flush; Redis starts,
 * and the feed's state is checked. */
static void
start_loop_handles(void)
{
	uv_signal_init(&app.loop, &sig_int);
	uv_signal_init(&app.loop, &sig_term);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(&app.loop, &sig_hup);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);
	uv_timer_init(&app.loop, &sweep_timer);
	uv_timer_start(&sweep_timer, on_sweep, 1000, 1000);
	uv_check_init(&app.loop, &flush_check);
	uv_check_start(&flush_check, on_turn_end);
	uv_unref((uv_handle_t *)&flush_check);
	where_start(app.where);
	sub_start(app.sub);
	changelog_start(app.log);
	feed_start(app.feed);
}

/* After the loop ended: close what is left, free everything. */
static void
finish(void)
{
	csock_close_all(&app);
	uv_run(&app.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&app.loop))
		log_warn("event loop closed with handles still open");
	sub_free(app.sub);
	changelog_free(app.log);
	where_free(app.where);
	feed_free(app.feed);
	fan_free(app.fan);
	history_free(app.history);
	held_free(app.held);
	dead_air_free(app.dead_air);
	files_free(app.files);
	guard_free(app.guard);
	screens_free(app.screens);
	access_free();
	log_notice("bye");
}

int
main(int argc, char **argv)
{
	struct cfg_error err;

	switch (cfg_parse(&app.cfg, argc, argv, &err)) {
	case CFG_EXIT_OK:
		return 0;
	case CFG_ERROR:
		fprintf(stderr, "tickerd: %s\n", err.text);
		return 2;
	default:
		break;
	}
	lws_set_log_level(app.cfg.log_level, NULL);
	if (access_init(&app.cfg, err.text, sizeof(err.text))) {
		fprintf(stderr, "tickerd: %s\n", err.text);
		return 2;
	}
	app.argc = argc;
	app.argv = argv;
	signal(SIGPIPE, SIG_IGN);
	metrics.started = time(NULL);

	uv_loop_init(&app.loop);
	if (make_app() || serve())
		return 1;
	start_loop_handles();
	notify_start(&app);
	uv_run(&app.loop, UV_RUN_DEFAULT);
	finish();
	return 0;
}
