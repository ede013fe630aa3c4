/* dirctl keytab add NAME FILE|- | list [--json] | remove NAME | check [NAME]: keytabs the
 * administrator installs (host/, nfs/, cifs/ keys from a kadmin ktadd, a Windows ktpass
 * keytab), each kept whole in <state_dir>/keytabs/NAME.keytab (root only) and merged into the
 * host keytab ([kerberos] keytab): written anew beside it (mode 0600) and renamed over it, one
 * entry per principal, kvno and enctype.  Keys the host keytab got some other way (dirctl ads
 * join, the administrator's own) stay.  `check` proves each key against the KDC. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config_keys.h"
#include "dirctl.h"
#include "fileutil.h"
#include "keytab.h"
#include "names.h"

#define MAX_KEYTAB (1u << 20)
#define MAX_STORED 256
/* Keys the host keytab had from elsewhere when a keytab holding them too was installed: they
 * stay when that keytab goes.  Its name is no keytab's (a name never starts with '.'). */
#define ELSEWHERE ".elsewhere.keytab"

struct stored {
	char name[65];
	char path[PATH_MAX];
	long long added;	/* the file's mtime */
	struct kt_entries entries;
};

struct store {
	krb5_context ctx;
	const struct dir_config *cfg;
	char dir[PATH_MAX];	/* <state_dir>/keytabs */
	struct stored *v;
	size_t n;
	int lock_fd;
	char elsewhere_path[PATH_MAX];
	struct kt_entries elsewhere;	/* ELSEWHERE's keys */
};

static int usage(void)
{
	fprintf(stderr, "Usage: dirctl keytab add NAME FILE|-\n"
			"       dirctl [--json] keytab list\n"
			"       dirctl keytab remove NAME\n"
			"       dirctl [--json] keytab check [NAME]\n");
	return EXIT_USAGE;
}

/* 1-64 letters, digits, '.', '_', '-', not starting with '.'. */
static bool valid_name(const char *s)
{
	return dir_conf_plain_name(s, 64) && s[0] != '.';
}

static void store_close(struct store *st)
{
	for (size_t i = 0; i < st->n; i++)
		kt_free(st->ctx, &st->v[i].entries);
	free(st->v);
	kt_free(st->ctx, &st->elsewhere);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->ctx)
		krb5_free_context(st->ctx);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct stored *)a)->name, ((const struct stored *)b)->name);
}

/* Opens the store (created when `write`), holding its lock, with every stored keytab read. */
static int store_open(struct ctl *c, bool write, struct store *st)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	st->cfg = &c->cfg;
	if (geteuid() != 0) {
		fprintf(stderr, "dirctl: keytabs are root's alone; run it with sudo\n");
		return -1;
	}
	ctl_directory_env(c); /* dird's krb5.conf: check asks its KDCs */
	if (krb5_init_context(&st->ctx)) {
		st->ctx = NULL;
		fprintf(stderr, "dirctl: cannot set up Kerberos\n");
		return -1;
	}
	if (snprintf(st->dir, sizeof(st->dir), "%s/keytabs", c->cfg.state_dir) >= (int)sizeof(st->dir)) {
		fprintf(stderr, "dirctl: state_dir is too long\n");
		return -1;
	}
	if (write && ((mkdir(c->cfg.state_dir, 0700) < 0 && errno != EEXIST) ||
		      dir_ensure(st->dir, 0700) < 0)) {
		fprintf(stderr, "dirctl: %s: %s\n", st->dir, strerror(errno));
		return -1;
	}
	char lock[PATH_MAX + 8];
	dir_build_name(lock, sizeof(lock), "%s/.lock", st->dir); /* fits: 8 more bytes */
	st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0 && (write || errno != ENOENT)) {
		fprintf(stderr, "dirctl: %s: %s\n", lock, strerror(errno));
		return -1;
	}
	if (st->lock_fd >= 0 && flock(st->lock_fd, write ? LOCK_EX : LOCK_SH) < 0) {
		fprintf(stderr, "dirctl: %s: %s\n", lock, strerror(errno));
		return -1;
	}
	char err[1024];
	if (dir_build_name(st->elsewhere_path, sizeof(st->elsewhere_path), "%s/" ELSEWHERE, st->dir) < 0 ||
	    kt_load(st->ctx, st->elsewhere_path, true, &st->elsewhere, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s\n", st->elsewhere_path[0] ? err : "state_dir is too long");
		return -1;
	}
	DIR *d = opendir(st->dir);
	if (!d)
		return errno == ENOENT ? 0 : (fprintf(stderr, "dirctl: %s: %s\n", st->dir, strerror(errno)), -1);
	st->v = calloc(MAX_STORED, sizeof(*st->v));
	int rc = st->v ? 0 : -1;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 7 || strcmp(de->d_name + len - 7, ".keytab") || len - 7 >= sizeof(st->v->name))
			continue;
		struct stored *s = &st->v[st->n];
		snprintf(s->name, sizeof(s->name), "%.*s", (int)(len - 7), de->d_name);
		if (!valid_name(s->name) || st->n == MAX_STORED)
			continue;
		if (dir_build_name(s->path, sizeof(s->path), "%s/%s", st->dir, de->d_name) < 0)
			continue;
		struct stat sb;
		s->added = stat(s->path, &sb) == 0 ? (long long)sb.st_mtime : 0;
		if (kt_load(st->ctx, s->path, false, &s->entries, err, sizeof(err)) < 0) {
			fprintf(stderr, "dirctl: the stored keytab %s: %s\n", s->name, err);
			rc = -1;
			break;
		}
		st->n++;
	}
	closedir(d);
	if (rc < 0)
		return -1;
	qsort(st->v, st->n, sizeof(*st->v), by_name);
	return 0;
}

static struct stored *find_stored(struct store *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->v[i].name, name))
			return &st->v[i];
	return NULL;
}

static bool holds_key(krb5_context ctx, const struct kt_entries *l, const krb5_keytab_entry *e)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (kt_same_key(ctx, &l->v[i].e, e))
			return true;
	return false;
}

/* Which stored keytab gave the host keytab this key, or NULL. */
static const struct stored *source_of(const struct store *st, const krb5_keytab_entry *e)
{
	for (size_t i = 0; i < st->n; i++)
		if (holds_key(st->ctx, &st->v[i].entries, e))
			return &st->v[i];
	return NULL;
}

/* The host keytab once keytab `name` holds `fresh` (NULL: once it is removed): what no stored
 * keytab gave it stays; name's old keys go unless another stored keytab holds them too; fresh's
 * come in, replacing a key of the same principal, kvno and enctype. */
static int merge(const struct store *st, const struct kt_entries *host, const char *name,
		 const struct kt_entries *fresh, struct kt_entries *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < host->n; i++) {
		const krb5_keytab_entry *e = &host->v[i].e;
		bool from_name = false, elsewhere = holds_key(st->ctx, &st->elsewhere, e);
		for (size_t j = 0; j < st->n; j++) {
			if (!holds_key(st->ctx, &st->v[j].entries, e))
				continue;
			if (!strcmp(st->v[j].name, name))
				from_name = true;
			else
				elsewhere = true;
		}
		if ((!from_name || elsewhere) && kt_put(st->ctx, out, &host->v[i], false) < 0)
			return -1;
	}
	for (size_t i = 0; fresh && i < fresh->n; i++)
		if (kt_put(st->ctx, out, &fresh->v[i], true) < 0)
			return -1;
	return 0;
}

static bool has_principal(krb5_context ctx, const struct kt_entries *l, krb5_const_principal p)
{
	for (size_t i = 0; i < l->n; i++)
		if (krb5_principal_compare(ctx, l->v[i].e.principal, p))
			return true;
	return false;
}

/* A domain that binds with a principal of the host keytab must not lose its key. */
static bool binding_kept(const struct store *st, const struct kt_entries *before,
			 const struct kt_entries *after)
{
	const struct dir_config *cfg = st->cfg;
	bool kept = true;
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *d = &cfg->domains[i];
		krb5_principal p = NULL;
		if (!d->keytab || !d->sasl_authid || strcmp(d->keytab, cfg->host_keytab) ||
		    krb5_parse_name(st->ctx, d->sasl_authid, &p))
			continue;
		if (has_principal(st->ctx, before, p) && !has_principal(st->ctx, after, p)) {
			fprintf(stderr, "dirctl: [domain/%s] binds as %s with the host keytab; it would "
				"lose that key: change its %s first\n", d->name, d->sasl_authid,
				d->keytab_principal ? "keytab_principal" : "sasl_authid");
			kept = false;
		}
		krb5_free_principal(st->ctx, p);
	}
	return kept;
}

/* The keys of fresh the host keytab has from elsewhere (no installed keytab gave them) are
 * kept in ELSEWHERE, before the host keytab changes. */
static int remember_elsewhere(struct store *st, const struct kt_entries *host,
			      const struct kt_entries *fresh)
{
	size_t before = st->elsewhere.n;
	for (size_t i = 0; i < host->n; i++)
		if (holds_key(st->ctx, fresh, &host->v[i].e) && !source_of(st, &host->v[i].e) &&
		    kt_put(st->ctx, &st->elsewhere, &host->v[i], false) < 0) {
			fprintf(stderr, "dirctl: out of memory\n");
			return -1;
		}
	char err[1024];
	if (st->elsewhere.n > before &&
	    kt_save(st->ctx, st->elsewhere_path, &st->elsewhere, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s\n", err);
		return -1;
	}
	return 0;
}

/* Writes the host keytab that results from `name` holding `fresh` (NULL: removed). */
static int update_host(struct store *st, const char *name, const struct kt_entries *fresh)
{
	struct kt_entries host, merged = { 0 };
	char err[1024];
	const char *path = st->cfg->host_keytab;
	if (kt_load(st->ctx, path, true, &host, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: the host keytab %s: %s; fix or move it first\n", path, err);
		return -1;
	}
	int rc = -1;
	if (fresh && remember_elsewhere(st, &host, fresh) < 0)
		;
	else if (merge(st, &host, name, fresh, &merged) < 0)
		fprintf(stderr, "dirctl: out of memory\n");
	else if (!binding_kept(st, &host, &merged))
		;
	else if (kt_save(st->ctx, path, &merged, err, sizeof(err)) < 0)
		fprintf(stderr, "dirctl: cannot write the host keytab: %s\n", err);
	else
		rc = 0;
	if (rc == 0)
		printf("%s: %zu key%s (was %zu)\n", path, merged.n, merged.n == 1 ? "" : "s", host.n);
	kt_free(st->ctx, &merged);
	kt_free(st->ctx, &host);
	return rc;
}

/* FILE, or stdin for "-": at most MAX_KEYTAB bytes, into a new 0600 file in the store. */
static int copy_in(const struct store *st, const char *from, char *tmp, size_t tmplen)
{
	int in = strcmp(from, "-") ? open(from, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (in < 0) {
		fprintf(stderr, "dirctl: %s: %s\n", from, strerror(errno));
		return -1;
	}
	unsigned char *data = malloc(MAX_KEYTAB + 1);
	size_t len = 0;
	ssize_t got = 0;
	while (data && len <= MAX_KEYTAB && (got = read(in, data + len, MAX_KEYTAB + 1 - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		len += (size_t)got;
	}
	int saved = errno;
	if (in != STDIN_FILENO)
		close(in);
	int rc = -1, fd = -1;
	if (dir_build_name(tmp, tmplen, "%s/.new-XXXXXX", st->dir) < 0)
		fprintf(stderr, "dirctl: state_dir is too long\n");
	else if (!data || got < 0)
		fprintf(stderr, "dirctl: %s: %s\n", from, data ? strerror(saved) : "out of memory");
	else if (len > MAX_KEYTAB)
		fprintf(stderr, "dirctl: %s: larger than %u bytes: not a keytab\n", from, MAX_KEYTAB);
	else if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0600) < 0)
		fprintf(stderr, "dirctl: %s: %s\n", tmp, strerror(errno));
	else if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		fprintf(stderr, "dirctl: %s: %s\n", tmp, strerror(errno));
	else
		rc = 0;
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	if (data)
		explicit_bzero(data, MAX_KEYTAB + 1); /* keys */
	free(data);
	return rc;
}

static int add_keytab(struct ctl *c, const char *name, const char *from)
{
	if (!valid_name(name)) {
		fprintf(stderr, "dirctl: '%s' is not a keytab name (1-64 letters, digits, '.', '_', "
			"'-')\n", name);
		return EXIT_USAGE;
	}
	struct store st;
	char tmp[PATH_MAX], err[1024], path[PATH_MAX + 80];
	struct kt_entries fresh = { 0 };
	int rc = EXIT_FAIL;
	if (store_open(c, true, &st) < 0 || copy_in(&st, from, tmp, sizeof(tmp)) < 0)
		goto out;
	int loaded = kt_load(st.ctx, tmp, false, &fresh, err, sizeof(err));
	if (loaded < 0 || !fresh.n) {
		/* the reason names our copy: say it of theirs */
		const char *why = loaded < 0 && !strncmp(err, tmp, strlen(tmp)) ? err + strlen(tmp) + 2 : err;
		fprintf(stderr, "dirctl: %s is not a keytab we can use: %s\n",
			strcmp(from, "-") ? from : "stdin", loaded < 0 ? why : "it holds no key");
		unlink(tmp);
		goto out;
	}
	bool replaced = find_stored(&st, name) != NULL;
	snprintf(path, sizeof(path), "%s/%s.keytab", st.dir, name);
	if (update_host(&st, name, &fresh) < 0) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0 || dir_sync(path) < 0) {
		fprintf(stderr, "dirctl: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	printf("keytab %s %s: %zu key%s", name, replaced ? "replaced" : "added", fresh.n,
	       fresh.n == 1 ? "" : "s");
	for (size_t i = 0; i < fresh.n; i++)
		if (i == 0 || strcmp(fresh.v[i].principal, fresh.v[i - 1].principal))
			printf("%s%s", i ? ", " : " (", fresh.v[i].principal);
	printf(")\n");
	rc = EXIT_OK;
out:
	kt_free(st.ctx, &fresh);
	store_close(&st);
	return rc;
}

static int remove_keytab(struct ctl *c, const char *name)
{
	struct store st;
	int rc = EXIT_FAIL;
	if (store_open(c, true, &st) < 0)
		goto out;
	struct stored *s = find_stored(&st, name);
	if (!s) {
		fprintf(stderr, "dirctl: no keytab %s (dirctl keytab list shows them)\n", name);
		goto out;
	}
	if (update_host(&st, name, NULL) < 0)
		goto out;
	if (unlink(s->path) < 0) {
		fprintf(stderr, "dirctl: %s: %s\n", s->path, strerror(errno));
		goto out;
	}
	printf("keytab %s removed\n", name);
	rc = EXIT_OK;
out:
	store_close(&st);
	return rc;
}

static bool principal_is(krb5_context ctx, krb5_const_principal p, const char *name)
{
	krb5_principal q = NULL;
	bool same = name && krb5_parse_name(ctx, name, &q) == 0 && krb5_principal_compare(ctx, p, q);
	krb5_free_principal(ctx, q);
	return same;
}

static bool in_realm(krb5_const_principal p, const char *realm)
{
	const krb5_data *r = &p->realm;
	return realm && r->length == strlen(realm) && !memcmp(r->data, realm, r->length);
}

/* What uses a key of the host keytab: binds, login checks. */
static void used_by(const struct store *st, krb5_const_principal p, json_object *list)
{
	const struct dir_config *cfg = st->cfg;
	char what[512];
	bool host = p->length == 2 && p->data[0].length == 4 && !memcmp(p->data[0].data, "host", 4);
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *d = &cfg->domains[i];
		if (d->keytab && !strcmp(d->keytab, cfg->host_keytab) &&
		    principal_is(st->ctx, p, d->sasl_authid)) {
			snprintf(what, sizeof(what), "[domain/%s] binds as it", d->name);
			json_object_array_add(list, json_object_new_string(what));
		}
		if (host && d->auth == DIR_AUTH_KRB5 && !strcmp(d->krb5_keytab, cfg->host_keytab) &&
		    in_realm(p, d->krb5_realm)) {
			snprintf(what, sizeof(what), "[domain/%s] verifies logins with it", d->name);
			json_object_array_add(list, json_object_new_string(what));
		}
	}
	for (size_t i = 0; host && i < cfg->n_realms; i++)
		if (cfg->realms[i].local_users && in_realm(p, cfg->realms[i].name)) {
			snprintf(what, sizeof(what), "[realm/%s] verifies local users' logins with it",
				 cfg->realms[i].name);
			json_object_array_add(list, json_object_new_string(what));
		}
}

static json_object *entry_json(const struct store *st, const struct kt_entry *e)
{
	char enctype[64];
	if (krb5_enctype_to_name(e->e.key.enctype, false, enctype, sizeof(enctype)))
		snprintf(enctype, sizeof(enctype), "enctype %d", (int)e->e.key.enctype);
	json_object *o = json_object_new_object(), *uses = json_object_new_array();
	used_by(st, e->e.principal, uses);
	json_object_object_add(o, "principal", json_object_new_string(e->principal));
	json_object_object_add(o, "kvno", json_object_new_int64(e->e.vno));
	json_object_object_add(o, "enctype", json_object_new_string(enctype));
	json_object_object_add(o, "timestamp", json_object_new_int64(e->e.timestamp));
	json_object_object_add(o, "used_by", uses);
	return o;
}

/* Entries as text: one line per principal and kvno, its enctypes together, then its uses. */
static void print_entries(json_object *entries)
{
	size_t n = json_object_array_length(entries);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(entries, i), *v;
		const char *princ = json_object_get_string(json_object_object_get(e, "principal"));
		int64_t kvno = json_object_get_int64(json_object_object_get(e, "kvno"));
		bool repeat = false;
		for (size_t j = 0; j < i && !repeat; j++) {
			json_object *x = json_object_array_get_idx(entries, j);
			repeat = !strcmp(princ, json_object_get_string(json_object_object_get(x, "principal"))) &&
				 kvno == json_object_get_int64(json_object_object_get(x, "kvno"));
		}
		if (repeat)
			continue;
		char when[32];
		ctl_format_utc(json_object_get_int64(json_object_object_get(e, "timestamp")), when,
			       sizeof(when));
		printf("  %s  kvno %lld  %s ", princ, (long long)kvno, when);
		for (size_t j = i; j < n; j++) {
			json_object *x = json_object_array_get_idx(entries, j);
			if (!strcmp(princ, json_object_get_string(json_object_object_get(x, "principal"))) &&
			    kvno == json_object_get_int64(json_object_object_get(x, "kvno")))
				printf(" %s", json_object_get_string(json_object_object_get(x, "enctype")));
		}
		printf("\n");
		json_object_object_get_ex(e, "used_by", &v);
		for (size_t j = 0; j < json_object_array_length(v); j++)
			printf("      used: %s\n", json_object_get_string(json_object_array_get_idx(v, j)));
	}
}

static int list_keytabs(struct ctl *c)
{
	struct store st;
	struct kt_entries host = { 0 };
	char err[1024];
	int rc = EXIT_FAIL;
	if (store_open(c, false, &st) < 0)
		goto out;
	if (kt_load(st.ctx, c->cfg.host_keytab, true, &host, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: the host keytab %s: %s\n", c->cfg.host_keytab, err);
		goto out;
	}
	json_object *top = json_object_new_object(), *keytabs = json_object_new_array(),
		    *other = json_object_new_array();
	json_object_object_add(top, "host_keytab", json_object_new_string(c->cfg.host_keytab));
	for (size_t i = 0; i < st.n; i++) {
		json_object *k = json_object_new_object(), *entries = json_object_new_array();
		json_object_object_add(k, "name", json_object_new_string(st.v[i].name));
		json_object_object_add(k, "file", json_object_new_string(st.v[i].path));
		json_object_object_add(k, "added", json_object_new_int64(st.v[i].added));
		for (size_t j = 0; j < st.v[i].entries.n; j++)
			json_object_array_add(entries, entry_json(&st, &st.v[i].entries.v[j]));
		json_object_object_add(k, "entries", entries);
		json_object_array_add(keytabs, k);
	}
	for (size_t j = 0; j < host.n; j++)
		if (!source_of(&st, &host.v[j].e) || holds_key(st.ctx, &st.elsewhere, &host.v[j].e))
			json_object_array_add(other, entry_json(&st, &host.v[j]));
	json_object_object_add(top, "keytabs", keytabs);
	json_object_object_add(top, "other_entries", other);
	if (c->json) {
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("host keytab %s: %zu key%s\n", c->cfg.host_keytab, host.n, host.n == 1 ? "" : "s");
		for (size_t i = 0; i < st.n; i++) {
			char when[32];
			ctl_format_utc(st.v[i].added, when, sizeof(when));
			printf("keytab %s (added %s, %s)\n", st.v[i].name, when, st.v[i].path);
			print_entries(json_object_object_get(json_object_array_get_idx(keytabs, i), "entries"));
		}
		if (json_object_array_length(other)) {
			printf("in the host keytab from elsewhere (dirctl ads join, or put there by hand):\n");
			print_entries(other);
		}
		if (!st.n && !host.n)
			printf("no keytab (dirctl keytab add NAME FILE installs one)\n");
	}
	json_object_put(top);
	rc = EXIT_OK;
out:
	kt_free(st.ctx, &host);
	store_close(&st);
	return rc;
}

void kt_print_check(const struct kt_check *chk, const char *indent)
{
	if (chk->tgt_principal[0])
		printf("%sinitial credentials from the key of %s\n", indent, chk->tgt_principal);
	for (size_t i = 0; i < chk->n; i++) {
		const struct kt_principal *p = &chk->v[i];
		if (p->verdict == KT_OK)
			printf("%s%s  kvno %u  ok (the KDC's kvno %u, %s)\n", indent, p->name, p->kvno,
			       p->kdc_kvno, p->kdc_enctype);
		else if (p->kdc_enctype[0])
			printf("%s%s  kvno %u  %s: the KDC's kvno is %u\n", indent, p->name, p->kvno,
			       kt_verdict_name(p->verdict), p->kdc_kvno);
		else
			printf("%s%s  kvno %u  %s\n", indent, p->name, p->kvno, kt_verdict_name(p->verdict));
		if (p->verdict != KT_OK)
			printf("%s    %s\n%s    fix: %s\n", indent, p->why, indent, kt_verdict_fix(p->verdict));
	}
}

static void print_check_json(const char *path, const struct kt_check *chk)
{
	json_object *top = json_object_new_object(), *list = json_object_new_array();
	for (size_t i = 0; i < chk->n; i++) {
		const struct kt_principal *p = &chk->v[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "principal", json_object_new_string(p->name));
		json_object_object_add(o, "kvno", json_object_new_int64(p->kvno));
		json_object_object_add(o, "kdc_kvno", p->kdc_enctype[0] ?
				       json_object_new_int64(p->kdc_kvno) : NULL);
		json_object_object_add(o, "verdict", json_object_new_string(kt_verdict_name(p->verdict)));
		json_object_object_add(o, "initial_credentials", json_object_new_boolean(p->got_initial));
		json_object_object_add(o, "why", p->why[0] ? json_object_new_string(p->why) : NULL);
		json_object_object_add(o, "fix", p->verdict != KT_OK ?
				       json_object_new_string(kt_verdict_fix(p->verdict)) : NULL);
		json_object_array_add(list, o);
	}
	json_object_object_add(top, "keytab", json_object_new_string(path));
	json_object_object_add(top, "principals", list);
	printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
}

static int check_keytab(struct ctl *c, const char *name)
{
	struct store st;
	struct kt_entries entries = { 0 };
	char err[1024];
	int rc = EXIT_FAIL;
	if (store_open(c, false, &st) < 0)
		goto out;
	const struct stored *s = name ? find_stored(&st, name) : NULL;
	const char *path = s ? s->path : c->cfg.host_keytab;
	if (name && !s) {
		fprintf(stderr, "dirctl: no keytab %s (dirctl keytab list shows them)\n", name);
		goto out;
	}
	if (kt_load(st.ctx, path, false, &entries, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s\n", err);
		goto out;
	}
	if (!entries.n) {
		fprintf(stderr, "dirctl: %s holds no key\n", path);
		goto out;
	}
	struct kt_check chk;
	kt_check_keys(st.ctx, path, &entries, NULL, &chk);
	size_t failed = 0;
	for (size_t i = 0; i < chk.n; i++)
		failed += chk.v[i].verdict != KT_OK;
	if (c->json) {
		print_check_json(path, &chk);
	} else {
		printf("keytab %s\n", path);
		kt_print_check(&chk, "  ");
		printf("result: %s\n", failed ? "FAILED" : "ok");
	}
	kt_check_free(&chk);
	rc = failed ? EXIT_FAIL : EXIT_OK;
out:
	kt_free(st.ctx, &entries);
	store_close(&st);
	return rc;
}

int cmd_keytab(struct ctl *c, int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[0], "add"))
		return add_keytab(c, argv[1], argv[2]);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return list_keytabs(c);
	if (argc == 2 && !strcmp(argv[0], "remove"))
		return remove_keytab(c, argv[1]);
	if ((argc == 1 || argc == 2) && !strcmp(argv[0], "check"))
		return check_keytab(c, argc == 2 ? argv[1] : NULL);
	return usage();
}
