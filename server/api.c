/* api.c: the HTTP publish API.  POST /api/items[/<topic>] with a publisher
 * key: the payload checked by item_parse() as tickerd reads it (a refusal
 * answered at once, with the reason and the field), recorded by FCALL
 * tickerd_record with the key's name beside it, answered 201 with the seq
 * once Redis has answered and the reader has read the entry back
 * (api_wait.c).  Keys, rate, Idempotency-Key; GET /api/items is
 * api_list.c's. */
#include "api.h"
#include "api_private.h"

#include "app.h"
#include "changelog.h"
#include "isotime.h"
#include "item.h"
#include "log.h"
#include "metrics.h"
#include "pubkeys.h"
#include "request.h"
#include "seq.h"
#include "topics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_ITEMS "/api/items"

/* A key's token bucket, by name: kept across reloads. */
static struct bucket {
	char name[65];
	double tokens;
	uint64_t at; /* ms, when tokens was last topped up */
} buckets[CFG_MAX_PUBKEYS];

int
api_wants_body(const struct request *r)
{
	size_t n = sizeof(PATH_ITEMS) - 1;

	return r->path.len >= n && !memcmp(r->path.p, PATH_ITEMS, n) &&
	       (r->path.len == n || r->path.p[n] == '/');
}

enum door_next
api_answer(struct door_conn *c, const struct request *r, int status,
           json_t *body, const char *extra, int keep)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	enum door_next next;

	json_decref(body);
	metrics_api(status);
	if (!text)
		return door_respond(c, r, 500, "application/json",
		                    "{\"error\":\"memory\"}", 18, NULL, 0);
	next = door_respond(c, r, status, "application/json", text,
	                    strlen(text), extra, keep);
	free(text);
	return next;
}

enum door_next
api_refuse(struct door_conn *c, const struct request *r, int status,
           const char *error, const char *field, const char *message,
           const char *extra)
{
	json_t *o = json_pack("{ss}", "error", error);

	if (o && field)
		json_object_set_new(o, "field", json_string(field));
	if (o && message)
		json_object_set_new(o, "message", json_string(message));
	log_notice("%.*s %.*s from %s: %d %s%s%s", (int)r->method_name.len,
	           r->method_name.p, (int)r->path.len, r->path.p, door_ip(c),
	           status, error, message ? ": " : "", message ? message : "");
	/* A refused request's connection may go on if its body was read
	 * (or it had none). */
	return api_answer(c, r, status, o, extra,
	                  !r->has_body || r->body.p != NULL);
}

enum door_next
api_body_refused(struct door_conn *c, const struct request *r,
                 enum body_verdict v, size_t limit)
{
	json_t *o;

	log_notice("%.*s %.*s from %s: body refused (%s)",
	           (int)r->method_name.len, r->method_name.p, (int)r->path.len,
	           r->path.p, door_ip(c),
	           v == BODY_TOO_LARGE   ? "too large"
	           : v == BODY_NO_LENGTH ? "no Content-Length"
	                                 : "Content-Length twice");
	if (v == BODY_TOO_LARGE)
		o = json_pack("{sssI}", "error", "too_large", "limit",
		              (json_int_t)limit);
	else if (v == BODY_NO_LENGTH)
		o = json_pack("{ssss}", "error", "length", "message",
		              "send the body with a Content-Length (no "
		              "chunked encoding)");
	else
		o = json_pack("{ssss}", "error", "bad_request", "message",
		              "one Content-Length header");
	api_answer(c, r,
	           v == BODY_TOO_LARGE   ? 413
	           : v == BODY_NO_LENGTH ? 411
	                                 : 400,
	           o, NULL, 0);
	return DOOR_CLOSE;
}

int
api_bearer(const char *s, size_t len, const char **key, size_t *key_len)
{
	size_t i = 6;

	if (len < 8 || strncasecmp(s, "Bearer", 6) ||
	    (s[6] != ' ' && s[6] != '\t'))
		return -1;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len)
		return -1;
	for (size_t j = i; j < len; j++)
		if ((unsigned char)s[j] <= ' ' || s[j] == 0x7f)
			return -1;
	*key = s + i;
	*key_len = len - i;
	return 0;
}

int
api_idempotency_ok(const char *s, size_t len)
{
	if (len < 1 || len > 128)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
api_header(const struct request *r, const char *name, struct req_str *out)
{
	const char *p = r->fields.p, *end = p + r->fields.len;
	size_t nl = strlen(name);
	int n = 0;

	out->p = NULL;
	out->len = 0;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t llen;

		if (!eol)
			eol = end;
		llen = (size_t)(eol - p);
		if (llen && p[llen - 1] == '\r')
			llen--;
		if (llen > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1, *ve = p + llen;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (!n++) {
				out->p = v;
				out->len = (size_t)(ve - v);
			}
		}
		p = eol + 1;
	}
	return n > 1 ? -1 : n;
}

const struct cfg_pubkey *
api_key(struct door_conn *c, const struct request *r, enum door_next *next)
{
	const struct cfg_pubkey *k = NULL;
	struct req_str auth;
	const char *key;
	size_t key_len;

	if (api_header(r, "authorization", &auth) == 1 &&
	    !api_bearer(auth.p, auth.len, &key, &key_len))
		k = pubkey_find(&door_app(c)->cfg.publishers, key, key_len);
	if (!k) {
		json_t *o = json_pack("{ss}", "error", "unauthorized");

		/* Never the key: only that it was missing or unknown. */
		log_notice("%.*s %.*s from %s: 401 (%s)",
		           (int)r->method_name.len, r->method_name.p,
		           (int)r->path.len, r->path.p, door_ip(c),
		           auth.p ? "unknown key" : "no Bearer key");
		*next = api_answer(
		    c, r, 401, o,
		    "WWW-Authenticate: Bearer realm=\"tickerd\"\r\n", 1);
	}
	return k;
}

/*
 * Take one request from k's bucket (--publish-rate): 0, or the seconds to
 * wait before the next one is allowed.
 */
static unsigned
rate_take(const struct cfg_rate *rate, const char *name, uint64_t now)
{
	struct bucket *b = NULL, *oldest = &buckets[0];
	double per_ms = (double)rate->n / (double)rate->per_ms;

	for (int i = 0; i < CFG_MAX_PUBKEYS && !b; i++) {
		if (!strcmp(buckets[i].name, name))
			b = &buckets[i];
		else if (buckets[i].at < oldest->at)
			oldest = &buckets[i];
	}
	if (!b) {
		b = oldest;
		snprintf(b->name, sizeof(b->name), "%s", name);
		b->tokens = rate->n;
		b->at = now;
	}
	b->tokens += (double)(now - b->at) * per_ms;
	if (b->tokens > rate->n)
		b->tokens = rate->n;
	b->at = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (unsigned)((1 - b->tokens) / per_ms / 1000) + 1;
}

int
api_topic(const struct request *r, char *topic, size_t len, const char **why)
{
	char path[1024], arg[TOPIC_MAX_LEN * 3 + 1];
	const char *given = NULL;
	long n;

	topic[0] = '\0';
	if (request_decode_path(r, path, sizeof(path)) < 0) {
		*why = "the path is malformed";
		return -1;
	}
	if (!strncmp(path, PATH_ITEMS, sizeof(PATH_ITEMS) - 1) &&
	    path[sizeof(PATH_ITEMS) - 1] == '/')
		given = path + sizeof(PATH_ITEMS);
	n = request_arg(r, "topic", arg, sizeof(arg));
	if (n == -2) {
		*why = "topic= is malformed";
		return -1;
	}
	if (n >= 0) {
		if (given && strcmp(given, arg)) {
			*why = "the path and topic= name different topics";
			return -1;
		}
		if (!given)
			given = arg;
	}
	{
		json_t *o = NULL, *t;
		size_t lead = 0;

		while (lead < r->body.len &&
		       strchr(" \t\r\n", r->body.p[lead]) && r->body.p[lead])
			lead++;
		if (lead < r->body.len && r->body.p[lead] == '{')
			o = json_loadb(r->body.p, r->body.len, 0, NULL);
		t = o ? json_object_get(o, "topic") : NULL;
		if (json_is_string(t)) {
			if (given && strcmp(given, json_string_value(t))) {
				json_decref(o);
				*why = "the payload's topic is not the one the "
				       "request names";
				return -1;
			}
			if (!given)
				snprintf(topic, len, "%s",
				         json_string_value(t));
		}
		json_decref(o);
	}
	if (given) {
		size_t gl = strlen(given);

		if (gl >= len || !topic_is_valid(given, gl)) {
			*why = "a topic is 1-64 of A-Z a-z 0-9 _ . -";
			return -1;
		}
		memcpy(topic, given, gl + 1);
	}
	if (!topic[0]) {
		*why = "no topic: /api/items/<topic>, ?topic= or the "
		       "payload's \"topic\"";
		return -1;
	}
	if (!topic_is_valid(topic, strlen(topic))) {
		*why = "a topic is 1-64 of A-Z a-z 0-9 _ . -";
		return -1;
	}
	return 0;
}

/* The dedupe token of key name + Idempotency-Key: "api:<sha256 hex>". */
static void
idempotency_token(const char *name, struct req_str key, char out[72])
{
	unsigned char h[32];
	char buf[65 + 1 + 128];
	int n =
	    snprintf(buf, sizeof(buf), "%s\n%.*s", name, (int)key.len, key.p);

	pubkey_sha256(buf, (size_t)n, h);
	memcpy(out, "api:", 4);
	for (int i = 0; i < 32; i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", h[i]);
}

/* POST /api/items[/<topic>]: check, record, answer once recorded. */
static enum door_next
publish(struct door_conn *c, const struct request *r)
{
	struct app *app = door_app(c);
	const struct cfg_pubkey *k;
	struct item_error err;
	struct item it;
	struct req_str idem;
	struct api_wait *w;
	char topic[TOPIC_MAX_LEN + 1], token[72], retry[48];
	const char *why;
	enum door_next next;
	unsigned wait_s;

	if (!(k = api_key(c, r, &next)))
		return next;
	wait_s = rate_take(&app->cfg.publish_rate, k->name, isotime_now_ms());
	if (wait_s) {
		snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", wait_s);
		return api_refuse(c, r, 429, "rate", NULL,
		                  "too many requests for this key", retry);
	}
	if (api_topic(r, topic, sizeof(topic), &why))
		return api_refuse(c, r, 400, "bad_topic", "topic", why, NULL);
	if (!pubkey_allows(k, topic)) {
		log_notice("POST from %s: 403: key %s may not publish to %s",
		           door_ip(c), k->name, topic);
		return api_answer(
		    c, r, 403,
		    json_pack("{ssss}", "error", "forbidden", "topic", topic),
		    NULL, 1);
	}
	if (api_header(r, "idempotency-key", &idem) < 0 ||
	    (idem.p && !api_idempotency_ok(idem.p, idem.len)))
		return api_refuse(c, r, 400, "idempotency_key", NULL,
		                  "Idempotency-Key must be one header of 1-128 "
		                  "printable characters",
		                  NULL);
	if (item_parse(topic, r->body.p ? r->body.p : "", r->body.len,
	               time(NULL), &it, &err))
		return api_refuse(c, r, 400, item_reason_name(err.reason),
		                  err.field[0] ? err.field : NULL, err.text,
		                  NULL);
	item_free(&it);
	if (app->shutting_down || !changelog_healthy(app->log))
		return api_refuse(c, r, 503, "redis", NULL,
		                  "the change log is not reachable now", NULL);
	if (!(w = calloc(1, sizeof(*w))) ||
	    !(w->payload = malloc(r->body.len ? r->body.len : 1))) {
		free(w);
		return api_refuse(c, r, 503, "memory", NULL, "out of memory",
		                  NULL);
	}
	memcpy(w->payload, r->body.p, r->body.len);
	w->len = r->body.len;
	w->c = c;
	w->r.method = r->method;
	w->r.keep_alive = r->keep_alive;
	w->r.method_name.p = "POST";
	w->r.method_name.len = 4;
	snprintf(w->by, sizeof(w->by), "%s", k->name);
	snprintf(w->topic, sizeof(w->topic), "%s", topic);
	if (idem.p)
		idempotency_token(k->name, idem, token);
	w->rec =
	    changelog_record_as(app->log, topic, w->payload, w->len, k->name,
	                        idem.p ? token : NULL, api_on_recorded, w);
	if (!w->rec) {
		api_wait_free(w);
		return api_refuse(c, r, 503, "redis", NULL,
		                  "could not queue the record", NULL);
	}
	return door_hold(c, API_WAIT_MS, api_on_hold_end, w);
}

enum door_next
api_route(struct door_conn *c, const struct request *r)
{
	if (!api_wants_body(r))
		return api_refuse(c, r, 404, "not_found", NULL,
		                  "the API is POST /api/items[/<topic>] and "
		                  "GET /api/items?topics=",
		                  NULL);
	/* As every route: one Host. */
	if (r->hosts > 1 || (r->minor && !r->hosts))
		return api_refuse(c, r, 400, "bad_request", NULL,
		                  "one Host header is needed", NULL);
	if (r->method == REQ_POST)
		return publish(c, r);
	if ((r->method == REQ_GET || r->method == REQ_HEAD) &&
	    r->path.len == sizeof(PATH_ITEMS) - 1) {
		/* A body only with a POST (unread: the answer closes). */
		if (r->has_body)
			return api_refuse(c, r, 400, "bad_request", NULL,
			                  "no request body is accepted but a "
			                  "POST's",
			                  NULL);
		return api_list(c, r);
	}
	return api_refuse(c, r, 405, "method", NULL,
	                  "POST /api/items[/<topic>], GET /api/items",
	                  r->path.len == sizeof(PATH_ITEMS) - 1
	                      ? "Allow: GET, HEAD, POST\r\n"
	                      : "Allow: POST\r\n");
}
