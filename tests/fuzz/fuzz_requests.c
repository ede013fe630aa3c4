/* Both sides of the socket protocol: any body for every request dird reads, and as the pam
 * reply pam_dir reads (record replies are fuzz_records' and fuzz_index's). */
#include <stdint.h>
#include <string.h>

#include "client.h"
#include "protocol.h"
#include "requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t ops[] = { DIR_OP_GETPWNAM, DIR_OP_GETPWUID, DIR_OP_GETGRNAM,
					DIR_OP_GETGRGID, DIR_OP_SSH_KEYS, DIR_OP_PAM_AUTH,
					DIR_OP_PAM_ACCOUNT, DIR_OP_PAM_CHAUTHTOK, DIR_OP_STATUS };
	struct buf body = { .data = (uint8_t *)data, .len = size, .cap = size, .max = size };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct lookup_query q;
		struct pam_fields f;
		if (request_parse_lookup(ops[i], &body, &q) && q.name)
			(void)q.name[0];
		if (request_parse_pam(ops[i], &body, &f))
			(void)(f.user[0] + f.service[0] + f.rhost[0]);
	}
	struct dir_pam_reply r;
	if (dir_pam_reply_parse(data, size, &r) == 0 && r.n_tickets)
		(void)(strlen(r.message) + ((const uint8_t *)r.tickets)[r.n_tickets - 1]);
	return 0;
}
