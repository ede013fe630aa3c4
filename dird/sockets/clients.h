/* Connections of dird's sockets, owned by the main loop from accept to close.  Requests are
 * read and replies written without blocking, driven by poll: a client that sends nothing, half
 * a request, or never reads its reply holds one slot until its deadline and delays nobody.
 * The worker and the PAM threads never touch a socket: they hand their replies back
 * (server_post_reply) and the main loop writes them. */
#ifndef DIRD_CLIENTS_H
#define DIRD_CLIENTS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* Each socket has its own slots: lookups from every local user cannot take the PAM socket's,
 * where logins (root's alone) come in. */
#define MAX_LOOKUP_CLIENTS 512
#define MAX_PAM_CLIENTS 64
#define MAX_USERDB_CLIENTS 256
#define MAX_CLIENTS (MAX_LOOKUP_CLIENTS + MAX_PAM_CLIENTS + MAX_USERDB_CLIENTS)
/* One local user cannot take every lookup (or userdb) slot, and all of them together leave
 * root some. */
#define MAX_CLIENTS_PER_UID 32
#define ROOT_LOOKUP_CLIENTS 32

enum client_socket {
	SOCKET_LOOKUP,		/* dird.sock */
	SOCKET_PAM,		/* pam.sock */
	SOCKET_USERDB,		/* userdb_socket: varlink, dird/sockets/userdb.c speaks it */
};

enum client_state {
	CLIENT_READING,		/* the request is coming in */
	CLIENT_WAITING,		/* the worker or a PAM thread has it */
	CLIENT_WRITING,		/* the reply is going out */
};

struct client {
	int fd;
	uint64_t id;		/* how a reply from another thread finds its connection */
	enum client_socket socket;	/* the one it came in on */
	uid_t uid;		/* SO_PEERCRED */
	enum client_state state;
	long long deadline_ms;	/* reading or writing must be done by then */
	uint32_t hdr[3];	/* the request's header, then the reply's */
	size_t got;		/* bytes of header and body read so far */
	struct buf body;	/* the request, then the reply */
	size_t sent;		/* bytes of the reply's header and body written so far */
	struct userdb_conn *udb;	/* SOCKET_USERDB: its calls and replies (instead of the above) */
};

struct clients {
	struct client v[MAX_CLIENTS];
	size_t n;
	size_t n_pam;		/* of them from the PAM socket */
	size_t n_userdb;	/* of them from the userdb socket */
	uint64_t next_id;
};

struct dird;

/* Accepts every waiting connection on listen_fd, the socket `socket`. */
void clients_accept(struct clients *cs, int listen_fd, enum client_socket socket);
/* The poll entries for the clients, from p[0]; returns how many. */
size_t clients_pollfds(const struct clients *cs, struct pollfd *p);
/* Reads what the polled clients sent and writes what they may take: a complete request goes
 * to server_request, a broken or late connection is closed.  p holds clients_pollfds's
 * entries. */
void clients_service(struct dird *d, struct clients *cs, const struct pollfd *p, size_t n);
/* Starts writing the replies other threads posted (server_post_reply). */
void clients_take_replies(struct dird *d, struct clients *cs);
/* Milliseconds until the nearest deadline (-1 without one). */
long long clients_next_deadline(const struct clients *cs, long long now);

#endif
