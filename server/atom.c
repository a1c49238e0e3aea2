/* atom.c: the items as an Atom 1.0 feed (RFC 4287): each item's <entry>
 * made once from its JSON and kept with it, the feed around them per
 * request, and the escaping that keeps every byte well-formed XML. */
#include "atom.h"

#include "isotime.h"
#include "message.h"
#include "topics.h"
#include "version.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tickerd's namespace for name-based UUIDs (RFC 4122 4.3): a random one. */
static const unsigned char uuid_namespace[16] = {
    0x6f, 0x3c, 0x1d, 0x2a, 0x8b, 0x4e, 0x4c, 0x7a,
    0x9e, 0x21, 0x5d, 0x0b, 0x7f, 0x8a, 0x3c, 0x14};

/* A document being written; failed once a reservation could not be had. */
struct xml {
	char *p;
	size_t len, cap;
	int failed;
};

/* Room for more bytes (and a NUL) at x->p + x->len; 0, or -1 (failed). */
static int
reserve(struct xml *x, size_t more)
{
	size_t cap = x->cap ? x->cap : 1024;
	char *p;

	if (x->failed)
		return -1;
	while (cap - x->len <= more)
		cap *= 2;
	if (cap != x->cap) {
		if (!(p = realloc(x->p, cap))) {
			x->failed = 1;
			return -1;
		}
		x->p = p;
		x->cap = cap;
	}
	return 0;
}

/* Append markup written by tickerd (never anything from an item). */
static void
raw(struct xml *x, const char *s)
{
	size_t n = strlen(s);

	if (!reserve(x, n)) {
		memcpy(x->p + x->len, s, n);
		x->len += n;
		x->p[x->len] = '\0';
	}
}

/* Append s[0..len) escaped: text from an item or a request. */
static void
text(struct xml *x, const char *s, size_t len)
{
	if (!reserve(x, ATOM_ESCAPED_MAX(len))) {
		x->len += atom_escape(x->p + x->len, s, len);
		x->p[x->len] = '\0';
	}
}

/*
 * The code point of the UTF-8 sequence at s[0..len) in *cp and its length,
 * or 0 if it is not a whole, shortest-form sequence of a scalar value.
 */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = s[0] < 0x80                    ? 1
	           : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
	           : s[0] >= 0xe0 && s[0] <= 0xef ? 3
	           : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
	                                          : 0;
	uint32_t c = n == 1 ? s[0] : s[0] & (0x7f >> n);

	if (!n || n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t
atom_escape(char *out, const char *s, size_t len)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *u = (const unsigned char *)s;
	char *o = out;
	uint32_t c;

	for (size_t i = 0, n; i < len; i += n) {
		const char *ent = NULL;

		n = utf8_next(u + i, len - i, &c);
		if (!n || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0xfffe || c == 0xffff) {
			/* Not XML (or not UTF-8): the replacement character. */
			memcpy(o, fffd, 3);
			o += 3;
			n = n ? n : 1;
			continue;
		}
		switch (c) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\t':
			ent = "&#9;";
			break;
		case '\n':
			ent = "&#10;";
			break;
		case '\r':
			ent = "&#13;";
			break;
		}
		if (ent) {
			size_t el = strlen(ent);

			memcpy(o, ent, el);
			o += el;
		} else {
			memcpy(o, s + i, n);
			o += n;
		}
	}
	return (size_t)(o - out);
}

/* The name's SHA-1 in the namespace, as a version 5 UUID URN. */
static int
uuid_of(const char *name, size_t len, char out[ATOM_UUID_LEN])
{
	unsigned char md[20], *in = malloc(sizeof(uuid_namespace) + len);

	if (!in)
		return -1;
	memcpy(in, uuid_namespace, sizeof(uuid_namespace));
	memcpy(in + sizeof(uuid_namespace), name, len);
	lws_SHA1(in, sizeof(uuid_namespace) + len, md);
	free(in);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, ATOM_UUID_LEN,
	         "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	         "%02x%02x%02x%02x%02x%02x",
	         md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8],
	         md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
	return 0;
}

void
atom_uuid(const char *name, size_t len, char out[ATOM_UUID_LEN])
{
	if (uuid_of(name, len, out))
		out[0] = '\0';
}

/* The string o[key] (borrowed) and its length, or NULL. */
static const char *
str(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	*len = json_is_string(v) ? json_string_length(v) : 0;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* <tag>s</tag> on a line of its own, s escaped; open may carry attributes. */
static void
element(struct xml *x, const char *open, const char *tag, const char *s,
        size_t len)
{
	raw(x, "    <");
	raw(x, open);
	raw(x, ">");
	text(x, s, len);
	raw(x, "</");
	raw(x, tag);
	raw(x, ">\n");
}

/* <link rel="rel" href="url"[ title="title"]/>, values escaped. */
static void
link_element(struct xml *x, const char *rel, const char *url, size_t url_len,
             const char *title, size_t title_len)
{
	raw(x, "    <link rel=\"");
	raw(x, rel);
	raw(x, "\" href=\"");
	text(x, url, url_len);
	if (title) {
		raw(x, "\" title=\"");
		text(x, title, title_len);
	}
	raw(x, "\"/>\n");
}

/* The related items that have a url, as related links. */
static void
related_links(struct xml *x, json_t *related)
{
	size_t i, ul, hl;
	json_t *r;

	json_array_foreach(related, i, r)
	{
		const char *url = str(r, "url", &ul),
		           *h = str(r, "headline", &hl);

		if (url)
			link_element(x, "related", url, ul, h, hl);
	}
}

/* The <entry> of the item object o into x (see atom_entry_of()). */
static void
write_entry(struct xml *x, json_t *o)
{
	size_t idl, tl, hl, wl, ll, sl, ul, bl;
	const char *id = str(o, "id", &idl), *topic = str(o, "topic", &tl),
	           *headline = str(o, "headline", &hl),
	           *when = str(o, "time", &wl), *lang = str(o, "lang", &ll),
	           *source = str(o, "source", &sl), *url = str(o, "url", &ul),
	           *label = str(o, "label", &bl);
	char name[8 + TOPIC_MAX_LEN + 300], uuid[ATOM_UUID_LEN];
	int n =
	    snprintf(name, sizeof(name), "item:%s/%.*s", topic, (int)idl, id);

	if (n < 0 || (size_t)n >= sizeof(name) ||
	    uuid_of(name, (size_t)n, uuid)) {
		x->failed = 1;
		return;
	}
	raw(x, "  <entry");
	if (lang) {
		raw(x, " xml:lang=\"");
		text(x, lang, ll);
		raw(x, "\"");
	}
	raw(x, ">\n    <id>");
	raw(x, uuid);
	raw(x, "</id>\n");
	element(x, "title type=\"text\"", "title", headline, hl);
	element(x, "updated", "updated", when, wl);
	if (source) {
		raw(x, "    <author><name>");
		text(x, source, sl);
		raw(x, "</name></author>\n");
	}
	raw(x, "    <category term=\"");
	text(x, topic, tl);
	raw(x, "\"/>\n");
	if (url)
		link_element(x, "alternate", url, ul, NULL, 0);
	related_links(x, json_object_get(o, "related"));
	if (label)
		element(x, "summary type=\"text\"", "summary", label, bl);
	/* RFC 4287 4.1.2: an entry without an alternate link has content. */
	if (!url)
		element(x, "content type=\"text\"", "content", headline, hl);
	raw(x, "  </entry>\n");
}

const struct atom_entry *
atom_entry_of(struct msg *m)
{
	struct xml x = {0};
	struct atom_entry *e;
	const char *expires;
	json_t *o;
	size_t el;

	if (m->atom || !m->item_len)
		return m->atom;
	o = json_loadb((const char *)msg_payload(m) + m->item_off, m->item_len,
	               0, NULL);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
	    !json_is_string(json_object_get(o, "topic")) ||
	    !json_is_string(json_object_get(o, "headline"))) {
		json_decref(o);
		return NULL;
	}
	write_entry(&x, o);
	e = x.failed ? NULL : malloc(sizeof(*e) + x.len + 1);
	if (e) {
		e->expires = 0;
		expires = str(o, "expires", &el);
		if (expires && isotime_parse(expires, &e->expires))
			e->expires = 0;
		e->len = x.len;
		memcpy(e->xml, x.p, x.len + 1);
	}
	free(x.p);
	json_decref(o);
	m->atom = e;
	return e;
}

/* The topics as a comma-separated list ("" for all), into out. */
static void
topic_list(const struct topic_filter *f, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < f->count; i++) {
		int w = snprintf(out + n, size - n, "%s%s", i ? "," : "",
		                 f->names[i]);

		if (w < 0 || (size_t)w >= size - n)
			return;
		n += (size_t)w;
	}
}

/* The feed's own elements, before its entries. */
static void
write_head(struct xml *x, const struct topic_filter *f, time_t updated)
{
	char list[TOPIC_FILTER_MAX * (TOPIC_MAX_LEN + 1) + 1];
	char name[sizeof(list) + 8], uuid[ATOM_UUID_LEN], when[ISOTIME_LEN];
	int n;

	topic_list(f, list, sizeof(list));
	n = snprintf(name, sizeof(name), "feed:%s", list);
	isotime_format(updated, when);
	if (n < 0 || uuid_of(name, (size_t)n, uuid)) {
		x->failed = 1;
		return;
	}
	raw(x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	       "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>");
	raw(x, uuid);
	raw(x, "</id>\n  <title type=\"text\">tickerd: ");
	/* Topic names are A-Z a-z 0-9 _ . - only: nothing to escape. */
	raw(x, f->count ? list : "all topics");
	raw(x, "</title>\n  <updated>");
	raw(x, when);
	raw(x, "</updated>\n  <link rel=\"self\" "
	       "type=\"application/atom+xml\" href=\"feed.atom");
	raw(x, f->count ? "?topics=" : "");
	raw(x, list);
	raw(x, "\"/>\n  <link rel=\"alternate\" type=\"text/html\" "
	       "href=\"wall.html");
	raw(x, f->count ? "?topics=" : "");
	raw(x, list);
	raw(x, "\"/>\n  <author><name>tickerd</name></author>\n"
	       "  <generator version=\"" TICKERD_VERSION "\">tickerd"
	       "</generator>\n");
}

char *
atom_feed(const struct topic_filter *f, const struct atom_entry *const *entries,
          size_t n, time_t updated, size_t *len)
{
	struct xml x = {0};

	write_head(&x, f, updated);
	for (size_t i = 0; i < n; i++)
		if (!reserve(&x, entries[i]->len)) {
			memcpy(x.p + x.len, entries[i]->xml, entries[i]->len);
			x.len += entries[i]->len;
		}
	raw(&x, "</feed>\n");
	if (x.failed) {
		free(x.p);
		return NULL;
	}
	*len = x.len;
	return x.p;
}
