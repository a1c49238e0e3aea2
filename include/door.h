/* door.h: the front door: every new connection's request, read before lws. */
#ifndef TICKERD_DOOR_H
#define TICKERD_DOOR_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

struct app;
struct door;
struct door_conn;
struct fwd_client;
struct request;

/*
 * What a route did with a request: answered it (the connection may serve
 * another), answered it and the connection ends there, or handed the
 * connection on (to lws, as a WebSocket or an EventSource stream): the
 * door_conn is gone then.  DOOR_WAIT: door_hold()'s, the route answers
 * later (door_resume()).
 */
enum door_next { DOOR_KEEP, DOOR_CLOSE, DOOR_GONE, DOOR_WAIT };

/*
 * door_new() - the front door of app (its loop, configuration and guard).
 * Each connection it is given must bring a whole request head within
 * --handshake-timeout (of being accepted, or of its previous answer);
 * while it has not, it costs a small struct and no lws header table, and
 * an address may hold --max-per-ip of them.  Complete requests go to
 * http_route().  NULL on ENOMEM.
 */
struct door *door_new(struct app *app);

/* door_free() - close every connection still at the door, and free it. */
void door_free(struct door *d);

/*
 * door_accept() - a connection just accepted (non-blocking), from peer:
 * take it.
 */
void door_accept(struct door *d, int fd, const struct sockaddr *peer);

/* door_count() - connections at the door now (not yet handed on). */
size_t door_count(const struct door *d);

/*
 * door_ip() - the client's address, as text: the peer's, or the one its
 * PROXY header named, or (while a request is routed) the one a trusted
 * proxy's forwarding headers named.
 */
const char *door_ip(const struct door_conn *c);

/*
 * door_client() - while http_route() runs: the client of the request (its
 * address, the host and scheme it asked for: see forwarded.h).
 */
const struct fwd_client *door_client(const struct door_conn *c);

/* door_app() - the app a connection belongs to. */
struct app *door_app(const struct door_conn *c);

/*
 * door_write() - send buf[0..len) after whatever is waiting; what the
 * socket does not take waits, and the next request with it.  0, or -1 if
 * the connection failed.  (reply.c's; routes answer with door_respond().)
 */
int door_write(struct door_conn *c, const char *buf, size_t len);

/*
 * door_answered() - an answer was written (ok) or could not be (the
 * connection ends); keep: the connection may serve another request.
 */
void door_answered(struct door_conn *c, int ok, int keep);

/*
 * door_respond() - answer r with status, a body of type (none when type is
 * NULL) and extra header lines (each ending in "\r\n"; may be NULL), with
 * every header tickerd's answers carry (security headers, length,
 * caching).  HEAD gets the headers alone.  keep says whether the
 * connection may go on after it (and r allows it).  Returns DOOR_KEEP or
 * DOOR_CLOSE accordingly.
 */
enum door_next door_respond(struct door_conn *c, const struct request *r,
                            int status, const char *type, const char *body,
                            size_t len, const char *extra, int keep);

/*
 * door_respond_cached() - door_respond() for an answer that browsers and
 * CDNs may keep (a file): cache is its Cache-Control value (door_respond()
 * says no-store); the connection may go on.  A 304 goes out without
 * Content-Type, Content-Length or body.
 */
enum door_next door_respond_cached(struct door_conn *c, const struct request *r,
                                   int status, const char *type,
                                   const char *body, size_t len,
                                   const char *cache, const char *extra);

/*
 * door_refuse() - answer with an error status and a one-line text/plain
 * reason (never any byte of the request), then close.  Returns DOOR_CLOSE.
 */
enum door_next door_refuse(struct door_conn *c, const struct request *r,
                           int status, const char *reason, const char *extra);

/* Room for a response head (its CSP included). */
#define DOOR_HEAD_ROOM 4096

/*
 * door_stream_head() - the head of a response without a length (an
 * EventSource stream), written into buf (size bytes, DOOR_HEAD_ROOM will
 * do) to go out with the first bytes written after it, as
 * door_head_later() says; its length, or -1.
 */
int door_stream_head(struct door_conn *c, int status, const char *type,
                     const char *extra, char *buf, size_t size);

/*
 * door_head_later() - the head of a response that the connection will not
 * be answered on by the door any more (a 101) will go out with the first
 * bytes written after it (session_adopted()): count it as status.  0, or
 * -1 if an earlier answer is still being sent (the head would overtake it).
 */
int door_head_later(struct door_conn *c, int status);

/*
 * door_to_csock() - the door is done with c (a WebSocket or an EventSource
 * stream whose head went out, or will with the first write): its socket
 * becomes a client socket of h's with owner_size bytes of owner data
 * (csock.h), read from now on, so its leaving is seen at once.  NULL if
 * that failed (the socket is closed).  The caller returns DOOR_GONE.
 */
struct csock;
struct csock_handler;
struct csock *door_to_csock(struct door_conn *c, const struct csock_handler *h,
                            size_t owner_size);

/*
 * door_hold() - the route will answer r later (it waits for Redis): the
 * connection reads nothing more until door_resume(), for at most ms.  If
 * it ends first, end(arg, 0) is called (the client left: answer nothing);
 * at ms, end(arg, 1): answer now with door_respond(), then it closes.
 * end is not called once door_resume() was.  Returns DOOR_WAIT, for the
 * route to return.  Whatever of r the answer needs must be copied: the
 * request's bytes are gone once the route returns.
 */
enum door_next door_hold(struct door_conn *c, uint64_t ms,
                         void (*end)(void *arg, int expired), void *arg);

/*
 * door_resume() - a held connection was answered (next: what
 * door_respond() returned): it goes on with its next request, or closes.
 */
void door_resume(struct door_conn *c, enum door_next next);

/*
 * door_body() - door_body.c's: r is a POST whose body the route reads
 * (api_wants_body()): 0 when all of it is in (r->body set), 1 while more
 * is to come, -1 when it is refused (answered; *next is DOOR_CLOSE): no
 * Content-Length or a Transfer-Encoding (411), more than the route takes
 * (413, without reading it), a Content-Length sent twice (400).
 */
int door_body(struct door_conn *c, struct request *r, enum door_next *next);

#endif
