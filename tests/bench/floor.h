/* floor.h: the raw broadcaster's pieces, sharing one epoll loop. */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

extern int epfd;

/*
 * fc_listen() - listen on 127.0.0.1:port, sharing it (SO_REUSEPORT) with
 * other floor processes when reuse_port; the fd, or -1.
 */
int fc_listen(int port, int reuse_port);

/* fc_accept() - accept every waiting connection. */
void fc_accept(void);

/* fc_event() - epoll reported events for client socket fd. */
void fc_event(int fd, uint32_t events);

/* fc_broadcast() - frame payload once, send() it to every open client. */
void fc_broadcast(const char *payload, size_t len);

/* fc_count() - clients upgraded so far and still connected. */
unsigned fc_count(void);

/* fc_upgraded() - clients upgraded since the start. */
unsigned long fc_upgraded(void);

/* fr_open() - connect to Redis on port and PSUBSCRIBE pattern; fd or -1. */
int fr_open(int port, const char *pattern);

/* fr_event() - read Redis, broadcasting each pmessage; -1 if it closed. */
int fr_event(void);

#endif
