/* api_list.c: GET /api/items?topics=a,b with a publisher key: the current
 * items of those topics the key may publish to, oldest first, each with
 * the name of the key that published it ("by"): the editors' desk's view.
 * Readers' outputs never carry "by". */
#include "api_private.h"

#include "app.h"
#include "fanout.h"
#include "history.h"
#include "request.h"
#include "message.h"
#include "pubkeys.h"
#include "seq.h"
#include "topics.h"

#include <stdlib.h>

/* The item object of an "item" message, with "by" when it has one. */
static json_t *
item_of(const struct msg *m)
{
	json_t *o = json_loadb((const char *)msg_payload(m) + m->item_off,
	                       m->item_len, 0, NULL);

	if (o && m->by)
		json_object_set_new(o, "by", json_string(m->by));
	return o;
}

enum door_next
api_list(struct door_conn *c, const struct request *r)
{
	struct app *app = door_app(c);
	const struct cfg_pubkey *k;
	struct topic_filter f;
	struct msg **items, *newest;
	enum door_next next;
	char seq[SEQ_STR_LEN], why[128];
	char names[TOPIC_FILTER_MAX * (TOPIC_MAX_LEN + 1) + 1];
	json_t *o, *list;
	long n;

	if (!(k = api_key(c, r, &next)))
		return next;
	n = request_arg(r, "topics", names, sizeof(names));
	if (n == -2 ||
	    topic_filter_parse(&f, n >= 0 ? names : NULL, why, sizeof(why)))
		return api_refuse(c, r, 400, "bad_topics", NULL,
		                  n == -2 ? "topics= is malformed" : why, NULL);
	n = history_collect(app->history, &f, &items);
	if (n < 0)
		return api_answer(c, r, 500, NULL, NULL, 0);
	list = json_array();
	for (long i = 0; list && i < n; i++)
		if (pubkey_allows(k, items[i]->topic))
			json_array_append_new(list, item_of(items[i]));
	free(items);
	newest = fan_newest(app->fan);
	if (newest)
		seq_format(newest->seq, seq);
	o = json_pack("{s:s?,s:o}", "seq", newest ? seq : NULL, "items", list);
	return api_answer(c, r, 200, o, NULL, 1);
}
