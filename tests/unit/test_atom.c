/* test_atom.c: XML escaping (every special character, what XML forbids,
 * bytes that are not UTF-8, all two-byte inputs), name-based UUIDs, an
 * item's entry and the feed around entries. */
#include "unit.h"

#include "atom.h"
#include "item.h"
#include "message.h"
#include "seq.h"
#include "topics.h"
#include "utf8.h"

#include <stdio.h>

/* atom_escape() of s[0..len) as a new NUL-terminated string. */
static char *
escape(const char *s, size_t len)
{
	char *in = exact(s, len), *out = malloc(ATOM_ESCAPED_MAX(len) + 1);
	size_t n;

	assert_non_null(out);
	n = atom_escape(out, in, len);
	assert_true(n <= ATOM_ESCAPED_MAX(len));
	out[n] = '\0';
	free(in);
	return out;
}

#define CHECK_ESCAPE(lit, want)                                                \
	do {                                                                   \
		char *got_ = escape(S(lit));                                   \
		assert_string_equal(got_, want);                               \
		free(got_);                                                    \
	} while (0)

static void
test_escape_specials(void **state)
{
	(void)state;
	CHECK_ESCAPE("", "");
	CHECK_ESCAPE("plain", "plain");
	CHECK_ESCAPE("Tom & Jerry", "Tom &amp; Jerry");
	CHECK_ESCAPE("<b>\"x\"</b>", "&lt;b&gt;&quot;x&quot;&lt;/b&gt;");
	CHECK_ESCAPE("]]>", "]]&gt;");
	CHECK_ESCAPE("l'été", "l'été"); /* ' needs nothing in "…" values */
	CHECK_ESCAPE("&amp;", "&amp;amp;"); /* entities are text, not markup */
	CHECK_ESCAPE("a\tb\nc\rd", "a&#9;b&#10;c&#13;d");
	/* French text, byte for byte: é ’ « » and a no-break space. */
	CHECK_ESCAPE("\xc3\xa9 \xe2\x80\x99 \xc2\xab\xc2\xa0x\xc2\xa0\xc2\xbb",
	             "\xc3\xa9 \xe2\x80\x99 \xc2\xab\xc2\xa0x\xc2\xa0\xc2\xbb");
	CHECK_ESCAPE("\xf0\x9f\x93\xb0 news", "\xf0\x9f\x93\xb0 news");
	/* C1 controls and DEL are XML 1.0 characters: kept. */
	CHECK_ESCAPE("\x7f\xc2\x85", "\x7f\xc2\x85");
}

static void
test_escape_what_xml_forbids(void **state)
{
	(void)state;
	/* C0 controls but tab, LF and CR; NUL included. */
	CHECK_ESCAPE("a\x01z", "a\xef\xbf\xbdz");
	CHECK_ESCAPE("\0", "\xef\xbf\xbd");
	CHECK_ESCAPE("\x1b[31m", "\xef\xbf\xbd[31m");
	/* U+FFFE and U+FFFF are not characters; U+FFFD is. */
	CHECK_ESCAPE("\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd",
	             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Not UTF-8: each bad byte becomes one U+FFFD. */
	CHECK_ESCAPE("\xff", "\xef\xbf\xbd");
	CHECK_ESCAPE("\xc3", "\xef\xbf\xbd");      /* cut short */
	CHECK_ESCAPE("\xc3<", "\xef\xbf\xbd&lt;"); /* cut by markup */
	CHECK_ESCAPE("\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong '<' */
	CHECK_ESCAPE("\xe0\x80\xbc",
	             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	CHECK_ESCAPE("\xed\xa0\x80",
	             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	CHECK_ESCAPE("\xf4\x90\x80\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                                  "\xef\xbf\xbdx"); /* past U+10FFFF */
}

/* 1 if the code point is an XML 1.0 Char (section 2.2). */
static int
xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	       (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* Fail unless s is UTF-8 of XML characters with no raw < > & ". */
static void
check_well_formed(const unsigned char *s, size_t len, unsigned in)
{
	assert_int_equal(utf8_feed(UTF8_START, s, len), UTF8_START);
	for (size_t i = 0; i < len;) {
		uint32_t c = s[i];
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		c = n == 1 ? c : c & (0x7f >> n);
		for (size_t k = 1; k < n; k++)
			c = c << 6 | (s[i + k] & 0x3f);
		if (!xml_char(c) || c == '<' || c == '>' || c == '"')
			fail_msg("input %04x: U+%04X in the output", in, c);
		if (c == '&' && s[i + 1] != '#' && memcmp(s + i, "&amp;", 5) &&
		    memcmp(s + i, "&lt;", 4) && memcmp(s + i, "&gt;", 4) &&
		    memcmp(s + i, "&quot;", 6))
			fail_msg("input %04x: a bare & in the output", in);
		i += n;
	}
}

/* Every one- and two-byte input comes out well-formed XML text. */
static void
test_escape_every_two_bytes(void **state)
{
	unsigned char in[2], out[ATOM_ESCAPED_MAX(2)];

	(void)state;
	for (unsigned v = 0; v < 0x10000; v++) {
		in[0] = (unsigned char)(v >> 8);
		in[1] = (unsigned char)v;
		check_well_formed(
		    out, atom_escape((char *)out, (const char *)in + 1, 1), v);
		check_well_formed(
		    out, atom_escape((char *)out, (const char *)in, 2), v);
	}
}

/* Checked against Python's uuid.uuid5() with the same namespace. */
static void
test_uuid(void **state)
{
	char id[ATOM_UUID_LEN];

	(void)state;
	atom_uuid(S("item:world/a1"), id);
	assert_string_equal(id,
	                    "urn:uuid:b06e163c-a1e6-5e7e-ad79-8ece68d1fbc7");
	atom_uuid(S("feed:"), id);
	assert_string_equal(id,
	                    "urn:uuid:afb78997-29f9-55dc-bdc0-659cf9bf183d");
	atom_uuid(S("item:breaking/h-x"), id);
	assert_string_equal(id,
	                    "urn:uuid:659a7000-9701-5a27-890e-5738ab47a88f");
}

/* The item message of payload on topic, as ingest makes it (seq 1000-1). */
static struct msg *
item_msg(const char *topic, const char *payload)
{
	struct item it;
	struct item_error err;
	struct seq seq = {.ms = 1000, .n = 1};
	struct msg *m;

	if (item_parse(topic, payload, strlen(payload), 1750750200, &it, &err))
		fail_msg("%s: %s", payload, err.text);
	assert_int_equal(item_set_seq(&it, "1000-1"), 0);
	m = msg_new_item(&it, seq);
	assert_non_null(m);
	item_free(&it);
	return m;
}

static void
test_entry_fields(void **state)
{
	struct msg *m = item_msg(
	    "world",
	    "{\"id\":\"a1\",\"headline\":\"Tom & Jerry <b>\\\"q\\\"\","
	    "\"time\":\"2025-06-24T09:30:00+02:00\",\"lang\":\"fr\","
	    "\"url\":\"https://example.org/a?x=1&y=2\",\"source\":"
	    "\"AFP\",\"label\":\"Bulletin\",\"related\":[{\"headline\":"
	    "\"Lire aussi\",\"url\":\"https://example.org/r\"},"
	    "{\"headline\":\"no url\"}],\"expires\":"
	    "\"2030-01-01T00:00:00Z\"}");
	const struct atom_entry *e = atom_entry_of(m);

	(void)state;
	assert_non_null(e);
	assert_ptr_equal(atom_entry_of(m), e); /* made once */
	assert_int_equal(e->len, strlen(e->xml));
	assert_int_equal(e->expires, 1893456000);
	assert_string_equal(
	    e->xml,
	    "  <entry xml:lang=\"fr\">\n"
	    "    <id>urn:uuid:b06e163c-a1e6-5e7e-ad79-8ece68d1fbc7</id>\n"
	    "    <title type=\"text\">Tom &amp; Jerry &lt;b&gt;&quot;q&quot;"
	    "</title>\n"
	    "    <updated>2025-06-24T07:30:00Z</updated>\n"
	    "    <author><name>AFP</name></author>\n"
	    "    <category term=\"world\"/>\n"
	    "    <link rel=\"alternate\" "
	    "href=\"https://example.org/a?x=1&amp;y=2\"/>\n"
	    "    <link rel=\"related\" href=\"https://example.org/r\" "
	    "title=\"Lire aussi\"/>\n"
	    "    <summary type=\"text\">Bulletin</summary>\n"
	    "  </entry>\n");
	msg_unref(m);
}

/* No url: the headline is the content; no lang, source, label: none. */
static void
test_entry_plain(void **state)
{
	struct msg *m = item_msg("breaking", "Plain <headline>");
	const struct atom_entry *e = atom_entry_of(m);

	(void)state;
	assert_non_null(e);
	assert_int_equal(e->expires, 0);
	assert_non_null(strstr(e->xml, "  <entry>\n"));
	assert_non_null(strstr(e->xml, "<title type=\"text\">Plain "
	                               "&lt;headline&gt;</title>"));
	assert_non_null(strstr(e->xml, "<content type=\"text\">Plain "
	                               "&lt;headline&gt;</content>"));
	assert_non_null(strstr(e->xml, "<updated>2025-06-24T07:30:00Z"));
	assert_null(strstr(e->xml, "<link"));
	assert_null(strstr(e->xml, "<author"));
	assert_null(strstr(e->xml, "<summary"));
	msg_unref(m);
}

static void
test_feed(void **state)
{
	struct msg *a = item_msg("world", "first"),
	           *b = item_msg("sport", "2nd");
	const struct atom_entry *entries[2] = {atom_entry_of(b),
	                                       atom_entry_of(a)};
	static const char head[] =
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>urn:uuid:";
	static const char tail[] = "  </entry>\n</feed>\n";
	struct topic_filter f;
	char why[64], *doc;
	size_t len;

	(void)state;
	assert_int_equal(
	    topic_filter_parse(&f, "world,sport", why, sizeof(why)), 0);
	doc = atom_feed(&f, entries, 2, 1750750200, &len);
	assert_non_null(doc);
	assert_int_equal(len, strlen(doc));
	assert_int_equal(strncmp(doc, head, strlen(head)), 0);
	/* Topics come sorted: the same feed whatever order they were asked. */
	assert_non_null(strstr(doc,
	                       "<title type=\"text\">tickerd: sport,world"
	                       "</title>\n"
	                       "  <updated>2025-06-24T07:30:00Z</updated>"));
	assert_non_null(strstr(doc, "<link rel=\"self\" type=\"application/"
	                            "atom+xml\" href=\"feed.atom?topics=sport,"
	                            "world\"/>"));
	assert_non_null(strstr(doc, "href=\"wall.html?topics=sport,world\"/>"));
	assert_non_null(strstr(doc, "<author><name>tickerd</name></author>"));
	assert_true(strstr(doc, ">2nd</title>") <
	            strstr(doc, ">first</title>"));
	assert_string_equal(doc + len - strlen(tail), tail);
	free(doc);
	/* No topics: all of them, links without a query. */
	assert_int_equal(topic_filter_parse(&f, NULL, why, sizeof(why)), 0);
	doc = atom_feed(&f, NULL, 0, 0, &len);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "<id>urn:uuid:afb78997-29f9-55dc-bdc0-"
	                            "659cf9bf183d</id>"));
	assert_non_null(strstr(doc, "tickerd: all topics</title>\n"
	                            "  <updated>1970-01-01T00:00:00Z"));
	assert_non_null(strstr(doc, "href=\"feed.atom\"/>"));
	assert_non_null(strstr(doc, "href=\"wall.html\"/>"));
	assert_non_null(strstr(doc, "</generator>\n</feed>\n"));
	free(doc);
	msg_unref(a);
	msg_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_specials),
	    cmocka_unit_test(test_escape_what_xml_forbids),
	    cmocka_unit_test(test_escape_every_two_bytes),
	    cmocka_unit_test(test_uuid),
	    cmocka_unit_test(test_entry_fields),
	    cmocka_unit_test(test_entry_plain),
	    cmocka_unit_test(test_feed),
	};
	return cmocka_run_group_tests_name("atom", tests, NULL, NULL);
}
