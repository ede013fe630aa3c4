/* The client side of the dird socket protocol (libcommon/protocol.h), for libnss_dir, pam_dir
 * and dirctl.  Every step is bounded by one deadline; SIGPIPE is never raised. */
#ifndef DIR_CLIENT_H
#define DIR_CLIENT_H

#include "buf.h"

/* Sends `op` with `body` to the socket in `run_dir` and waits at most timeout_ms for the reply.
 * On success returns 0, sets *status and fills `reply` with the body.  Returns -1 with errno
 * set when dird is not there (ENOENT, ECONNREFUSED), too slow (ETIMEDOUT) or broke the
 * protocol (EPROTO). */
int dir_client_call(const char *run_dir, int timeout_ms, uint32_t op, const struct buf *body,
		    uint32_t *status, struct buf *reply);
/* The same on another of dird's sockets (DIR_PAM_SOCKET_NAME). */
int dir_client_call_socket(const char *run_dir, const char *socket_name, int timeout_ms,
			   uint32_t op, const struct buf *body, uint32_t *status, struct buf *reply);

/* Sends `op` with `body` and does not wait for any answer: a hint.  Never blocks; -1 when
 * dird is not there or its queue is full. */
int dir_client_send(const char *run_dir, uint32_t op, const struct buf *body);

/* A pam body (protocol.h) as dird sent it: 0 with the result, the message and the ticket bytes
 * (pointers into data), or -1 when it is malformed or the result is not one we know. */
struct dir_pam_reply {
	uint32_t result;	/* enum dir_pam_result */
	const char *message;
	const void *tickets;
	uint32_t n_tickets;
};
int dir_pam_reply_parse(const void *data, size_t len, struct dir_pam_reply *out);

#endif
