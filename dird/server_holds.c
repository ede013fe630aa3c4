#include "server_holds.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "context_csn.h"
#include "log.h"
#include "sync_cookie.h"

void server_holds_read(struct server_holds *h, struct ldap_conn *c)
{
	const struct dir_domain *dom = c->domain;
	memset(h, 0, sizeof(*h));
	h->read = true;
	snprintf(h->server, sizeof(h->server), "%s", c->server);
	if (dom->type == DIR_DOMAIN_AD) {
		char err[256];
		if (ad_position_read(c, &h->at, err, sizeof(err)) < 0) {
			log_warning("%s: %s", dom->name, err);
			memset(&h->at, 0, sizeof(h->at));
		}
		return;
	}
	h->csns[0] = context_csn_read(c->ld, dom->timeout, dom->group_base);
	h->csns[1] = context_csn_read(c->ld, dom->timeout, dom->user_base);
}

static bool ad_holds(const struct server_holds *h, const char *text, char *why, size_t whylen)
{
	struct ad_position p;
	if (ad_position_parse(text, &p) < 0) {
		snprintf(why, whylen, "a position not in dird's form");
		return false;
	}
	if (!*h->at.dc) {
		snprintf(why, whylen, "its position could not be read");
		return false;
	}
	const char *mismatch = ad_position_mismatch(&p, &h->at);
	if (mismatch)
		snprintf(why, whylen, "the position is USN %" PRIu64 " of %s: %s", p.usn, p.dc,
			 mismatch);
	return !mismatch;
}

bool server_holds_position(const struct server_holds *h, const char *stream, const void *position,
			   size_t len, char *why, size_t whylen)
{
	if (!h->read) {
		snprintf(why, whylen, "the refresh did not read it");
		return false;
	}
	if (!strcmp(stream, "usn")) {
		char text[512];
		if (len >= sizeof(text)) {
			snprintf(why, whylen, "a position not in dird's form");
			return false;
		}
		memcpy(text, position, len);
		text[len] = '\0';
		return ad_holds(h, text, why, whylen);
	}
	struct berval pos = { (ber_len_t)len, (char *)position };
	struct berval *const *held = h->csns[strcmp(stream, "groups") != 0];
	if (!held)
		snprintf(why, whylen, "it shows no contextCSN");
	else if (!sync_cookie_held(&pos, held))
		snprintf(why, whylen, "its contextCSN values do not show every change the "
			 "position counts");
	else
		return true;
	return false;
}

void server_holds_free(struct server_holds *h)
{
	for (int k = 0; k < 2; k++)
		ldap_value_free_len(h->csns[k]);
	memset(h, 0, sizeof(*h));
}
