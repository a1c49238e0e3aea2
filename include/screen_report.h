/* screen_report.h: what a named screen tells tickerd, read and checked. */
#ifndef TICKERD_SCREEN_REPORT_H
#define TICKERD_SCREEN_REPORT_H

#include "seq.h"

#include <stddef.h>
#include <stdint.h>

/* A report is at most this many bytes; a longer one is refused. */
#define SCREEN_REPORT_MAX 1024
/* A screen's name: 1-64 of A-Z a-z 0-9 _ . - (as a topic's). */
#define SCREEN_NAME_MAX 64

/*
 * Why a report was refused (or ignored); each has a counter
 * (tickerd_screen_reports_refused_total{reason}) and a name for it.
 */
enum screen_refusal {
	SCREEN_OK = 0,
	SCREEN_BAD_JSON,     /* not a JSON object with "type":"screen" */
	SCREEN_BAD_NAME,     /* name missing, not text, or not 1-64 of ... */
	SCREEN_BAD_SEQ,      /* seq neither a seq ("ms-n") nor null */
	SCREEN_BAD_VISIBLE,  /* visible not true or false */
	SCREEN_TOO_LARGE,    /* over SCREEN_REPORT_MAX bytes */
	SCREEN_NAME_CHANGED, /* another name than the connection's */
	SCREEN_NAME_TAKEN,   /* another connection's, heard lately: ignored */
	SCREEN_TOO_FREQUENT, /* within 2 s of the connection's last: ignored */
	SCREEN_FULL,         /* SCREENS_MAX screens connected: ignored */
	SCREEN_REFUSAL_COUNT
};

/* One report, as read. */
struct screen_report {
	char name[SCREEN_NAME_MAX + 1];
	struct seq seq; /* the last message the screen drew */
	int has_seq;    /* 0: it drew nothing yet (seq null) */
	int visible;    /* document.visibilityState == "visible" */
};

/*
 * screen_report_parse() - read text[0..len), a client's message that
 * begins with '{': {"type":"screen","name":…,"seq":…|null,"visible":…}
 * (other keys ignored).  SCREEN_OK with *out filled, or the refusal.
 */
enum screen_refusal screen_report_parse(const char *text, size_t len,
                                        struct screen_report *out);

/* screen_refusal_name() - the reason's name in metrics and logs. */
const char *screen_refusal_name(enum screen_refusal r);

/*
 * screen_refusal_answer() - the close frame's reason for one that closes
 * the connection (code 1008, or 1009 for SCREEN_TOO_LARGE into *code), or
 * NULL for one that is only ignored and counted.
 */
const char *screen_refusal_answer(enum screen_refusal r, int *code);

#endif
