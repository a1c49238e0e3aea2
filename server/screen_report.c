/* screen_report.c: a named screen's report, read and checked. */
#include "screen_report.h"

#include "topics.h"

#include <jansson.h>
#include <string.h>

static const char *const names[SCREEN_REFUSAL_COUNT] = {
    [SCREEN_OK] = "ok",
    [SCREEN_BAD_JSON] = "bad_json",
    [SCREEN_BAD_NAME] = "bad_name",
    [SCREEN_BAD_SEQ] = "bad_seq",
    [SCREEN_BAD_VISIBLE] = "bad_visible",
    [SCREEN_TOO_LARGE] = "too_large",
    [SCREEN_NAME_CHANGED] = "name_changed",
    [SCREEN_NAME_TAKEN] = "name_taken",
    [SCREEN_TOO_FREQUENT] = "too_frequent",
    [SCREEN_FULL] = "full",
};

/* What a refusal that closes the connection says in its close frame. */
static const char *const answers[SCREEN_REFUSAL_COUNT] = {
    [SCREEN_BAD_JSON] = "screen report: not {\"type\":\"screen\",...}",
    [SCREEN_BAD_NAME] = "screen report: name must be 1-64 of A-Za-z0-9_.-",
    [SCREEN_BAD_SEQ] = "screen report: seq must be a seq or null",
    [SCREEN_BAD_VISIBLE] = "screen report: visible must be true or false",
    [SCREEN_TOO_LARGE] = "screen report: over 1024 bytes",
    [SCREEN_NAME_CHANGED] = "screen report: another name than before",
};

const char *
screen_refusal_name(enum screen_refusal r)
{
	return r < SCREEN_REFUSAL_COUNT ? names[r] : "unknown";
}

const char *
screen_refusal_answer(enum screen_refusal r, int *code)
{
	if (r >= SCREEN_REFUSAL_COUNT || !answers[r])
		return NULL;
	*code = r == SCREEN_TOO_LARGE ? 1009 : 1008;
	return answers[r];
}

/* Read the fields of the object o into out; the first fault wins. */
static enum screen_refusal
read_fields(json_t *o, struct screen_report *out)
{
	json_t *type = json_object_get(o, "type");
	json_t *name = json_object_get(o, "name");
	json_t *seq = json_object_get(o, "seq");
	json_t *visible = json_object_get(o, "visible");
	const char *s;
	size_t len;

	if (!json_is_string(type) || strcmp(json_string_value(type), "screen"))
		return SCREEN_BAD_JSON;
	s = json_string_value(name);
	len = json_string_length(name);
	if (!s || len > SCREEN_NAME_MAX || !topic_is_valid(s, len))
		return SCREEN_BAD_NAME;
	memcpy(out->name, s, len);
	out->name[len] = '\0';
	out->has_seq = !json_is_null(seq);
	if (out->has_seq && (!json_is_string(seq) ||
	                     seq_parse(json_string_value(seq),
	                               json_string_length(seq), &out->seq)))
		return SCREEN_BAD_SEQ;
	if (!json_is_boolean(visible))
		return SCREEN_BAD_VISIBLE;
	out->visible = json_is_true(visible);
	return SCREEN_OK;
}

enum screen_refusal
screen_report_parse(const char *text, size_t len, struct screen_report *out)
{
	enum screen_refusal r;
	json_t *o;

	if (len > SCREEN_REPORT_MAX)
		return SCREEN_TOO_LARGE;
	memset(out, 0, sizeof(*out));
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return SCREEN_BAD_JSON;
	}
	r = read_fields(o, out);
	json_decref(o);
	return r;
}
