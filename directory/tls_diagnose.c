#include "tls_diagnose.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>

/* The names the certificate is for, for the message: its DNS and IP subject alternative names. */
static void cert_names(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < 8; i++) {
		char name[256];
		size_t len = sizeof(name);
		unsigned type;
		int rc = gnutls_x509_crt_get_subject_alt_name2(crt, i, name, &len, &type, NULL);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0)
			continue;
		char shown[64] = "";
		if (type == GNUTLS_SAN_DNSNAME && len < sizeof(name)) {
			name[len] = '\0';
			snprintf(shown, sizeof(shown), "%.60s", name);
		} else if (type == GNUTLS_SAN_IPADDRESS && len == 4) {
			const unsigned char *a = (const unsigned char *)name;
			snprintf(shown, sizeof(shown), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		}
		/* Anything else (not printable here) is left out. */
		for (char *p = shown; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				*p = '?';
		if (*shown) {
			int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", shown);
			if (n < 0 || (size_t)n >= outlen - used)
				break;
			used += (size_t)n;
		}
	}
}

static int load_trust(const struct dir_domain *d, gnutls_x509_trust_list_t list)
{
	int added = 0;
	if (d->tls_ca_file || d->tls_ca_dir) {
		if (d->tls_ca_file)
			added += gnutls_x509_trust_list_add_trust_file(list, d->tls_ca_file, NULL,
								       GNUTLS_X509_FMT_PEM, 0, 0);
		if (d->tls_ca_dir)
			added += gnutls_x509_trust_list_add_trust_dir(list, d->tls_ca_dir, NULL,
								      GNUTLS_X509_FMT_PEM, 0, 0);
		return added;
	}
	return gnutls_x509_trust_list_add_system_trust(list, 0, 0);
}

void tls_explain_certificate(const struct dir_domain *d, const struct berval *cert,
			     const char *host, char *out, size_t outlen)
{
	const char *cas = d->tls_ca_file || d->tls_ca_dir ? "tls_ca_file / tls_ca_dir" :
							    "the system's CA store (set tls_ca_file)";
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_trust_list_t list = NULL;
	gnutls_datum_t der = { (unsigned char *)cert->bv_val, (unsigned)cert->bv_len };
	out[0] = '\0';
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0) {
		snprintf(out, outlen, "the server sent a certificate that cannot be read");
		goto done;
	}
	char names[512];
	cert_names(crt, names, sizeof(names));
	if (!gnutls_x509_crt_check_hostname(crt, host)) {
		snprintf(out, outlen, "the server's certificate is for another host name (%s, not %s): "
			 "use a name it was issued for in uri",
			 *names ? names : "no subject alternative name", host);
		goto done;
	}
	unsigned status = 0;
	if (gnutls_x509_trust_list_init(&list, 0) < 0)
		goto done;
	int loaded = load_trust(d, list);
	if (gnutls_x509_trust_list_verify_crt(list, &crt, 1, 0, &status, NULL) < 0)
		status = GNUTLS_CERT_INVALID;
	if (status & GNUTLS_CERT_EXPIRED)
		snprintf(out, outlen, "the server's certificate has expired");
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		snprintf(out, outlen, "the server's certificate is not valid yet (check the clocks)");
	else if (status)
		snprintf(out, outlen, "the server's certificate is not signed by a CA in %s%s", cas,
			 loaded <= 0 ? " (no CA could be read from it)" : "");
done:
	if (list)
		gnutls_x509_trust_list_deinit(list, 1);
	if (crt)
		gnutls_x509_crt_deinit(crt);
}
