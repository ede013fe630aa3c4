#include <errno.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "buf.h"
#include "client.h"
#include "pam_dir.h"

/* dird asks each domain in turn; each may take a connect, a search and a bind.  A realm that
 * serves local users is asked as a domain with the default timeout would be. */
static int deadline_ms(const struct dir_module_config *cfg)
{
	unsigned long ms = 1000 + 3000ul * (cfg->domain_timeouts +
					    cfg->krb5_local_realms * DIR_DEFAULT_TIMEOUT);
	return ms > 120000 ? 120000 : (int)ms;
}

static const char *item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v ? v : "";
}

enum dir_pam_result pam_dir_ask(pam_handle_t *pamh, const struct dir_module_config *cfg,
				uint32_t op, const char *user, const char *password,
				const char *new_password, char *msg, size_t msglen,
				struct buf *tickets)
{
	struct buf req, reply;
	uint32_t status = DIR_UNAVAIL, result = DIR_PAM_UNAVAIL;
	msg[0] = '\0';
	buf_init(&req, DIR_MAX_REQUEST);
	buf_init(&reply, 1u << 20);
	buf_put_str(&req, user);
	buf_put_str(&req, item(pamh, PAM_SERVICE));
	buf_put_str(&req, item(pamh, PAM_RHOST));
	if (op != DIR_OP_PAM_ACCOUNT)
		buf_put_str(&req, password);
	if (op == DIR_OP_PAM_CHAUTHTOK)
		buf_put_str(&req, new_password);
	if (req.failed) {
		/* Only a password too long for any directory gets here. */
		result = DIR_PAM_DENIED;
		goto out;
	}
	if (dir_client_call_socket(cfg->run_dir, DIR_PAM_SOCKET_NAME, deadline_ms(cfg), op, &req,
				   &status, &reply) < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot ask dird at %s/%s: %s", cfg->run_dir,
			   DIR_PAM_SOCKET_NAME, strerror(errno));
		goto out;
	}
	if (status != DIR_OK) {
		pam_syslog(pamh, LOG_ERR, "dird refused the request (status %u)", status);
		goto out;
	}
	struct dir_pam_reply r;
	if (dir_pam_reply_parse(reply.data, reply.len, &r) < 0) {
		pam_syslog(pamh, LOG_ERR, "dird sent a malformed reply");
		goto out;
	}
	result = r.result;
	snprintf(msg, msglen, "%s", r.message);
	if (tickets && r.n_tickets)
		buf_put_bytes(tickets, r.tickets, r.n_tickets);
out:
	buf_free_wipe(&req);
	buf_free_wipe(&reply);
	return (enum dir_pam_result)result;
}
