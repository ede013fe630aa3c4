#include "srv.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SERVERS 32

struct server {
	unsigned priority, weight, port;
	char host[NS_MAXDNAME];
};

static int by_priority(const void *a, const void *b)
{
	const struct server *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* A host name we are willing to put into a uri or a list of servers. */
static int valid_host(const char *h)
{
	if (!*h || !strcmp(h, "."))
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_')
			return 0;
	return 1;
}

int srv_discover(const char *dns_domain, char *out, size_t outlen, char *err, size_t errlen)
{
	return srv_lookup("_ldap._tcp", dns_domain, "ldap://", out, outlen, err, errlen);
}

int srv_lookup(const char *service, const char *dns_domain, const char *prefix, char *out,
	       size_t outlen, char *err, size_t errlen)
{
	char name[NS_MAXDNAME];
	unsigned char answer[NS_PACKETSZ * 4];
	struct __res_state rs;
	struct server found[MAX_SERVERS];
	size_t n = 0;
	if (snprintf(name, sizeof(name), "%s.%s", service, dns_domain) >= (int)sizeof(name)) {
		snprintf(err, errlen, "DNS domain '%s' too long", dns_domain);
		return -1;
	}
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		snprintf(err, errlen, "cannot initialise the resolver");
		return -1;
	}
	int len = res_nquery(&rs, name, ns_c_in, ns_t_srv, answer, sizeof(answer));
	res_nclose(&rs);
	ns_msg msg;
	if (len < 0 || ns_initparse(answer, len, &msg) < 0) {
		snprintf(err, errlen, "no SRV records for %s", name);
		return -1;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && n < MAX_SERVERS; i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_srv ||
		    ns_rr_rdlen(rr) < 7) /* priority, weight, port and at least a root label */
			continue;
		const unsigned char *rd = ns_rr_rdata(rr);
		struct server *s = &found[n];
		s->priority = ns_get16(rd);
		s->weight = ns_get16(rd + 2);
		s->port = ns_get16(rd + 4);
		/* dn_expand checks the name against the message bounds. */
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, s->host, sizeof(s->host)) < 0 ||
		    !valid_host(s->host) || s->port == 0)
			continue;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "no usable SRV records for %s", name);
		return -1;
	}
	qsort(found, n, sizeof(found[0]), by_priority);
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s%s:%u", used ? " " : "", prefix,
				 found[i].host, found[i].port);
		if (w < 0 || (size_t)w >= outlen - used)
			break;
		used += (size_t)w;
	}
	return used ? 0 : -1;
}

int srv_domain_of_base(const char *base_dn, char *out, size_t outlen)
{
	size_t used = 0;
	const char *p = base_dn;
	out[0] = '\0';
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		if (n > 3 && !strncasecmp(p, "dc=", 3)) {
			int w = snprintf(out + used, outlen - used, "%s%.*s", used ? "." : "", (int)(n - 3),
					 p + 3);
			if (w < 0 || (size_t)w >= outlen - used)
				return -1;
			used += (size_t)w;
		}
		p += n;
	}
	return used ? 0 : -1;
}
