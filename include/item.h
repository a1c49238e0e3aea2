/* item.h: a published payload turned into one normalised news item. */
#ifndef TICKERD_ITEM_H
#define TICKERD_ITEM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ITEM_MAX_PAYLOAD  (256 * 1024)
#define ITEM_MAX_HEADLINE 1000

enum item_status { ITEM_USABLE, ITEM_WITHHELD, ITEM_CANCELED };

/* Why a payload was rejected; each has a counter and a stable name. */
enum item_reason {
	ITEM_OK = 0,
	ITEM_ERR_TOO_LARGE,
	ITEM_ERR_UTF8,
	ITEM_ERR_JSON,
	ITEM_ERR_NOT_OBJECT,
	ITEM_ERR_HEADLINE,
	ITEM_ERR_FIELD,
	ITEM_ERR_URL,
	ITEM_ERR_TIME,
	ITEM_ERR_PRIORITY,
	ITEM_ERR_STATUS,
	ITEM_ERR_TOPIC,
	ITEM_ERR_EMBARGO,
	ITEM_ERR_EXPIRED,
	ITEM_ERR_NOMEM,
	ITEM_REASON_COUNT
};

/* Filled in by item_parse() on failure, like jansson's json_error_t. */
struct item_error {
	enum item_reason reason;
	/* The item field it concerns, by its wire key ("url", "headline";
	 * "embargo", "topic"), or "" when it is the payload as a whole (JSON,
	 * UTF-8, size): for answers that point at a form's field. */
	char field[24];
	char text[200];
};

/*
 * A normalised item.  json is the object clients receive (keys in wire
 * order, "seq" a placeholder until item_set_seq()); the other fields are
 * borrowed from it or derived for the history's decisions.  Owned by the
 * caller of item_parse(); release with item_free().
 */
struct item {
	json_t *json;
	const char *id;
	const char *topic;
	long version;
	int version_given; /* the publisher said which version this is */
	int id_derived;    /* no id given: hashed from the payload */
	enum item_status status;
	time_t time;    /* the item's time */
	time_t embargo; /* still to come when parsed: held until then; else 0 */
	time_t expires; /* 0: none given */
};

/* An embargo further ahead than this (a year) is refused as a mistake. */
#define EMBARGO_MAX_S (366L * 86400)

/*
 * item_parse() - turn a payload published on topic into an item.
 * A payload whose first non-blank byte is '{' is a JSON object (our fields
 * or IPTC ninjs names); one that is JSON of another kind (an array, a
 * number, true, false, null) is refused as ITEM_ERR_NOT_OBJECT; anything
 * else, a JSON string included, is a plain-text headline stamped with now.
 * Returns 0 and fills *it, or -1 and fills *err (nothing to free).
 */
int item_parse(const char *topic, const char *payload, size_t len, time_t now,
               struct item *it, struct item_error *err);

/*
 * item_set_seq() - record the item's log position ("ms-n") in its JSON.
 * Returns 0, or -1 when out of memory (the item keeps its old seq).
 */
int item_set_seq(struct item *it, const char *seq);

/*
 * item_set_version() - give the item a version (an implied correction).
 * Returns 0, or -1 when out of memory (the item is unchanged).
 */
int item_set_version(struct item *it, long version);

/* item_free() - release what item_parse() made; safe on a zeroed item. */
void item_free(struct item *it);

/* item_reason_name() - the stable snake_case name of a rejection reason. */
const char *item_reason_name(enum item_reason reason);

#endif
