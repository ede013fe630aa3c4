#include "keytab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "names.h"

void kt_describe(krb5_context ctx, krb5_error_code rc, const char *what, char *err, size_t errlen)
{
	const char *m = krb5_get_error_message(ctx, rc);
	snprintf(err, errlen, "%s: %s", what, m);
	krb5_free_error_message(ctx, m);
}

static krb5_error_code resolve(krb5_context ctx, const char *path, krb5_keytab *kt)
{
	char name[PATH_MAX + 8];
	if (dir_build_name(name, sizeof(name), "FILE:%s", path) < 0)
		return ENAMETOOLONG;
	return krb5_kt_resolve(ctx, name, kt);
}

void kt_free(krb5_context ctx, struct kt_entries *l)
{
	for (size_t i = 0; i < l->n; i++) {
		krb5_free_unparsed_name(ctx, l->v[i].principal);
		krb5_free_keytab_entry_contents(ctx, &l->v[i].e);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Appends a deep copy of e. */
static int append(krb5_context ctx, struct kt_entries *l, const krb5_keytab_entry *e)
{
	struct kt_entry *grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!grown)
		return -1;
	l->v = grown;
	struct kt_entry *x = &l->v[l->n];
	memset(x, 0, sizeof(*x));
	x->e = *e;
	x->e.principal = NULL;
	x->e.key.contents = malloc(e->key.length ? e->key.length : 1);
	if (!x->e.key.contents)
		return -1;
	memcpy(x->e.key.contents, e->key.contents, e->key.length);
	if (krb5_copy_principal(ctx, e->principal, &x->e.principal) ||
	    krb5_unparse_name(ctx, e->principal, &x->principal)) {
		krb5_free_keytab_entry_contents(ctx, &x->e);
		return -1;
	}
	l->n++;
	return 0;
}

#define MAX_KEYTAB_FILE (16u << 20)

/* The records of a keytab file, counted from its framing: after the version, each record is
 * a 32-bit length (big-endian in version 0x0502, the host's order in 0x0501), negative for a
 * hole left by a removed entry, 0 for the end.  libkrb5 stops quietly at a record that runs
 * past the end of the file, so a truncated keytab would lose its last keys without a word:
 * this says where it is cut.  -1 with err. */
static int count_records(int fd, size_t *records, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > (off_t)MAX_KEYTAB_FILE) {
		snprintf(err, errlen, "larger than %u bytes, or unreadable", MAX_KEYTAB_FILE);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	unsigned char *data = malloc(size ? size : 1);
	if (!data || pread(fd, data, size, 0) != (ssize_t)size) {
		snprintf(err, errlen, "%s", data ? strerror(errno) : "out of memory");
		free(data);
		return -1;
	}
	int rc = 0;
	size_t at = 2;
	*records = 0;
	bool big_endian = size >= 2 && data[0] == 5 && data[1] == 2;
	while (at + 4 <= size) {
		uint32_t raw;
		memcpy(&raw, data + at, 4);
		int32_t len = (int32_t)(big_endian ? ntohl(raw) : raw);
		if (len == 0)
			break;
		uint64_t skip = len < 0 ? (uint64_t)-(int64_t)len : (uint64_t)len;
		if (skip > size - at - 4) {
			snprintf(err, errlen, "cut short: the record at byte %zu is %llu bytes long, "
				 "the file ends %zu bytes after it", at, (unsigned long long)skip,
				 size - at - 4);
			rc = -1;
			break;
		}
		*records += len > 0;
		at += 4 + (size_t)skip;
	}
	if (rc == 0 && at < size && at + 4 > size) {
		snprintf(err, errlen, "cut short: %zu stray bytes at its end", size - at);
		rc = -1;
	}
	explicit_bzero(data, size); /* keys */
	free(data);
	return rc;
}

int kt_load(krb5_context ctx, const char *path, bool missing_ok, struct kt_entries *out,
	    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	krb5_keytab kt = NULL;
	krb5_kt_cursor cursor;
	krb5_keytab_entry e;
	krb5_error_code rc = resolve(ctx, path, &kt);
	if (!rc)
		rc = krb5_kt_start_seq_get(ctx, kt, &cursor);
	if (rc) {
		kt_describe(ctx, rc, path, err, errlen);
		if (kt)
			krb5_kt_close(ctx, kt);
		return -1;
	}
	while ((rc = krb5_kt_next_entry(ctx, kt, &e, &cursor)) == 0) {
		int added = append(ctx, out, &e);
		krb5_free_keytab_entry_contents(ctx, &e);
		if (added < 0) {
			rc = ENOMEM;
			break;
		}
	}
	krb5_kt_end_seq_get(ctx, kt, &cursor);
	krb5_kt_close(ctx, kt);
	if (rc != KRB5_KT_END) {
		kt_describe(ctx, rc, path, err, errlen);
		kt_free(ctx, out);
		return -1;
	}
	/* libkrb5 read it: now whether it read all of it (through a link, as libkrb5 did) */
	char why[512];
	size_t records = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || count_records(fd, &records, why, sizeof(why)) < 0 || records != out->n) {
		if (fd < 0)
			snprintf(why, sizeof(why), "%s", strerror(errno));
		else if (records != out->n)
			snprintf(why, sizeof(why), "it frames %zu entries, libkrb5 reads %zu of them",
				 records, out->n);
		snprintf(err, errlen, "%s: %s", path, why);
		kt_free(ctx, out);
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc == -1 ? -1 : 0;
}

bool kt_same_slot(krb5_context ctx, const krb5_keytab_entry *a, const krb5_keytab_entry *b)
{
	return a->vno == b->vno && a->key.enctype == b->key.enctype &&
	       krb5_principal_compare(ctx, a->principal, b->principal);
}

bool kt_same_key(krb5_context ctx, const krb5_keytab_entry *a, const krb5_keytab_entry *b)
{
	return kt_same_slot(ctx, a, b) && a->key.length == b->key.length &&
	       !memcmp(a->key.contents, b->key.contents, a->key.length);
}

int kt_put(krb5_context ctx, struct kt_entries *l, const struct kt_entry *e, bool replace)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!kt_same_slot(ctx, &l->v[i].e, &e->e))
			continue;
		if (!replace)
			return 0;
		if (append(ctx, l, &e->e) < 0)
			return -1;
		krb5_free_unparsed_name(ctx, l->v[i].principal);
		krb5_free_keytab_entry_contents(ctx, &l->v[i].e);
		l->v[i] = l->v[--l->n];
		return 0;
	}
	return append(ctx, l, &e->e);
}

int kt_save(krb5_context ctx, const char *path, const struct kt_entries *l, char *err,
	    size_t errlen)
{
	/* A link (to a keytab kept elsewhere) stays one: the file it points to is replaced. */
	char tmp[PATH_MAX], target[PATH_MAX];
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!realpath(path, target)) {
			snprintf(err, errlen, "%s: a link to nothing usable: %s", path, strerror(errno));
			return -1;
		}
		path = target;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.dirctl-new.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: the path is too long", path);
		return -1;
	}
	unlink(tmp);
	/* A keytab of no entries yet: the file format's version (0x0502), which libkrb5 then
	 * appends to.  Created here, O_EXCL and 0600, so nobody else can have it open. */
	static const unsigned char version[2] = { 0x05, 0x02 };
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, version, sizeof(version)) != (ssize_t)sizeof(version) || close(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	krb5_keytab kt = NULL;
	krb5_error_code rc = resolve(ctx, tmp, &kt);
	for (size_t i = 0; !rc && i < l->n; i++)
		rc = krb5_kt_add_entry(ctx, kt, (krb5_keytab_entry *)&l->v[i].e);
	if (kt)
		krb5_kt_close(ctx, kt);
	if (rc) {
		kt_describe(ctx, rc, tmp, err, errlen);
		unlink(tmp);
		return -1;
	}
	/* read back by libkrb5 before it replaces the keytab in use */
	struct kt_entries check;
	int loaded = kt_load(ctx, tmp, false, &check, err, errlen);
	if (loaded < 0 || check.n != l->n) {
		if (loaded == 0)
			snprintf(err, errlen, "%s: %zu keys written, %zu read back", tmp, l->n, check.n);
		kt_free(ctx, &check);
		unlink(tmp);
		return -1;
	}
	kt_free(ctx, &check);
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, 0600) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0 || dir_sync(path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

const char *kt_verdict_name(enum kt_verdict v)
{
	static const char *const names[] = { "ok", "stale", "ahead", "wrong key", "no enctype",
					      "unknown", "unchecked" };
	return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

const char *kt_verdict_fix(enum kt_verdict v)
{
	switch (v) {
	case KT_OK:
		return "";
	case KT_STALE:
		return "the KDC has a newer key (a kadmin ktadd or a password change made one): "
		       "export the KDC's current key without changing it (kadmin.local -q \"ktadd "
		       "-norandkey -k FILE PRINCIPAL\"; a plain ktadd makes yet another one) and "
		       "install it with dirctl keytab add NAME FILE";
	case KT_AHEAD:
		return "this key is newer than the KDC's: the keytab comes from another KDC, or a "
		       "change never reached this one; get the key from this realm's KDC";
	case KT_WRONG_KEY:
		return "the key is not the KDC's (the principal was made anew, or the keytab is of "
		       "another KDC): export its current key (kadmin.local ktadd -norandkey) and "
		       "install it with dirctl keytab add NAME FILE";
	case KT_NO_ENCTYPE:
		return "no key of the enctype the KDC uses for it: export the principal's keys of "
		       "every enctype, or allow these enctypes on the KDC";
	case KT_UNKNOWN:
		return "the KDC has no such principal: create it (kadmin addprinc -randkey) or "
		       "remove the keytab that holds it (dirctl keytab remove NAME)";
	case KT_UNCHECKED:
		return "no key of this keytab gets a ticket from the KDC: check that it answers "
		       "(dirctl test REALM), the clocks (within 300 s) and that the keytab is this "
		       "realm's";
	}
	return "";
}

/* The unique principals of entries (of realm, unless NULL), each with its highest kvno. */
static int principals_of(const struct kt_entries *entries, const char *realm,
			 struct kt_check *out)
{
	for (size_t i = 0; i < entries->n; i++) {
		const struct kt_entry *e = &entries->v[i];
		const krb5_data *r = &e->e.principal->realm;
		if (realm && (r->length != strlen(realm) || memcmp(r->data, realm, r->length)))
			continue;
		struct kt_principal *p = NULL;
		for (size_t j = 0; j < out->n && !p; j++)
			if (!strcmp(out->v[j].name, e->principal))
				p = &out->v[j];
		if (p) {
			if (e->e.vno > p->kvno)
				p->kvno = e->e.vno;
			continue;
		}
		struct kt_principal *grown = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (!grown)
			return -1;
		out->v = grown;
		p = &out->v[out->n];
		memset(p, 0, sizeof(*p));
		if (!(p->name = strdup(e->principal)))
			return -1;
		p->kvno = e->e.vno;
		p->verdict = KT_UNCHECKED;
		out->n++;
	}
	return 0;
}

/* True when entries hold a key of principal p with that enctype. */
static bool has_enctype(krb5_context ctx, const struct kt_entries *entries, krb5_principal p,
			krb5_enctype enctype)
{
	for (size_t i = 0; i < entries->n; i++)
		if (entries->v[i].e.key.enctype == enctype &&
		    krb5_principal_compare(ctx, entries->v[i].e.principal, p))
			return true;
	return false;
}

/* Initial credentials from p's key; the first that work go into *cc. */
static void initial_creds(krb5_context ctx, krb5_keytab kt, krb5_principal princ,
			  struct kt_principal *p, struct kt_check *out, krb5_ccache *cc)
{
	krb5_get_init_creds_opt *opt = NULL;
	krb5_creds creds;
	krb5_error_code rc = krb5_get_init_creds_opt_alloc(ctx, &opt);
	if (!rc) {
		krb5_get_init_creds_opt_set_tkt_life(opt, 300);
		rc = krb5_get_init_creds_keytab(ctx, &creds, princ, kt, 0, NULL, opt);
		krb5_get_init_creds_opt_free(ctx, opt);
	}
	if (rc) {
		kt_describe(ctx, rc, "initial credentials from the key", p->why, sizeof(p->why));
		return;
	}
	p->got_initial = true;
	if (!*cc && krb5_cc_new_unique(ctx, "MEMORY", NULL, cc) == 0) {
		if (krb5_cc_initialize(ctx, *cc, princ) || krb5_cc_store_cred(ctx, *cc, &creds)) {
			krb5_cc_destroy(ctx, *cc);
			*cc = NULL;
		} else {
			snprintf(out->tgt_principal, sizeof(out->tgt_principal), "%s", p->name);
		}
	}
	krb5_free_cred_contents(ctx, &creds);
}

/* A ticket for p from the KDC, with the credentials in cc: its kvno, and whether our key
 * decrypts it. */
static void service_ticket(krb5_context ctx, krb5_keytab kt, const struct kt_entries *entries,
			   krb5_principal princ, krb5_ccache cc, struct kt_principal *p)
{
	krb5_creds in, *got = NULL;
	krb5_ticket *ticket = NULL;
	memset(&in, 0, sizeof(in));
	in.server = princ;
	krb5_error_code rc = krb5_cc_get_principal(ctx, cc, &in.client);
	if (!rc)
		rc = krb5_get_credentials(ctx, 0, cc, &in, &got);
	if (rc) {
		p->verdict = rc == KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN ? KT_UNKNOWN : KT_UNCHECKED;
		kt_describe(ctx, rc, "a ticket for it", p->why, sizeof(p->why));
		goto out;
	}
	if ((rc = krb5_decode_ticket(&got->ticket, &ticket))) {
		kt_describe(ctx, rc, "the KDC's ticket", p->why, sizeof(p->why));
		goto out;
	}
	p->kdc_kvno = ticket->enc_part.kvno;
	if (krb5_enctype_to_name(ticket->enc_part.enctype, false, p->kdc_enctype,
				 sizeof(p->kdc_enctype)))
		snprintf(p->kdc_enctype, sizeof(p->kdc_enctype), "enctype %d",
			 (int)ticket->enc_part.enctype);
	rc = krb5_server_decrypt_ticket_keytab(ctx, kt, ticket);
	if (!rc) {
		p->verdict = KT_OK;
		p->why[0] = '\0';
	} else {
		p->verdict = p->kdc_kvno > p->kvno ? KT_STALE : p->kdc_kvno < p->kvno ? KT_AHEAD :
			     has_enctype(ctx, entries, princ, ticket->enc_part.enctype) ?
			     KT_WRONG_KEY : KT_NO_ENCTYPE;
		if (p->verdict == KT_WRONG_KEY)
			kt_describe(ctx, rc, "our key does not decrypt the KDC's ticket", p->why,
				    sizeof(p->why));
		else
			snprintf(p->why, sizeof(p->why), "the KDC's ticket for it is encrypted with "
				 "its key of kvno %u (%s); our newest key is kvno %u", p->kdc_kvno,
				 p->kdc_enctype, p->kvno);
	}
out:
	if (ticket)
		krb5_free_ticket(ctx, ticket);
	if (got)
		krb5_free_creds(ctx, got);
	krb5_free_principal(ctx, in.client);
}

void kt_check_keys(krb5_context ctx, const char *keytab_path, const struct kt_entries *entries,
		   const char *realm, struct kt_check *out)
{
	memset(out, 0, sizeof(*out));
	krb5_keytab kt = NULL;
	krb5_ccache cc = NULL;
	krb5_principal *princs = NULL;
	if (principals_of(entries, realm, out) < 0 || resolve(ctx, keytab_path, &kt) ||
	    !(princs = calloc(out->n + 1, sizeof(*princs)))) {
		for (size_t i = 0; i < out->n; i++)
			snprintf(out->v[i].why, sizeof(out->v[i].why), "out of memory, or %s cannot "
				 "be opened", keytab_path);
		goto out;
	}
	for (size_t i = 0; i < out->n; i++)
		if (krb5_parse_name(ctx, out->v[i].name, &princs[i]) == 0)
			initial_creds(ctx, kt, princs[i], &out->v[i], out, &cc);
	for (size_t i = 0; cc && i < out->n; i++)
		if (princs[i])
			service_ticket(ctx, kt, entries, princs[i], cc, &out->v[i]);
out:
	for (size_t i = 0; princs && i < out->n; i++)
		krb5_free_principal(ctx, princs[i]);
	free(princs);
	if (cc)
		krb5_cc_destroy(ctx, cc);
	if (kt)
		krb5_kt_close(ctx, kt);
}

void kt_check_free(struct kt_check *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
