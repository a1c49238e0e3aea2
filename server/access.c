/* access.c: private topics and the tokens that open them.  A client's
 * grants live in its topic filter (topics.c decides what it lets through,
 * for the fan-out, snapshots, resumes and outputs alike); here they are
 * given at the door (?token=), changed by a token message over the socket
 * and taken away at exp, each change answered with an access message (and
 * a snapshot of the new set when it changed: fan_regroup()).  No token
 * ever reaches a log line. */
#define _GNU_SOURCE /* memmem() */
#include "access.h"

#include "app.h"
#include "config.h"
#include "fanout.h"
#include "isotime.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "request.h"
#include "session.h"
#include "token.h"
#include "topics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An access answer that waits for the client's moment (fan_regroup()). */
struct access_owed {
	struct topic_filter filter; /* the set it is to have */
	enum token_reason refused;  /* TOKEN_OK: none */
	int expiring;
};

static struct token_keys keys;

/*
 * The sweep's next walk: the earliest instant at which any client is due
 * something from it (its 60 s warning, its expiry, an owed answer), as far
 * as the last walk and the tokens given since know.  Until then no client
 * needs the sweep, so it walks none: with no token anywhere it costs
 * nothing each second, however many clients there are.  Only ever lowered
 * between walks (a token admitted or renewed, an answer owed); each walk
 * sets it anew from what it finds (a client that left is simply not
 * found).  A walk that acts on a client is followed by one more, which
 * finds its new state.
 */
static time_t sweep_due = ACCESS_DUE_NEVER;

static void
due_by(time_t t)
{
	if (t < sweep_due)
		sweep_due = t;
}

time_t
access_next_due(time_t exp, int warned, long leeway)
{
	if (!exp)
		return ACCESS_DUE_NEVER;
	/* The sweep warns at now >= exp - 60 and removes at now > exp +
	 * leeway. */
	return warned ? exp + (time_t)leeway + 1 : exp - 60;
}

int
access_init(const struct cfg *c, char *why, size_t why_len)
{
	if (topics_private_set(c->private_topics, why, why_len))
		return -1;
	if (token_keys_load(&keys, c->token_secret, c->token_secret_file,
	                    c->token_key, why, why_len))
		return -1;
	snprintf(keys.audience, sizeof(keys.audience), "%s", c->token_audience);
	snprintf(keys.issuer, sizeof(keys.issuer), "%s", c->token_issuer);
	keys.leeway = (long)c->token_leeway;
	if (topics_private_any() && !keys.alg[0]) {
		snprintf(why, why_len,
		         "--private-topics needs --token-secret, "
		         "--token-secret-file or --token-key");
		return -1;
	}
	if (keys.alg[0])
		log_notice(
		    "tokens: %s%s%s, leeway %ld s; private topics: %s",
		    keys.alg, keys.audience[0] ? ", audience checked" : "",
		    keys.issuer[0] ? ", issuer checked" : "", keys.leeway,
		    c->private_topics[0] ? c->private_topics : "none");
	return 0;
}

void
access_free(void)
{
	token_keys_free(&keys);
}

/* Count a refusal and log it (the reason only: never the token). */
static void
refused(enum token_reason r, const char *where)
{
	metrics.token_refused[r]++;
	log_info("a token refused on %s: %s", where, token_reason_name(r));
}

/* 1 if f names a private topic it is not granted (all topics: never). */
static int
lacks_named(const struct topic_filter *f)
{
	char locked[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];

	return f->count && topic_filter_locked(f, locked) > 0;
}

/* Answer 403 {"error":"token","reason":…}; -1. */
static int
refuse_403(struct door_conn *c, const struct request *r, enum token_reason why,
           const char *where)
{
	char body[96];
	int n = snprintf(body, sizeof(body),
	                 "{\"error\":\"token\",\"reason\":\"%s\"}\n",
	                 token_reason_name(why));

	refused(why, where);
	door_respond(c, r, 403, "application/json", body, (size_t)n, NULL, 0);
	return -1;
}

int
access_admit(struct door_conn *c, const struct request *r,
             struct session_start *start, int renews)
{
	const char *where = renews ? "/ws" : "/events";
	static char tok[TOKEN_MAX + 1];
	struct token_claims claims;
	enum token_reason why;
	long n;

	start->filter.granted = 0;
	start->token_exp = 0;
	if (!keys.alg[0])
		return 0; /* no key: tokens mean nothing here */
	n = request_arg(r, "token", tok, sizeof(tok));
	if (n <= 0 && n != -2) {
		if (!lacks_named(&start->filter))
			return 0;
		if (!renews)
			return refuse_403(c, r, TOKEN_MISSING, where);
		refused(TOKEN_MISSING,
		        where); /* locked until a token message */
		return 0;
	}
	/* -2: over TOKEN_MAX (or an escape that is not one) */
	why = n == -2 ? TOKEN_TOO_LARGE
	              : token_check(&keys, tok, (size_t)n, time(NULL), &claims);
	memset(tok, 0, sizeof(tok));
	if (why != TOKEN_OK)
		return refuse_403(c, r, why, where);
	topic_filter_grant(&start->filter,
	                   (const char(*)[TOPIC_MAX_LEN + 1]) claims.topics,
	                   claims.n);
	if (lacks_named(&start->filter))
		return refuse_403(c, r, TOKEN_NOT_GRANTED, where);
	start->token_exp = claims.exp;
	due_by(access_next_due(claims.exp, 0, keys.leeway));
	return 0;
}

/* Add f's "private" and "locked" lists to o (each only when not empty),
 * and "token_exp" when exp is set. */
static int
add_access(json_t *o, const struct topic_filter *f, time_t exp, int always)
{
	char locked[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1], when[ISOTIME_LEN];
	int n = topic_filter_locked(f, locked);
	json_t *priv = json_array(), *lock = json_array();

	for (int i = 0; i < f->granted; i++)
		json_array_append_new(priv, json_string(f->grants[i]));
	for (int i = 0; i < n; i++)
		json_array_append_new(lock, json_string(locked[i]));
	if (always || f->granted)
		json_object_set(o, "private", priv);
	if (always || n)
		json_object_set(o, "locked", lock);
	json_decref(priv);
	json_decref(lock);
	if (exp) {
		isotime_format(exp, when);
		json_object_set_new(o, "token_exp", json_string(when));
	}
	return 0;
}

int
access_hello(json_t *o, const void *arg)
{
	const struct session_start *start = arg;

	return add_access(o, &start->filter, start->token_exp, 0);
}

/* {"type":"access","private":[…],"locked":[…],"token_exp":…,"refused":…,
 * "expiring":true}, or NULL on ENOMEM. */
static struct msg *
access_msg(const struct topic_filter *f, time_t exp, enum token_reason why,
           int expiring)
{
	json_t *o = json_object();
	struct msg *m;

	json_object_set_new(o, "type", json_string("access"));
	add_access(o, f, exp, 1);
	if (why != TOKEN_OK)
		json_object_set_new(o, "refused",
		                    json_string(token_reason_name(why)));
	if (expiring)
		json_object_set_new(o, "expiring", json_true());
	m = msg_new_json("access", o);
	json_decref(o);
	return m;
}

/*
 * Tell s its access (the set f, refused why, expiring) and move it to f,
 * with a snapshot of f when that differs from what it has.  If it is not
 * the moment, it is owed (the sweep tries again).
 */
static void
tell(struct app *app, struct session *s, const struct topic_filter *f,
     enum token_reason why, int expiring)
{
	int changed = !topic_filter_equal(f, fan_filter_of(&s->fan));
	struct msg *first[2] = {access_msg(f, s->token_exp, why, expiring),
	                        changed ? session_snapshot(app, f) : NULL};
	int r;

	if (!first[0] || (changed && !first[1])) {
		msg_unref(first[0]);
		msg_unref(first[1]);
		log_err("out of memory for an access message");
		return;
	}
	r = fan_regroup(app->fan, &s->fan, f, first);
	if (r != 1) {
		free(s->owed);
		s->owed = NULL;
		return;
	}
	due_by(0); /* the next sweep tries again */
	if (!s->owed && !(s->owed = malloc(sizeof(*s->owed))))
		return;
	s->owed->filter = *f;
	s->owed->refused = why;
	s->owed->expiring = expiring;
}

int
access_is_token_message(const char *p, size_t len)
{
	static const char type[] = "\"type\":\"token\"";
	json_t *o, *t;
	int yes;

	if (len > ACCESS_MESSAGE_MAX) /* cut: as a browser writes it */
		return memmem(p, len, type, sizeof(type) - 1) != NULL;
	o = json_loadb(p, len, 0, NULL);
	t = json_object_get(o, "type");
	yes = json_is_string(t) && !strcmp(json_string_value(t), "token");
	json_decref(o);
	return yes;
}

/* The token of a token message, or NULL (*why says so). */
static enum token_reason
read_message(const char *p, size_t len, json_t **root, const char **tok,
             size_t *tok_len)
{
	json_t *t;

	if (len > ACCESS_MESSAGE_MAX)
		return TOKEN_TOO_LARGE;
	*root = json_loadb(p, len, 0, NULL);
	t = json_object_get(*root, "token");
	if (!json_is_string(t))
		return TOKEN_MALFORMED;
	*tok = json_string_value(t);
	*tok_len = json_string_length(t);
	return TOKEN_OK;
}

void
access_message(struct app *app, struct session *s, const char *p, size_t len)
{
	/* An answer still owed holds the set in force: build on it. */
	struct topic_filter f =
	    s->owed ? s->owed->filter : *fan_filter_of(&s->fan);
	struct token_claims claims;
	enum token_reason why;
	json_t *root = NULL;
	const char *tok = NULL;
	size_t tok_len = 0;

	why = read_message(p, len, &root, &tok, &tok_len);
	if (why == TOKEN_OK)
		why = tok_len ? token_check(&keys, tok, tok_len, time(NULL),
		                            &claims)
		              : TOKEN_MISSING;
	json_decref(root);
	if (why == TOKEN_OK) {
		topic_filter_grant(
		    &f, (const char(*)[TOPIC_MAX_LEN + 1]) claims.topics,
		    claims.n);
		s->token_exp = claims.exp;
		s->token_warned = 0;
		due_by(access_next_due(claims.exp, 0, keys.leeway));
		if (lacks_named(&f))
			why = TOKEN_NOT_GRANTED;
	}
	if (why != TOKEN_OK)
		refused(why, "the socket");
	tell(app, s, &f, why, 0);
}

/* What the sweep does to one client. */
enum sweep_act { ACT_OWED, ACT_EXPIRED, ACT_EXPIRING };

struct sweep_list {
	struct session **s;
	unsigned char *act;
	size_t n, cap;
	time_t now;
};

/* Note c if it is owed an answer, or its token expires (soon). */
static void
sweep_one(struct fan_client *c, void *arg)
{
	struct sweep_list *l = arg;
	struct session *s = (struct session *)c; /* fan is its first field */
	int act;

	/* Before what it is told now: a client acted on is due again at
	 * once, and the next walk sees its new state. */
	due_by(s->owed ? l->now
	               : access_next_due(s->token_exp, s->token_warned,
	                                 keys.leeway));
	if (s->owed)
		act = ACT_OWED;
	else if (!s->token_exp)
		return;
	else if (l->now > s->token_exp + keys.leeway)
		act = ACT_EXPIRED;
	else if (!s->token_warned && l->now >= s->token_exp - 60)
		act = ACT_EXPIRING;
	else
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *ns = realloc(l->s, cap * sizeof(*l->s));

		if (!ns)
			return;
		l->s = ns;
		ns = realloc(l->act, cap);
		if (!ns)
			return;
		l->act = ns;
		l->cap = cap;
	}
	l->s[l->n] = s;
	l->act[l->n++] = (unsigned char)act;
}

void
access_sweep(struct app *app)
{
	struct sweep_list l = {.now = time(NULL)};

	if (!keys.alg[0] || l.now < sweep_due)
		return;
	sweep_due = ACCESS_DUE_NEVER; /* sweep_one() finds the next */
	/* Noted first, then told: telling moves clients between audiences,
	 * which fan_foreach() must not see happen. */
	fan_foreach(app->fan, sweep_one, &l);
	for (size_t i = 0; i < l.n; i++) {
		struct session *s = l.s[i];
		struct topic_filter f;

		if (fan_state_of(&s->fan) != FAN_PENDING &&
		    fan_state_of(&s->fan) != FAN_IDLE)
			continue;
		if (l.act[i] == ACT_OWED) {
			struct access_owed o = *s->owed;

			tell(app, s, &o.filter, o.refused, o.expiring);
			continue;
		}
		f = *fan_filter_of(&s->fan);
		if (l.act[i] == ACT_EXPIRING) {
			s->token_warned = 1;
			tell(app, s, &f, TOKEN_OK, 1);
			continue;
		}
		f.granted = 0;
		s->token_exp = 0;
		refused(TOKEN_EXPIRED, "a stream");
		tell(app, s, &f, TOKEN_EXPIRED, 0);
	}
	free(l.s);
	free(l.act);
}

void
access_close(struct session *s)
{
	free(s->owed);
	s->owed = NULL;
}
