/* door_deadline.c: every connection at the door has a deadline (its
 * request's, or a lingering close's); they are kept in one list, soonest
 * first, which one timer looks at every DOOR_TICK_MS.  Deadlines grow
 * with time, so keeping the list in order costs nearly nothing. */
#include "door_private.h"

#include "app.h"

/* Every DOOR_TICK_MS: end the connections whose time is up. */
static void
on_tick(uv_timer_t *t)
{
	struct door *d = t->data;
	uint64_t now = uv_now(&d->app->loop);

	while (d->first && d->first->deadline <= now)
		door_expire(d->first);
}

/* Take c out of the deadline list. */
void
door_unlist(struct door_conn *c)
{
	struct door *d = c->door;

	if (!c->listed)
		return;
	c->listed = 0;
	if (c->prev)
		c->prev->next = c->next;
	else
		d->first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		d->last = c->prev;
	c->prev = c->next = NULL;
}

/* Give c until now + ms, keeping the list in order. */
void
door_deadline_in(struct door_conn *c, uint64_t ms)
{
	struct door *d = c->door;
	struct door_conn *after;

	door_unlist(c);
	c->deadline = uv_now(&d->app->loop) + ms;
	/* Deadlines grow with time: the right place is nearly always last. */
	for (after = d->last; after && after->deadline > c->deadline;
	     after = after->prev)
		;
	c->prev = after;
	c->next = after ? after->next : d->first;
	if (c->next)
		c->next->prev = c;
	else
		d->last = c;
	if (after)
		after->next = c;
	else
		d->first = c;
	c->listed = 1;
	if (!d->ticking) {
		uv_timer_start(&d->tick, on_tick, DOOR_TICK_MS, DOOR_TICK_MS);
		d->ticking = 1;
	}
}

/* Give c until now + --handshake-timeout for its (next) request. */
void
door_deadline(struct door_conn *c)
{
	door_deadline_in(c,
	                 1000 * (uint64_t)c->door->app->cfg.handshake_timeout);
}
