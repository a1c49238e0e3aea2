/* keepalive.c: pinging quiet clients, hanging up on silent ones.
 *
 * lws 4.1 can do this itself (retry_and_idle_policy), but it keeps one
 * timer per connection in a sorted list whose insertion walks the list:
 * O(clients) per new connection, 28 % of a reconnect storm's CPU when
 * measured.  One walk over all clients a second costs O(clients) per
 * second instead.
 */
#include "keepalive.h"

#include "fanout.h"
#include "log.h"
#include "metrics.h"

/* What one sweep needs to know. */
struct sweep {
	struct fan *fan;
	uint32_t now, ping_after, hang_up_after; /* ms */
};

/* FIN, ping, no payload: any frame the client sends back counts. */
static const unsigned char ws_ping[] = {0x89, 0x00};
static const unsigned char sse_comment[] = {':', '\n', '\n'};

/* One client: ping it, or hang up on it, or leave it. */
static void
check_client(struct fan_client *c, void *arg)
{
	const struct sweep *s = arg;
	uint32_t quiet = s->now - c->heard;

	if (fan_state_of(c) != FAN_PENDING && fan_state_of(c) != FAN_IDLE)
		return;
	if (c->kind == FAN_SSE) {
		/* Nothing comes back on a stream: a comment keeps proxies
		 * from timing it out, and a dead peer shows as a failed write.
		 */
		if (s->now - c->pinged >= s->ping_after &&
		    !fan_send_raw(s->fan, c, sse_comment, sizeof(sse_comment)))
			c->pinged = s->now;
		return;
	}
	if (quiet >= s->hang_up_after) {
		log_info("hanging up on a client silent for %u ms", quiet);
		metrics.silent++;
		fan_kill(s->fan, c);
		return;
	}
	if (quiet >= s->ping_after && s->now - c->pinged >= s->ping_after &&
	    !fan_send_raw(s->fan, c, ws_ping, sizeof(ws_ping))) {
		c->pinged = s->now;
		metrics.pings++;
	}
}

void
keepalive_sweep(struct fan *f, unsigned interval_s, uint32_t now)
{
	struct sweep s = {
	    .fan = f, .now = now, .hang_up_after = 2000 * interval_s};

	/* Sweeps come a second apart: ping half a sweep early rather than
	 * half a sweep late, so an answering client is never near the end. */
	s.ping_after = 1000 * interval_s > 500 ? 1000 * interval_s - 500 : 0;
	fan_foreach(f, check_client, &s);
}
