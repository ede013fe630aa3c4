/* AD's change notification: a search with the LDAP_SERVER_NOTIFICATION_OID control stays open,
 * and the DC sends an entry each time something under the base changes.  Samba re-runs the
 * search right after a write through the same server process and otherwise every 5 s (and
 * allows 5 of them per connection).  An entry only wakes the domain's poll, which reads the
 * changes by USN as always: a notification lost, or a DC that refuses the control, costs
 * nothing but the wait for sync_interval. */
#include "ad_notify.h"

#include <poll.h>

#include "domain.h"
#include "log.h"

void ad_notify_open(struct dird *d, size_t i, struct ad_notify *n)
{
	if (n->ld)
		return;
	struct ldap_conn c = { 0 };
	char err[512];
	LDAPControl *ctrl = NULL;
	if (domain_open(d, i, &c, err, sizeof(err)) < 0) {
		log_debug("%s: no change notification: %s", d->cfg.domains[i].name, err);
		return;
	}
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	int rc = ldap_create_server_notification_control(c.ld, &ctrl);
	LDAPControl *ctrls[] = { ctrl, NULL };
	/* The naming context's root, whole subtree: what AD allows a notification on. */
	if (rc == LDAP_SUCCESS)
		rc = ldap_search_ext(c.ld, d->cfg.domains[i].base_dn, LDAP_SCOPE_SUBTREE,
				     "(objectClass=*)", attrs, 0, ctrls, NULL, NULL, 0, &n->msgid);
	if (ctrl)
		ldap_control_free(ctrl);
	if (rc != LDAP_SUCCESS) {
		log_debug("%s: no change notification: %s", d->cfg.domains[i].name,
			  ldap_err2string(rc));
		ldap_conn_close(&c);
		return;
	}
	n->ld = c.ld; /* the connection is the search's alone now */
}

void ad_notify_close(struct ad_notify *n)
{
	if (n->ld)
		ldap_unbind_ext_s(n->ld, NULL, NULL);
	n->ld = NULL;
}

/* Takes what has arrived: true when an entry (a change) did. */
static bool drain(struct ad_notify *n)
{
	struct timeval zero = { 0, 0 };
	LDAPMessage *m = NULL;
	bool woke = false;
	int rc;
	while (n->ld && (rc = ldap_result(n->ld, n->msgid, LDAP_MSG_ONE, &zero, &m)) != 0) {
		if (rc == LDAP_RES_SEARCH_ENTRY)
			woke = true;
		else if (rc != LDAP_RES_SEARCH_REFERENCE) /* ended (refused, or done), or broke */
			ad_notify_close(n);
		ldap_msgfree(m);
		m = NULL;
	}
	return woke;
}

bool ad_notify_wait(struct ad_notify *n, size_t count, int ms, bool *woke)
{
	struct pollfd p[count ? count : 1];
	size_t k, open = 0;
	for (k = 0; k < count; k++) {
		int fd = -1;
		woke[k] = false;
		if (n[k].ld && ldap_get_option(n[k].ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS)
			fd = -1;
		p[k] = (struct pollfd){ .fd = fd, .events = POLLIN };
		open += fd >= 0;
	}
	if (!open)
		return false;
	/* TLS may hold a whole message already read from the socket: drain before waiting. */
	bool any = false;
	for (k = 0; k < count; k++)
		any |= woke[k] = drain(&n[k]);
	if (!any && poll(p, count, ms) > 0)
		for (k = 0; k < count; k++)
			if (p[k].revents)
				woke[k] = drain(&n[k]);
	return true;
}
