/* notify.h: telling systemd how tickerd is (sd_notify): ready, reloading,
 * stopping, alive. */
#ifndef TICKERD_NOTIFY_H
#define TICKERD_NOTIFY_H

struct app;

/*
 * Every call is a no-op when tickerd was not started by systemd with
 * Type=notify (no NOTIFY_SOCKET in the environment).  A failed send is
 * logged once; tickerd serves on regardless.
 */

/*
 * notify_start() - once tickerd serves (listening, lws started): READY=1
 * and a STATUS= line.  Reads WATCHDOG_USEC/WATCHDOG_PID (sd_watchdog_
 * enabled()) first: from then on notify_sweep() pets the watchdog.
 */
void notify_start(struct app *app);

/* notify_reloading() - SIGHUP came: RELOADING=1 and MONOTONIC_USEC=now. */
void notify_reloading(void);

/*
 * notify_reloaded() - the reload is over, applied or refused (logged):
 * READY=1 and a fresh STATUS= line.
 */
void notify_reloaded(struct app *app);

/* notify_stopping() - shutdown began: STOPPING=1, clients still to close. */
void notify_stopping(unsigned clients);

/*
 * notify_sweep() - from the loop's once-a-second sweep: WATCHDOG=1 when
 * systemd watches this process (so a stalled loop stops petting it), and
 * a STATUS= line (clients, Redis) when Redis's state changed or, if the
 * rest changed, at most every NOTIFY_STATUS_S seconds.
 */
void notify_sweep(struct app *app);

#define NOTIFY_STATUS_S 10

#endif
