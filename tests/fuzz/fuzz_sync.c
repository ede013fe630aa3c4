/* A change stream's messages (RFC 4533): the fuzz input becomes what a server sends on a sync
 * search, read by libldap from a socket as from a server and parsed by content_sync_parse as
 * sync_stream.c does; each cookie is merged into the position before it, readied to be sent
 * and checked as a stored one (sync_cookie.h).  Input: repeated [u8 kind][u16 length][value],
 * the value being the BER of the sync control or syncInfo; kind % 4: 0 an entry with a
 * syncState control, 1 a syncInfo intermediate, 2 the search's end with a syncDone control
 * (bit 4: e-syncRefreshRequired), 3 an intermediate of another OID. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content_sync.h"
#include "fuzz_ldap.h"
#include "sync_cookie.h"

#define SYNC_STATE_OID "1.3.6.1.4.1.4203.1.9.1.2"
#define SYNC_DONE_OID "1.3.6.1.4.1.4203.1.9.1.3"
#define SYNC_INFO_OID "1.3.6.1.4.1.4203.1.9.1.4"
#define MAX_MESSAGES 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void put_message(BerElement *ber, unsigned kind, const char *value, ber_len_t len)
{
	switch (kind % 4) {
	case 0:
		ber_printf(ber, "{it{s{}}t{{so}}}", 1, LDAP_RES_SEARCH_ENTRY, "uid=a,dc=example,dc=test",
			   (ber_tag_t)LDAP_TAG_CONTROLS, SYNC_STATE_OID, value, len);
		break;
	case 1:
		ber_printf(ber, "{it{tsto}}", 1, LDAP_RES_INTERMEDIATE, (ber_tag_t)LDAP_TAG_IM_RES_OID,
			   SYNC_INFO_OID, (ber_tag_t)LDAP_TAG_IM_RES_VALUE, value, len);
		break;
	case 2:
		ber_printf(ber, "{it{ess}t{{so}}}", 1, LDAP_RES_SEARCH_RESULT,
			   (ber_int_t)(kind & 16 ? CONTENT_SYNC_REFRESH_REQUIRED : LDAP_SUCCESS), "", "",
			   (ber_tag_t)LDAP_TAG_CONTROLS, SYNC_DONE_OID, value, len);
		break;
	default:
		ber_printf(ber, "{it{tsto}}", 1, LDAP_RES_INTERMEDIATE, (ber_tag_t)LDAP_TAG_IM_RES_OID,
			   "1.2.3", (ber_tag_t)LDAP_TAG_IM_RES_VALUE, value, len);
	}
}

static struct berval *encode(const uint8_t *data, size_t size)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	if (!ber)
		return NULL;
	size_t pos = 0;
	for (int n = 0; n < MAX_MESSAGES && size - pos >= 3; n++) {
		unsigned kind = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		put_message(ber, kind, (const char *)data + pos, (ber_len_t)len);
		pos += len;
	}
	struct berval *bv = NULL;
	ber_flatten(ber, &bv);
	ber_free(ber, 1);
	return bv;
}

/* What sync_stream.c does with a cookie: the position after it, as sent, as stored. */
static void take_cookie(struct berval **position, const struct berval *cookie)
{
	struct berval *merged = sync_cookie_merge(*position, cookie);
	if (!merged)
		return;
	struct berval *sent = sync_cookie_to_send(merged);
	sync_cookie_usable(merged);
	ber_bvfree(sent);
	ber_bvfree(*position);
	*position = merged;
}

static void read_stream(LDAP *ld)
{
	const char *attrs[] = { "uid", NULL };
	int msgid;
	if (content_sync_search(ld, "dc=example,dc=test", LDAP_SCOPE_SUBTREE, "(objectClass=*)",
				attrs, true, NULL, &msgid) != LDAP_SUCCESS)
		return;
	struct berval *position = NULL;
	for (int n = 0; n < MAX_MESSAGES; n++) {
		struct timeval tv = { 0, 200000 };
		LDAPMessage *m = NULL;
		if (ldap_result(ld, LDAP_RES_ANY, LDAP_MSG_ONE, &tv, &m) <= 0) {
			ldap_msgfree(m);
			break;
		}
		struct sync_msg sm;
		char err[256];
		bool done = ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT;
		if (content_sync_parse(ld, m, &sm, err, sizeof(err)) == 0) {
			if (sm.cookie)
				take_cookie(&position, sm.cookie);
			sync_msg_free(&sm);
		}
		ldap_msgfree(m);
		if (done)
			break;
	}
	ber_bvfree(position);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ldap_serve(encode(data, size), read_stream);
	return 0;
}
