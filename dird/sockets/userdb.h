/* dird's io.systemd.UserDatabase service (libcommon/protocol.h): the connections of the userdb
 * socket, owned by clients.c as the others are, answered by the main loop from the cache. */
#ifndef DIRD_USERDB_H
#define DIRD_USERDB_H

struct client;
struct dird;
struct userdb_conn;

/* Listens on path (dird.conf's userdb_socket), making its directory if missing: the fd, or
 * -1 (logged). */
int userdb_listen(const char *path);

struct userdb_conn *userdb_conn_new(void);
void userdb_conn_free(struct userdb_conn *u);

/* Reads the client's calls, answers them and writes the replies as far as the socket takes
 * them, setting c->state (reading or writing) and c->deadline_ms.  0: keep the connection;
 * -1: close it (the client left, or sent what is not a varlink call). */
int userdb_service(struct dird *d, struct client *c);

#endif
