/* dirctl's keytab helpers (libkrb5's keytab API): reading every entry of a keytab, writing a
 * set of entries as a new keytab atomically, and proving each principal's key against its
 * KDC.  Used by `dirctl keytab` and by `dirctl test` for a realm. */
#ifndef DIRCTL_KEYTAB_H
#define DIRCTL_KEYTAB_H

#include <krb5.h>
#include <stdbool.h>
#include <stddef.h>

struct kt_entry {
	char *principal;	/* unparsed: host/nas.example.lan@EXAMPLE.LAN */
	krb5_keytab_entry e;
};

struct kt_entries {
	struct kt_entry *v;
	size_t n;
};

/* Reads every entry of the FILE keytab at path into out.  A missing file is an empty keytab
 * when missing_ok.  0, or -1 with err (libkrb5's reason: a keytab that does not parse). */
int kt_load(krb5_context ctx, const char *path, bool missing_ok, struct kt_entries *out,
	    char *err, size_t errlen);
void kt_free(krb5_context ctx, struct kt_entries *l);

/* The same principal, kvno and enctype (one key slot), and also the same key bytes. */
bool kt_same_slot(krb5_context ctx, const krb5_keytab_entry *a, const krb5_keytab_entry *b);
bool kt_same_key(krb5_context ctx, const krb5_keytab_entry *a, const krb5_keytab_entry *b);

/* Adds a copy of e to l unless l has its slot already: then a copy of e replaces that entry
 * when replace, else nothing changes.  -1 when out of memory. */
int kt_put(krb5_context ctx, struct kt_entries *l, const struct kt_entry *e, bool replace);

/* Writes l as the keytab at path: a new file (mode 0600) beside it, synced, renamed over it.
 * 0, or -1 with err. */
int kt_save(krb5_context ctx, const char *path, const struct kt_entries *l, char *err,
	    size_t errlen);

/* The KDC's verdict on one principal's key. */
enum kt_verdict {
	KT_OK,		/* a ticket the KDC issued for it is decrypted with our key */
	KT_STALE,	/* the KDC's kvno is newer than ours */
	KT_AHEAD,	/* ours is newer than the KDC's */
	KT_WRONG_KEY,	/* same kvno, another key */
	KT_NO_ENCTYPE,	/* no key of the enctype the KDC encrypts its tickets with */
	KT_UNKNOWN,	/* the KDC does not know the principal */
	KT_UNCHECKED,	/* no ticket from the KDC at all: why says why */
};

struct kt_principal {
	char *name;
	krb5_kvno kvno;		/* the highest of ours */
	enum kt_verdict verdict;
	krb5_kvno kdc_kvno;	/* when the KDC issued a ticket for it */
	char kdc_enctype[64];
	bool got_initial;	/* the key itself got initial credentials (an AS exchange) */
	char why[512];		/* for anything but KT_OK */
};

struct kt_check {
	struct kt_principal *v;
	size_t n;
	char tgt_principal[512];	/* whose initial credentials asked for the tickets */
};

/* Proves each principal of `entries` (of `realm` only, unless NULL) against its KDC: initial
 * credentials from each key (krb5_get_init_creds_keytab), then with the first that works, a
 * ticket for each principal, whose kvno is the KDC's and which our key must decrypt
 * (krb5_server_decrypt_ticket_keytab).  keytab_path is the file the entries came from. */
void kt_check_keys(krb5_context ctx, const char *keytab_path, const struct kt_entries *entries,
		   const char *realm, struct kt_check *out);
void kt_check_free(struct kt_check *c);

/* cmd_keytab.c: a check's verdicts as text, each line after indent, with the fix of each
 * failure. */
void kt_print_check(const struct kt_check *chk, const char *indent);

/* "ok", "stale", ...: the verdict's name, for output. */
const char *kt_verdict_name(enum kt_verdict v);
/* A line for the administrator: what to do about a verdict. */
const char *kt_verdict_fix(enum kt_verdict v);

/* libkrb5's message for rc, after what: "what: message". */
void kt_describe(krb5_context ctx, krb5_error_code rc, const char *what, char *err, size_t errlen);

#endif
