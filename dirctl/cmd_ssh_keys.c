/* dirctl ssh-keys USER: the user's SSH public keys from dird, for sshd's AuthorizedKeysCommand
 * (run as AuthorizedKeysCommandUser, nobody, who may not read the tdb cache: dird answers from
 * its cache over the lookup socket, protocol.h).  Prints authorized_keys lines; a user the
 * directory does not have, and a local one (sshd reads ~/.ssh/authorized_keys), get no output
 * and status 0. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dirctl.h"
#include "local_accounts.h"
#include "names.h"
#include "protocol.h"

int cmd_ssh_keys(struct ctl *c, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "Usage: dirctl ssh-keys USER\n");
		return EXIT_USAGE;
	}
	const char *user = argv[0];
	/* sshd asks for every user, local ones too: those are not ours, at once (a passwd that
	 * cannot be read counts as holding the name). */
	char err[256];
	if (!dir_valid_name(user) || local_user_lookup(LOCAL_PASSWD_FILE, user, err, sizeof(err)) != 0)
		return EXIT_OK;
	struct buf body, reply;
	uint32_t st;
	buf_init(&body, DIR_MAX_REQUEST);
	buf_init(&reply, DIR_MAX_REPLY);
	buf_put_str(&body, user);
	int rc = ctl_call(c, DIR_OP_SSH_KEYS, &body, &st, &reply);
	if (rc == EXIT_OK && st == DIR_UNAVAIL) {
		fprintf(stderr, "dirctl: %s is not cached and the directory cannot be asked; see "
				"'dirctl status'\n", user);
		rc = EXIT_OFFLINE;
	} else if (rc == EXIT_OK && st == DIR_OK) {
		struct cursor cur;
		cursor_init(&cur, reply.data, reply.len);
		uint32_t n = cursor_u32(&cur);
		for (uint32_t i = 0; i < n && !cur.failed; i++) {
			const char *key = cursor_str(&cur, NULL);
			if (key)
				printf("%s\n", key);
		}
		if (!cursor_done(&cur)) {
			fprintf(stderr, "dirctl: malformed reply from dird\n");
			rc = EXIT_FAIL;
		}
	} else if (rc == EXIT_OK && st != DIR_NOTFOUND) {
		fprintf(stderr, "dirctl: dird refused the request (%" PRIu32 ")\n", st);
		rc = EXIT_FAIL;
	}
	buf_free(&body);
	buf_free(&reply);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = EXIT_FAIL;
	return rc;
}
