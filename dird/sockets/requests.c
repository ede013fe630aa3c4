#include "requests.h"

#include "names.h"
#include "protocol.h"

bool request_parse_lookup(uint32_t op, const struct buf *body, struct lookup_query *q)
{
	struct cursor c;
	cursor_init(&c, body->data, body->len);
	q->op = op;
	q->name = NULL;
	q->id = 0;
	if (op == DIR_OP_GETPWNAM || op == DIR_OP_GETGRNAM || op == DIR_OP_SSH_KEYS)
		q->name = cursor_str(&c, NULL);
	else if (op == DIR_OP_GETPWUID || op == DIR_OP_GETGRGID)
		q->id = cursor_u32(&c);
	else
		return false;
	return cursor_done(&c) && (!q->name || dir_valid_name(q->name));
}

bool request_parse_pam(uint32_t op, const struct buf *body, struct pam_fields *f)
{
	struct cursor c;
	if (op != DIR_OP_PAM_AUTH && op != DIR_OP_PAM_ACCOUNT && op != DIR_OP_PAM_CHAUTHTOK)
		return false;
	cursor_init(&c, body->data, body->len);
	f->user = cursor_str(&c, NULL);
	f->service = cursor_str(&c, NULL);
	f->rhost = cursor_str(&c, NULL);
	f->password = op != DIR_OP_PAM_ACCOUNT ? cursor_str(&c, NULL) : NULL;
	f->new_password = op == DIR_OP_PAM_CHAUTHTOK ? cursor_str(&c, NULL) : NULL;
	return cursor_done(&c);
}
