/* fuzz_client.c: fuzz the parsers of what clients and operators send. */
#include "fuzz.h"

#include "config.h"
#include "isotime.h"
#include "screen_report.h"
#include "seq.h"
#include "topics.h"

#include <string.h>

/*
 * ?topics=a,b,c: a filter is sorted, without duplicates, of valid names,
 * lets each of them through, and reads back from its own "a,b,c" form.
 */
static void
fuzz_topics(const char *list)
{
	struct topic_filter f, g;
	char why[128] = "", joined[TOPIC_FILTER_MAX * (TOPIC_MAX_LEN + 1)];
	size_t at = 0;

	if (topic_filter_parse(&f, list, why, sizeof(why))) {
		CHECK(why[0] && memchr(why, '\0', sizeof(why)));
		return;
	}
	CHECK(f.count >= 0 && f.count <= TOPIC_FILTER_MAX);
	CHECK(f.count || strspn(list, ",") == strlen(list));
	for (int i = 0; i < f.count; i++) {
		size_t n = strnlen(f.names[i], sizeof(f.names[i]));

		CHECK(n < sizeof(f.names[i]) && topic_is_valid(f.names[i], n));
		CHECK(!i || strcmp(f.names[i - 1], f.names[i]) < 0);
		CHECK(topic_filter_match(&f, f.names[i]));
		memcpy(joined + at, f.names[i], n);
		at += n;
		joined[at++] = ',';
	}
	joined[at ? at - 1 : 0] = '\0';
	CHECK(!topic_filter_parse(&g, joined, why, sizeof(why)));
	CHECK(topic_filter_equal(&f, &g) && topic_filter_equal(&g, &f));
}

/*
 * since= / Last-Event-ID / a stream entry id: "ms-n" reads back from its
 * own formatting, and orders as its two numbers do.
 */
static void
fuzz_seq(const char *s, size_t len)
{
	static const struct seq marks[] = {
	    {0, 0}, {1, 0}, {1750750200000ULL, 3}, {UINT64_MAX, UINT64_MAX}};
	char out[SEQ_STR_LEN];
	struct seq a, b;

	if (seq_parse(s, len, &a))
		return;
	CHECK(len <= 41 && !memchr(s, '\0', len));
	seq_format(a, out);
	CHECK(strlen(out) < SEQ_STR_LEN && strlen(out) <= len);
	CHECK(!seq_parse(out, strlen(out), &b));
	CHECK(!seq_cmp(a, b) && a.ms == b.ms && a.n == b.n);
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		int c = seq_cmp(a, marks[i]);
		int want = a.ms != marks[i].ms ? (a.ms < marks[i].ms ? -1 : 1)
		           : a.n != marks[i].n ? (a.n < marks[i].n ? -1 : 1)
		                               : 0;

		CHECK(c == want && seq_cmp(marks[i], a) == -want);
	}
}

/* An ISO 8601 time reads as one UTC instant that formats and reads back. */
static void
fuzz_isotime(const char *s)
{
	char out[ISOTIME_LEN + 8];
	time_t t, u;

	if (isotime_parse(s, &t))
		return;
	memset(out, 'X', sizeof(out));
	isotime_format(t, out);
	CHECK(memchr(out, '\0', ISOTIME_LEN));
	CHECK(strlen(out) == ISOTIME_LEN - 1 && out[ISOTIME_LEN - 2] == 'Z');
	if (t >= 0) {
		CHECK(!isotime_parse(out, &u));
		CHECK(u == t);
	}
}

/* --redis URL: a result is NUL-terminated and in range, or an error. */
static void
fuzz_redis_url(const char *url)
{
	struct redis_target t;
	struct cfg_error err;

	memset(&err, 0, sizeof(err));
	if (cfg_parse_redis_url(url, &t, &err)) {
		CHECK(err.text[0] && memchr(err.text, '\0', sizeof(err.text)));
		return;
	}
	CHECK(memchr(t.password, '\0', sizeof(t.password)));
	CHECK(memchr(t.master_name, '\0', sizeof(t.master_name)));
	CHECK(t.n_nodes >= 1 && t.n_nodes <= REDIS_MAX_NODES);
	CHECK(t.mode != REDIS_SENTINEL || t.master_name[0]);
	CHECK(t.mode == REDIS_DIRECT || !t.nodes[0].is_unix);
	CHECK(t.db >= 0);
	for (int i = 0; i < t.n_nodes; i++) {
		const struct redis_addr *a = &t.nodes[i];

		if (a->is_unix) {
			CHECK(memchr(a->path, '\0', sizeof(a->path)) &&
			      a->path[0] == '/');
			continue;
		}
		CHECK(memchr(a->host, '\0', sizeof(a->host)) && a->host[0]);
		CHECK(a->port >= 1 && a->port <= 65535);
	}
}

/* --listen HOST:PORT: a result is NUL-terminated and in range. */
static void
fuzz_listen(const char *s)
{
	static struct cfg c;
	struct cfg_error err;

	memset(&c, 0, sizeof(c));
	memset(&err, 0, sizeof(err));
	if (cfg_parse_listen(s, &c, &err)) {
		CHECK(err.text[0] && memchr(err.text, '\0', sizeof(err.text)));
		return;
	}
	CHECK(memchr(c.listen_host, '\0', sizeof(c.listen_host)));
	CHECK(c.listen_port >= 1 && c.listen_port <= 65535);
}

/*
 * A named screen's report (what a WebSocket client sends): taken with a
 * valid name and seq, or refused with a reason that has a name; a report
 * taken is the same when its fields are written back and read again.
 */
static void
fuzz_screen_report(const uint8_t *data, size_t len)
{
	struct screen_report r, again;
	enum screen_refusal why;
	char *p = malloc(len ? len : 1), back[256], seq[SEQ_STR_LEN];
	int n;

	CHECK(p);
	memcpy(p, data, len); /* exactly len bytes: a read past is seen */
	why = screen_report_parse(p, len, &r);
	free(p);
	CHECK(why < SCREEN_REFUSAL_COUNT && screen_refusal_name(why));
	if (why != SCREEN_OK)
		return;
	CHECK(len <= SCREEN_REPORT_MAX);
	CHECK(memchr(r.name, '\0', sizeof(r.name)) &&
	      topic_is_valid(r.name, strlen(r.name)));
	seq_format(r.seq, seq);
	n = snprintf(back, sizeof(back),
	             "{\"type\":\"screen\",\"name\":\"%s\",\"seq\":%s%s%s,"
	             "\"visible\":%s}",
	             r.name, r.has_seq ? "\"" : "", r.has_seq ? seq : "null",
	             r.has_seq ? "\"" : "", r.visible ? "true" : "false");
	CHECK(n > 0 && (size_t)n < sizeof(back));
	CHECK(screen_report_parse(back, (size_t)n, &again) == SCREEN_OK);
	CHECK(!strcmp(again.name, r.name) && again.has_seq == r.has_seq &&
	      again.visible == r.visible && !seq_cmp(again.seq, r.seq));
}

/*
 * The first byte picks the parser: 't' topics, 's' seq, 'i' ISO time,
 * 'r' Redis URL, 'l' listen address, 'w' a screen's report (any other
 * byte: its value mod 5, among the first five).
 * The rest is the text; C-string parsers see it up to its first NUL.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char kinds[] = "tsirlw";
	const char *k;
	char *text;
	size_t len;

	if (!size)
		return 0;
	k = memchr(kinds, data[0], 6);
	len = size - 1;
	text = malloc(len + 1);
	CHECK(text);
	memcpy(text, data + 1, len);
	text[len] = '\0';
	switch (k ? k - kinds : data[0] % 5) {
	case 0:
		fuzz_topics(text);
		break;
	case 1:
		fuzz_seq((const char *)data + 1, len);
		break;
	case 2:
		fuzz_isotime(text);
		break;
	case 3:
		fuzz_redis_url(text);
		break;
	case 5:
		fuzz_screen_report(data + 1, len);
		break;
	default:
		fuzz_listen(text);
		break;
	}
	free(text);
	return 0;
}
