/* held.c: the embargoed items waiting for release.  A few at a time: a
 * list is enough. */
#include "held.h"

#include <stdlib.h>
#include <string.h>

struct held_item {
	struct held_item *next;
	char *topic, *id;
	uint64_t ms;
};

struct held {
	struct held_item *items;
	size_t count;
};

struct held *
held_new(void)
{
	return calloc(1, sizeof(struct held));
}

static struct held_item **
find(const struct held *h, const char *topic, const char *id)
{
	struct held_item **p = (struct held_item **)&h->items;

	for (; *p; p = &(*p)->next)
		if (!strcmp((*p)->topic, topic) && !strcmp((*p)->id, id))
			return p;
	return p;
}

int
held_put(struct held *h, const char *topic, const char *id, uint64_t ms)
{
	struct held_item **p = find(h, topic, id), *it;

	if (*p) {
		(*p)->ms = ms;
		return 0;
	}
	it = calloc(1, sizeof(*it));
	if (!it || !(it->topic = strdup(topic)) || !(it->id = strdup(id))) {
		if (it)
			free(it->topic);
		free(it);
		return -1;
	}
	it->ms = ms;
	*p = it;
	h->count++;
	return 0;
}

uint64_t
held_until(const struct held *h, const char *topic, const char *id)
{
	struct held_item **p = find(h, topic, id);

	return *p ? (*p)->ms : 0;
}

int
held_remove(struct held *h, const char *topic, const char *id)
{
	struct held_item **p = find(h, topic, id), *it = *p;

	if (!it)
		return 0;
	*p = it->next;
	free(it->topic);
	free(it->id);
	free(it);
	h->count--;
	return 1;
}

void
held_clear(struct held *h)
{
	while (h->items)
		held_remove(h, h->items->topic, h->items->id);
}

void
held_free(struct held *h)
{
	if (!h)
		return;
	held_clear(h);
	free(h);
}

size_t
held_count(const struct held *h)
{
	return h->count;
}
