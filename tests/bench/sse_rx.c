/* sse_rx.c: text/event-stream lines, read a byte range at a time. */
#include "sse_rx.h"

#include <string.h>

enum { S_START, S_NAME, S_SPACE, S_VALUE, S_COMMENT };
enum { F_OTHER, F_DATA, F_EVENT };

/* The first byte of p .. end that ends a line (CR or LF), or end. */
static const uint8_t *
line_end(const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p != '\n' && *p != '\r')
		p++;
	return p;
}

/* The field name ended (at ':' or the end of its line): begin its value. */
static void
start_field(struct sse_rx *rx, const struct sse_rx_cb *cb, void *u)
{
	rx->field = F_OTHER;
	if (rx->name_len == 4 && !memcmp(rx->name, "data", 4)) {
		rx->field = F_DATA;
		/* The data lines of one event are joined by a newline. */
		if (rx->has_data)
			cb->data(u, (const uint8_t *)"\n", 1);
		rx->has_data = 1;
	} else if (rx->name_len == 5 && !memcmp(rx->name, "event", 5)) {
		rx->field = F_EVENT;
		rx->type_len = 0; /* the last event field wins */
	}
}

/* A blank line: the event ends; it counts only if it had data. */
static void
dispatch(struct sse_rx *rx, const struct sse_rx_cb *cb, void *u)
{
	if (rx->has_data) {
		if (!rx->type_len)
			cb->event(u, "message");
		else if (rx->type_len > SSE_TYPE_MAX)
			cb->event(u, "");
		else {
			rx->type[rx->type_len] = '\0';
			cb->event(u, rx->type);
		}
	}
	rx->has_data = 0;
	rx->type_len = 0;
}

/* Value bytes p .. q of the current field (no line end among them). */
static void
value(struct sse_rx *rx, const uint8_t *p, const uint8_t *q,
      const struct sse_rx_cb *cb, void *u)
{
	size_t n = (size_t)(q - p);

	if (rx->field == F_DATA) {
		cb->data(u, p, n);
	} else if (rx->field == F_EVENT && rx->type_len <= SSE_TYPE_MAX) {
		if (rx->type_len + n > SSE_TYPE_MAX) {
			rx->type_len = SSE_TYPE_MAX + 1;
		} else {
			memcpy(rx->type + rx->type_len, p, n);
			rx->type_len = (uint8_t)(rx->type_len + n);
		}
	}
}

/* A line ended (CR, LF or CRLF) in the given state. */
static void
end_line(struct sse_rx *rx, const struct sse_rx_cb *cb, void *u)
{
	switch (rx->state) {
	case S_START:
		dispatch(rx, cb, u);
		break;
	case S_NAME: /* a name alone: the field with an empty value */
		start_field(rx, cb, u);
		break;
	case S_COMMENT:
		cb->comment(u);
		break;
	default:
		break;
	}
	rx->state = S_START;
}

void
sse_rx_feed(struct sse_rx *rx, const uint8_t *p, size_t n,
            const struct sse_rx_cb *cb, void *u)
{
	const uint8_t *end = p + n, *q;

	while (p < end) {
		uint8_t c = *p;

		if (rx->cr) { /* the LF of a CRLF ends nothing more */
			rx->cr = 0;
			if (c == '\n') {
				p++;
				continue;
			}
		}
		if (c == '\r' || c == '\n') {
			rx->cr = c == '\r';
			end_line(rx, cb, u);
			p++;
			continue;
		}
		switch (rx->state) {
		case S_START:
			rx->name_len = 0;
			rx->state = c == ':' ? S_COMMENT : S_NAME;
			if (c == ':')
				p++;
			continue;
		case S_NAME:
			if (c == ':') {
				start_field(rx, cb, u);
				rx->state = S_SPACE;
			} else if (rx->name_len < sizeof(rx->name)) {
				rx->name[rx->name_len++] = (char)c;
			}
			p++;
			continue;
		case S_SPACE: /* one space after the colon is not the value's */
			rx->state = S_VALUE;
			if (c == ' ')
				p++;
			continue;
		case S_VALUE:
			q = line_end(p, end);
			value(rx, p, q, cb, u);
			p = q;
			continue;
		default: /* S_COMMENT */
			p = line_end(p, end);
			continue;
		}
	}
}
