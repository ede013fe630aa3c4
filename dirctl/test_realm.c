/* dirctl test REALM: a Kerberos realm step by step, as libkrb5 will use it: its KDCs (from the
 * krb5.conf in use, else DNS SRV records), each one's address and port, the clock of the first
 * that answers (from the KRB-ERROR it sends back to a request for a principal it has not got),
 * and the realm's keys in the keytab proven against it (keytab.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "keytab.h"
#include "protocol.h"
#include "srv.h"
#include "test_steps.h"

#define KDC_TIMEOUT 5		/* seconds, each step */
#define MAX_KDC_REPLY (64u << 10)
#define INDENT "                               "

/* "host", "host:port", "[v6]:port", maybe with a tcp/ or udp/ prefix: host and port. */
static bool kdc_host_port(const char *kdc, char *host, size_t hostlen, int *port)
{
	if (!strncmp(kdc, "tcp/", 4) || !strncmp(kdc, "udp/", 4))
		kdc += 4;
	const char *colon = strrchr(kdc, ':'), *end = kdc + strlen(kdc);
	if (*kdc == '[') {
		const char *close = strchr(kdc, ']');
		if (!close)
			return false;
		snprintf(host, hostlen, "%.*s", (int)(close - kdc - 1), kdc + 1);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		if (colon && strchr(kdc, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		snprintf(host, hostlen, "%.*s", (int)((colon ? colon : end) - kdc), kdc);
	}
	*port = colon ? atoi(colon + 1) : 88;
	return *host && *port > 0 && *port < 65536;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = recv(fd, c, n, 0);
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The KDC's clock: an AS-REQ (built by libkrb5) for a principal no realm has, over the TCP
 * connection fd (RFC 4120 7.2.2: a 4-byte length, then the message); the KRB-ERROR that comes
 * back carries the KDC's time.  0, or -1 with err. */
static int kdc_clock(krb5_context ctx, const char *realm, int fd, long long *kdc_time, char *err,
		     size_t errlen)
{
	krb5_principal probe = NULL;
	krb5_init_creds_context icc = NULL;
	krb5_data in = { 0 }, out = { 0 }, to_realm = { 0 }, reply = { 0 };
	krb5_error *kerr = NULL;
	unsigned int flags = 0;
	int ret = -1;
	struct timeval tv = { .tv_sec = KDC_TIMEOUT };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	krb5_error_code rc = krb5_build_principal(ctx, &probe, (unsigned)strlen(realm), realm,
						  "dirctl-clock-probe", (char *)NULL);
	if (!rc)
		rc = krb5_init_creds_init(ctx, probe, NULL, NULL, 0, NULL, &icc);
	if (!rc)
		rc = krb5_init_creds_step(ctx, icc, &in, &out, &to_realm, &flags);
	if (rc) {
		kt_describe(ctx, rc, "building a request", err, errlen);
		goto out;
	}
	uint32_t len = htonl(out.length);
	if (send_all(fd, &len, 4) < 0 || send_all(fd, out.data, out.length) < 0 ||
	    recv_all(fd, &len, 4) < 0) {
		snprintf(err, errlen, "the KDC did not answer within %d s", KDC_TIMEOUT);
		goto out;
	}
	reply.length = ntohl(len);
	if (reply.length == 0 || reply.length > MAX_KDC_REPLY || !(reply.data = malloc(reply.length)) ||
	    recv_all(fd, reply.data, reply.length) < 0) {
		snprintf(err, errlen, "no whole answer from the KDC (%u bytes announced)", reply.length);
		goto out;
	}
	if ((rc = krb5_rd_error(ctx, &reply, &kerr))) {
		kt_describe(ctx, rc, "the answer is not a Kerberos error", err, errlen);
		goto out;
	}
	*kdc_time = kerr->stime;
	ret = 0;
out:
	if (kerr)
		krb5_free_error(ctx, kerr);
	free(reply.data);
	krb5_free_data_contents(ctx, &out);
	krb5_free_data_contents(ctx, &to_realm);
	if (icc)
		krb5_init_creds_free(ctx, icc);
	krb5_free_principal(ctx, probe);
	return ret;
}

/* The keytab that proves the realm's KDCs: a domain's whose passwords go there, else the host
 * keytab.  *needed: something verifies logins with it. */
static const char *realm_keytab(const struct dir_config *cfg, const char *realm, bool *needed)
{
	const struct dir_realm *section = krb5conf_realm(cfg, realm);
	*needed = section && section->local_users;
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *d = &cfg->domains[i];
		const char *r = krb5conf_domain_realm(d);
		if (r && !strcmp(r, realm)) {
			*needed = *needed || d->auth == DIR_AUTH_KRB5;
			return d->type == DIR_DOMAIN_AD && d->keytab ? d->keytab : d->krb5_keytab;
		}
	}
	return cfg->host_keytab;
}

/* The realm's keys in its keytab, proven against its KDCs. */
static void keys_step(struct test_run *r, krb5_context ctx, const struct dir_config *cfg,
		      const char *realm)
{
	bool needed;
	const char *path = realm_keytab(cfg, realm, &needed);
	struct kt_entries entries;
	char err[1024], what[2048];
	test_begin(r);
	if (kt_load(ctx, path, true, &entries, err, sizeof(err)) < 0) {
		test_step(r, "keys", false, err, "the keytab cannot be read: replace it (dirctl "
			  "keytab add NAME FILE)");
		return;
	}
	struct kt_check chk;
	kt_check_keys(ctx, path, &entries, realm, &chk);
	size_t failed = 0;
	for (size_t i = 0; i < chk.n; i++)
		failed += chk.v[i].verdict != KT_OK;
	if (!chk.n)
		snprintf(what, sizeof(what), "no key of %s in %s%s", realm, path,
			 needed ? "" : " (nothing here needs one)");
	else
		snprintf(what, sizeof(what), "%zu principal%s of %s in %s: %s", chk.n,
			 chk.n == 1 ? "" : "s", realm, path, failed ? "not all the KDC's" :
			 "each one's key is the KDC's");
	test_step(r, "keys", chk.n ? !failed : !needed, what, chk.n ?
		  "a key that is not the KDC's: see each one's fix" :
		  "logins of this realm cannot be verified without a key of it: install one "
		  "(dirctl keytab add NAME FILE)");
	if (!r->json)
		kt_print_check(&chk, INDENT);
	for (size_t i = 0; r->json && i < chk.n; i++)
		if (chk.v[i].verdict != KT_OK)
			test_note(r, "%s (kvno %u): %s", chk.v[i].name, (unsigned)chk.v[i].kvno,
				  chk.v[i].why);
	kt_check_free(&chk);
	kt_free(ctx, &entries);
}

/* The KDCs libkrb5 will use: krb5.conf's, else DNS's.  false when there are none. */
static bool kdcs_step(struct test_run *r, struct ctl *c, const char *realm, char *kdcs,
		      size_t kdcslen)
{
	const char *path = krb5conf_path(&c->cfg);
	const struct dir_realm *section = krb5conf_realm(&c->cfg, realm);
	char what[4096], err[512] = "", cause[512];
	test_begin(r);
	bool from_conf = realm_kdcs(c, realm, kdcs, kdcslen);
	bool found = from_conf ||
		     srv_lookup("_kerberos._tcp", realm, "", kdcs, kdcslen, err, sizeof(err)) == 0;
	if (from_conf)
		snprintf(what, sizeof(what), "%s (from %s)", kdcs, path);
	else if (found)
		snprintf(what, sizeof(what), "%s (from DNS: _kerberos._tcp.%s)", kdcs, realm);
	else
		snprintf(what, sizeof(what), "none: %s names none for %s, and DNS has %s", path, realm, err);
	if (section && section->kdc.n)
		snprintf(cause, sizeof(cause), "dird.conf names them but %s does not: run dirctl "
			 "krb5conf --write", path);
	else
		snprintf(cause, sizeof(cause), "name the realm's KDCs in dird.conf ([realm/%s] kdc = "
			 "HOST[:PORT]) and run dirctl krb5conf --write, or publish _kerberos._tcp SRV "
			 "records for it", realm);
	if (!test_step(r, "kdcs", found, what, cause))
		return false;
	char *text = NULL, *file = NULL;
	size_t len = 0, file_len = 0;
	if (krb5conf_render(&c->cfg, &text, &len, false) == 0 && text &&
	    (file_read(path, MAX_KRB5_CONF, &file, &file_len, NULL) < 0 || file_len != len ||
	     memcmp(file, text, len)))
		test_note(r, "note: %s is not what dirctl krb5conf renders from %s; dirctl krb5conf "
			  "--write writes it", path, c->cfg.path);
	free(text);
	free(file);
	return true;
}

int test_realm(struct test_run *r, struct ctl *c, const char *realm)
{
	krb5_context ctx = NULL;
	char kdcs[2048], what[2600], why[256], err[512];
	int fd = -1;
	test_section(r, "realm", realm);
	if (krb5_init_context(&ctx)) {
		ctx = NULL;
		test_begin(r);
		test_step(r, "kdcs", false, "libkrb5 cannot start", "check krb5.conf (krb5_config)");
		goto out;
	}
	if (!kdcs_step(r, c, realm, kdcs, sizeof(kdcs)))
		goto out;
	for (char *save = NULL, *kdc = strtok_r(kdcs, " \t", &save); kdc && fd < 0;
	     kdc = strtok_r(NULL, " \t", &save)) {
		char host[256];
		int port;
		test_begin(r);
		if (!kdc_host_port(kdc, host, sizeof(host), &port)) {
			snprintf(what, sizeof(what), "'%s' is not host[:port]", kdc);
			test_step(r, "connect", false, what, "fix the kdc entry");
			continue;
		}
		fd = tcp_connect(host, port, KDC_TIMEOUT, why, sizeof(why));
		snprintf(what, sizeof(what), "%s port %d%s%s", host, port, fd < 0 ? ": " : "",
			 fd < 0 ? why : "");
		test_step(r, "connect", fd >= 0, what, "no KDC answers there: check the host, the port "
			  "(88 unless named), and firewalls (TCP and UDP 88)");
	}
	if (fd < 0)
		goto out;
	r->failed_at = NULL; /* a KDC answered; the ones before it are reported above */
	long long kdc_time = 0;
	test_begin(r);
	bool asked = kdc_clock(ctx, realm, fd, &kdc_time, err, sizeof(err)) == 0;
	long long offset = asked ? kdc_time - (long long)time(NULL) : 0;
	if (asked)
		snprintf(what, sizeof(what), "the KDC's clock is %+lld s from ours%s", offset,
			 llabs(offset) > DIR_CLOCK_WARN_SECONDS && llabs(offset) <= DIR_CLOCK_SKEW_SECONDS ?
				 " (warning: near the 300 s Kerberos allows)" : "");
	else
		snprintf(what, sizeof(what), "%s", err);
	if (!test_step(r, "clock", asked && offset <= DIR_CLOCK_SKEW_SECONDS &&
		       offset >= -DIR_CLOCK_SKEW_SECONDS, what, asked ?
		       "Kerberos refuses clocks more than 300 s apart: set this host's clock (NTP, "
		       "chrony) or the KDC's" : "it is not a Kerberos KDC, or it did not answer"))
		goto out;
	keys_step(r, ctx, &c->cfg, realm);
out:
	if (fd >= 0)
		close(fd);
	if (ctx)
		krb5_free_context(ctx);
	return test_result(r);
}
