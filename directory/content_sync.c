/* RFC 4533's controls and messages, encoded and decoded with liblber (content_sync.h). */
#include "content_sync.h"

#include <lber.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define SYNC_STATE_OID "1.3.6.1.4.1.4203.1.9.1.2"
#define SYNC_DONE_OID "1.3.6.1.4.1.4203.1.9.1.3"
#define SYNC_INFO_OID "1.3.6.1.4.1.4203.1.9.1.4"
#define MAX_COOKIE 4096

/* The syncInfo CHOICE's context tags. */
#define TAG_NEW_COOKIE ((ber_tag_t)0x80U)
#define TAG_REFRESH_DELETE ((ber_tag_t)0xa1U)
#define TAG_REFRESH_PRESENT ((ber_tag_t)0xa2U)
#define TAG_ID_SET ((ber_tag_t)0xa3U)

bool content_sync_offered(LDAP *ld, unsigned timeout)
{
	char *attrs[] = { "supportedControl", NULL };
	struct timeval tv = { .tv_sec = timeout };
	LDAPMessage *res = NULL;
	bool offered = false;
	if (ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv,
			      1, &res) == LDAP_SUCCESS) {
		LDAPMessage *e = ldap_first_entry(ld, res);
		struct berval **v = e ? ldap_get_values_len(ld, e, "supportedControl") : NULL;
		for (size_t i = 0; v && v[i] && !offered; i++)
			offered = v[i]->bv_len == strlen(CONTENT_SYNC_OID) &&
				  memcmp(v[i]->bv_val, CONTENT_SYNC_OID, v[i]->bv_len) == 0;
		ldap_value_free_len(v);
	}
	ldap_msgfree(res);
	return offered;
}

int content_sync_search(LDAP *ld, const char *base, int scope, const char *filter,
			const char *const *attrs, bool persist, const struct berval *cookie,
			int *msgid)
{
	/* syncRequestValue ::= SEQUENCE { mode ENUMERATED, cookie syncCookie OPTIONAL,
	 * reloadHint BOOLEAN DEFAULT FALSE } */
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	if (!ber)
		return LDAP_NO_MEMORY;
	int rc = ber_printf(ber, "{e", (ber_int_t)(persist ? 3 : 1));
	if (rc != -1 && cookie && cookie->bv_len)
		rc = ber_printf(ber, "O", cookie);
	if (rc != -1)
		rc = ber_printf(ber, "N}");
	struct berval value = { 0, NULL };
	LDAPControl *ctrl = NULL;
	if (rc == -1 || ber_flatten2(ber, &value, 0) == -1 ||
	    ldap_control_create(CONTENT_SYNC_OID, 1, &value, 1, &ctrl) != LDAP_SUCCESS) {
		ber_free(ber, 1);
		return LDAP_ENCODING_ERROR;
	}
	ber_free(ber, 1);
	LDAPControl *ctrls[] = { ctrl, NULL };
	rc = ldap_search_ext(ld, base, scope, filter, (char **)attrs, 0, ctrls, NULL, NULL,
			     LDAP_NO_LIMIT, msgid);
	ldap_control_free(ctrl);
	return rc;
}

/* A control's or an intermediate's value, to decode: NULL when there is none (liblber reads
 * through the NULL buffer of an empty one). */
static BerElement *value_ber(const struct berval *v)
{
	return v && v->bv_val && v->bv_len ? ber_init((struct berval *)v) : NULL;
}

/* As RFC 4122 writes it, lowercase: by hand, not snprintf, which took a second of a million
 * entries' read. */
static bool format_uuid(const struct berval *raw, char *out)
{
	static const char hex[] = "0123456789abcdef";
	if (raw->bv_len != 16)
		return false;
	const unsigned char *b = (const unsigned char *)raw->bv_val;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*out++ = '-';
		*out++ = hex[b[i] >> 4];
		*out++ = hex[b[i] & 15];
	}
	*out = '\0';
	return true;
}

static int take_cookie(const struct berval *bv, struct sync_msg *out)
{
	if (bv->bv_len == 0 || bv->bv_len > MAX_COOKIE)
		return -1;
	ber_bvfree(out->cookie);
	out->cookie = ber_dupbv(NULL, (struct berval *)bv);
	return out->cookie ? 0 : -1;
}

/* An optional cookie, then an optional BOOLEAN, inside a SEQUENCE already entered. */
static int cookie_and_flag(BerElement *ber, struct sync_msg *out, bool *flag)
{
	ber_len_t len;
	struct berval bv;
	if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING &&
	    (ber_scanf(ber, "m", &bv) == LBER_ERROR || take_cookie(&bv, out) < 0))
		return -1;
	ber_int_t b;
	if (ber_peek_tag(ber, &len) == LBER_BOOLEAN) {
		if (ber_scanf(ber, "b", &b) == LBER_ERROR)
			return -1;
		*flag = b != 0;
	}
	return 0;
}

static int parse_entry(LDAP *ld, LDAPMessage *m, struct sync_msg *out)
{
	LDAPControl **ctrls = NULL;
	if (ldap_get_entry_controls(ld, m, &ctrls) != LDAP_SUCCESS)
		return -1;
	LDAPControl *c = ldap_control_find(SYNC_STATE_OID, ctrls, NULL);
	int rc = -1;
	BerElement *ber = c ? value_ber(&c->ldctl_value) : NULL;
	ber_int_t state;
	struct berval uuid;
	if (ber && ber_scanf(ber, "{em", &state, &uuid) != LBER_ERROR && state >= SYNC_PRESENT &&
	    state <= SYNC_DELETE) {
		bool unused = false;
		/* An id that is no UUID names no entry: the caller refuses this entry alone. */
		if (!format_uuid(&uuid, out->uuid))
			out->uuid[0] = '\0';
		out->state = (enum sync_state)state;
		rc = cookie_and_flag(ber, out, &unused);
	}
	if (ber)
		ber_free(ber, 1);
	ldap_controls_free(ctrls);
	char *dn = rc == 0 ? ldap_get_dn(ld, m) : NULL;
	if (rc == 0 && (!dn || !(out->dn = strdup(dn))))
		rc = -1;
	ldap_memfree(dn);
	return rc;
}

static int parse_id_set(BerElement *ber, struct sync_msg *out)
{
	BerVarray ids = NULL;
	out->refresh_deletes = false;
	if (ber_scanf(ber, "{") == LBER_ERROR || cookie_and_flag(ber, out, &out->refresh_deletes) < 0 ||
	    ber_scanf(ber, "[W]", &ids) == LBER_ERROR)
		return -1;
	size_t n = 0;
	while (ids && ids[n].bv_val)
		n++;
	int rc = 0;
	out->uuids = calloc(n ? n : 1, sizeof(*out->uuids));
	if (!out->uuids)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = format_uuid(&ids[i], out->uuids[i]) ? 0 : -1;
	out->n_uuids = rc == 0 ? n : 0;
	ber_bvarray_free(ids);
	return rc;
}

static int parse_info(LDAP *ld, LDAPMessage *m, struct sync_msg *out)
{
	char *oid = NULL;
	struct berval *data = NULL;
	if (ldap_parse_intermediate(ld, m, &oid, &data, NULL, 0) != LDAP_SUCCESS)
		return -1;
	int rc = 0;
	if (!oid || strcmp(oid, SYNC_INFO_OID) != 0) {
		out->kind = SYNC_MSG_IGNORED;
		goto out;
	}
	rc = -1;
	BerElement *ber = value_ber(data);
	ber_len_t len;
	struct berval bv;
	ber_tag_t tag = ber ? ber_peek_tag(ber, &len) : LBER_ERROR;
	out->refresh_done = true; /* refreshDone BOOLEAN DEFAULT TRUE */
	switch (tag) {
	case TAG_NEW_COOKIE:
		out->info = SYNC_INFO_NEW_COOKIE;
		rc = ber_scanf(ber, "m", &bv) == LBER_ERROR ? -1 : take_cookie(&bv, out);
		break;
	case TAG_REFRESH_DELETE:
	case TAG_REFRESH_PRESENT:
		out->info = tag == TAG_REFRESH_DELETE ? SYNC_INFO_REFRESH_DELETE :
							SYNC_INFO_REFRESH_PRESENT;
		rc = ber_scanf(ber, "{") == LBER_ERROR ? -1 :
							 cookie_and_flag(ber, out, &out->refresh_done);
		break;
	case TAG_ID_SET:
		out->info = SYNC_INFO_ID_SET;
		rc = parse_id_set(ber, out);
		break;
	default: break;
	}
	if (ber)
		ber_free(ber, 1);
out:
	ldap_memfree(oid);
	ber_bvfree(data);
	return rc;
}

static int parse_done(LDAP *ld, LDAPMessage *m, struct sync_msg *out)
{
	int result = LDAP_OTHER;
	char *msg = NULL;
	LDAPControl **ctrls = NULL;
	if (ldap_parse_result(ld, m, &result, NULL, &msg, NULL, &ctrls, 0) != LDAP_SUCCESS)
		return -1;
	out->result = result;
	snprintf(out->error, sizeof(out->error), "%s", msg ? msg : "");
	ldap_memfree(msg);
	LDAPControl *c = ldap_control_find(SYNC_DONE_OID, ctrls, NULL);
	int rc = 0;
	if (c && c->ldctl_value.bv_len) {
		BerElement *ber = value_ber(&c->ldctl_value);
		rc = ber && ber_scanf(ber, "{") != LBER_ERROR ?
			     cookie_and_flag(ber, out, &out->refresh_deletes) :
			     -1;
		if (ber)
			ber_free(ber, 1);
	}
	ldap_controls_free(ctrls);
	return rc;
}

int content_sync_parse(LDAP *ld, LDAPMessage *m, struct sync_msg *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	switch (ldap_msgtype(m)) {
	case LDAP_RES_SEARCH_ENTRY:
		out->kind = SYNC_MSG_ENTRY;
		rc = parse_entry(ld, m, out);
		break;
	case LDAP_RES_INTERMEDIATE:
		out->kind = SYNC_MSG_INFO;
		rc = parse_info(ld, m, out);
		break;
	case LDAP_RES_SEARCH_RESULT:
		out->kind = SYNC_MSG_DONE;
		rc = parse_done(ld, m, out);
		break;
	default: out->kind = SYNC_MSG_IGNORED; break;
	}
	if (rc < 0) {
		snprintf(err, errlen, "a malformed sync message (type 0x%x)", ldap_msgtype(m));
		sync_msg_free(out);
	}
	return rc;
}

void sync_msg_free(struct sync_msg *m)
{
	free(m->dn);
	free(m->uuids);
	ber_bvfree(m->cookie);
	memset(m, 0, sizeof(*m));
}
