/* access.h: private topics and the tokens that open them, for /ws and
 * /events: checked at the door, renewed by a token message, lost at exp. */
#ifndef TICKERD_ACCESS_H
#define TICKERD_ACCESS_H

#include "door.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct app;
struct json_t;
struct cfg;
struct request;
struct session;
struct session_start;

/* The largest token message ({"type":"token","token":"…"}) read whole;
 * a longer one is refused as too_large (within --max-message). */
#define ACCESS_MESSAGE_MAX (8192 + 256)

/*
 * access_init() - the private topics and the token key from c (once, at
 * start): 0, or -1 with why[] (private topics and no key, a key that
 * can't be read).  Never logs the secret.
 */
int access_init(const struct cfg *c, char *why, size_t why_len);

/* access_free() - forget the key. */
void access_free(void);

/*
 * access_admit() - after http_admit(), for /ws (renews: 1) and /events:
 * read r's token= and fill start's grants and token expiry.  A token that
 * is there and invalid, or (/events, which cannot send one later) a private
 * topic asked for without one: 403 {"error":"token","reason":"…"},
 * counted and logged (never the token), -1 (answered: DOOR_CLOSE).  0 to
 * go on.
 */
int access_admit(struct door_conn *c, const struct request *r,
                 struct session_start *start, int renews);

/* access_hello() - add "private", "locked" and "token_exp" (each only when
 * there is one) for the session_start arg to the hello object o. */
int access_hello(struct json_t *o, const void *arg);

/* access_is_token_message() - 1 if the text message p[0..len) (maybe cut
 * at ACCESS_MESSAGE_MAX + 1 bytes) is a token message. */
int access_is_token_message(const char *p, size_t len);

/*
 * access_message() - a WebSocket client's token message p[0..len) (len
 * over ACCESS_MESSAGE_MAX: cut, too long): check it; answer with an access
 * message, and a snapshot of its new topics if they change.
 */
void access_message(struct app *app, struct session *s, const char *p,
                    size_t len);

/*
 * access_sweep() - once a second: tokens about to expire (told once, 60 s
 * before exp) and expired ones (exp + leeway: the private topics go, told
 * with an access message and a fresh snapshot); answers that had to wait.
 */
void access_sweep(struct app *app);

/* The latest time_t: nothing is due. */
#define ACCESS_DUE_NEVER                                                       \
	((time_t)((((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 2)) - 1) *    \
	              2 +                                                      \
	          1))

/*
 * access_next_due() - when the sweep next acts on a client whose token
 * expires at exp (0: none, ACCESS_DUE_NEVER), warned or not yet: its
 * "expiring" warning at exp - 60, else its removal at exp + leeway + 1.
 */
time_t access_next_due(time_t exp, int warned, long leeway);

/* access_close() - the session is gone: free what waits for it. */
void access_close(struct session *s);

#endif
