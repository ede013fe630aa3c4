#include "account_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The first value of attr, copied into out (NUL-terminated); false when absent or too long. */
static bool first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t outlen)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	bool ok = v && v[0] && v[0]->bv_len < outlen && !memchr(v[0]->bv_val, '\0', v[0]->bv_len);
	if (ok) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return ok;
}

/* A decimal integer attribute; `none` when absent or malformed. */
static long long int_value(LDAP *ld, LDAPMessage *e, const char *attr, long long none)
{
	char s[32], *end;
	if (!first_value(ld, e, attr, s, sizeof(s)))
		return none;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	return errno || end == s || *end ? none : n;
}

/* seconds from 1601-01-01 to 1970-01-01 */
#define NT_EPOCH_OFFSET 11644473600LL

long long ad_time_to_unix(long long nt)
{
	if (nt <= 0 || nt == 0x7fffffffffffffffLL)
		return 0;
	long long t = nt / 10000000 - NT_EPOCH_OFFSET;
	return t > 0 ? t : 1;
}

static long long day_value(LDAP *ld, LDAPMessage *e, const char *attr)
{
	long long n = int_value(ld, e, attr, -1);
	/* Days: anything outside 0..a million years is garbage, not a date. */
	return n < -1 || n > 365LL * 1000000 ? -1 : n;
}

static bool is_true(LDAP *ld, LDAPMessage *e, const char *attr)
{
	char s[8];
	return first_value(ld, e, attr, s, sizeof(s)) && !strcasecmp(s, "TRUE");
}

/* userAccountControl and msDS-User-Account-Control-Computed bits (MS-ADTS 2.2.16) */
#define UF_ACCOUNTDISABLE 0x2
#define UF_LOCKOUT 0x10
#define UF_PASSWORD_EXPIRED 0x800000

void account_state_read(LDAP *ld, LDAPMessage *e, struct account_state *s)
{
	char t[64];
	long long uac = int_value(ld, e, "userAccountControl", 0);
	long long computed = int_value(ld, e, "msDS-User-Account-Control-Computed", 0);
	s->disabled = is_true(ld, e, "nsAccountLock") || (uac & UF_ACCOUNTDISABLE);
	s->locked = first_value(ld, e, "pwdAccountLockedTime", t, sizeof(t)) ||
		    ((uac | computed) & UF_LOCKOUT);
	s->reset = is_true(ld, e, "pwdReset") || int_value(ld, e, "pwdLastSet", -1) == 0;
	s->password_expired = (computed & UF_PASSWORD_EXPIRED) != 0;
	s->expires_at = ad_time_to_unix(int_value(ld, e, "accountExpires", 0));
	s->expire_day = day_value(ld, e, "shadowExpire");
	s->last_change = day_value(ld, e, "shadowLastChange");
	s->max_days = day_value(ld, e, "shadowMax");
}

enum account_verdict account_check(const struct account_state *s, long long now, char *msg,
				   size_t msglen)
{
	long long today = now / 86400;
	msg[0] = '\0';
	if (s->disabled) {
		snprintf(msg, msglen, "Your account is disabled; contact your administrator.");
		return ACCOUNT_DISABLED;
	}
	if (s->locked) {
		snprintf(msg, msglen, "Your account is locked; contact your administrator.");
		return ACCOUNT_DISABLED;
	}
	/* As pam_unix reads shadow: expired on the day shadowExpire names. */
	if ((s->expire_day >= 0 && today >= s->expire_day) || (s->expires_at && now >= s->expires_at)) {
		snprintf(msg, msglen, "Your account has expired; contact your administrator.");
		return ACCOUNT_EXPIRED;
	}
	if (s->last_change == 0 || s->reset) {
		snprintf(msg, msglen, "You are required to change your password immediately "
				      "(administrator enforced).");
		return ACCOUNT_MUST_CHANGE;
	}
	if ((s->last_change > 0 && s->max_days >= 0 && today - s->last_change > s->max_days) ||
	    s->password_expired) {
		snprintf(msg, msglen, "You are required to change your password immediately "
				      "(password expired).");
		return ACCOUNT_MUST_CHANGE;
	}
	return ACCOUNT_OK;
}
