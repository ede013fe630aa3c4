/* Connections of the two sockets, read without blocking by the main loop: a client that sends
 * nothing, or half a request, holds one slot until its deadline and stalls nobody. */
#ifndef DIRD_CLIENTS_H
#define DIRD_CLIENTS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define MAX_CLIENTS 512
/* One local user cannot take every slot. */
#define MAX_CLIENTS_PER_UID 32

struct client {
	int fd;
	bool pam;		/* came in on the PAM socket */
	uid_t uid;		/* SO_PEERCRED */
	long long deadline_ms;	/* the whole request must be in by then */
	uint32_t hdr[3];
	size_t got;		/* bytes of header and body read so far */
	struct buf body;
};

struct clients {
	struct client v[MAX_CLIENTS];
	size_t n;
};

struct dird;

/* Accepts every waiting connection on listen_fd. */
void clients_accept(struct clients *cs, int listen_fd, bool pam);
/* The poll entries for the clients, from p[0]; returns how many. */
size_t clients_pollfds(const struct clients *cs, struct pollfd *p);
/* Reads what the polled clients sent; a complete request goes to server_request, a broken or
 * late one is closed.  p holds clients_pollfds's entries. */
void clients_service(struct dird *d, struct clients *cs, const struct pollfd *p, size_t n);
/* Milliseconds until the nearest deadline (-1 without clients). */
long long clients_next_deadline(const struct clients *cs, long long now);

#endif
