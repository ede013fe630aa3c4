/* dird's lookup and PAM sockets: listened on, and each whole request answered or handed on
 * (server.c). */
#ifndef DIRD_SERVER_H
#define DIRD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "dird.h"

int server_listen(const char *run_dir, const char *name, mode_t mode);
/* Answers one whole request of connection conn (uid from SO_PEERCRED): true with the answer
 * in status and reply, false when the worker or a PAM thread took it (body with it) and will
 * post the reply.  PAM requests only on the PAM socket and from root, everything else only on
 * the other. */
bool server_request(struct dird *d, uint64_t conn, bool pam_socket, uid_t uid, uint32_t op,
		    struct buf *body, uint32_t *status, struct buf *reply);
/* Hands a reply to the main loop, which writes it to conn (clients.c); takes reply's bytes.
 * Any thread, no lock held. */
void server_post_reply(struct dird *d, uint64_t conn, uint32_t status, struct buf *reply);

#endif
