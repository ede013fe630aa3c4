#include "local_accounts.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called for each account line with its name and, when the third field is a number, its id:
 * 0 goes on, 1 stops the scan (found), -1 fails it (out of memory). */
typedef int (*entry_fn)(const char *name, const uint32_t *id, void *arg);

/* The id of a passwd or group line's third field as glibc's files module reads it (strtoul,
 * base 10, then a range check): leading blanks, a sign and any number of leading zeros are
 * taken, so " 1005", "+1005" and "0001005" are 1005 and "-0" is 0.  NULL when glibc takes no id
 * from it. */
static const uint32_t *field_id(const char *s, uint32_t *out)
{
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	bool negative = *s == '-';
	if (*s == '+' || *s == '-')
		s++;
	uint64_t n = 0;
	bool digits = false;
	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		if ((n = n * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return NULL;
	/* strtoul negates in unsigned long: only -0 stays in range */
	if (!digits || (*s && *s != ':') || (negative && n))
		return NULL;
	*out = (uint32_t)n;
	return out;
}

/* One line, as glibc's files module reads it: leading blanks skipped, empty lines and comments
 * ignored.  A compat entry (+name, -name) counts under its name: a doubt is local. */
static int parse_line(char *line, entry_fn fn, void *arg)
{
	line[strcspn(line, "\n")] = '\0';
	char *p = line + strspn(line, " \t");
	if (!*p || *p == '#')
		return 0;
	if (*p == '+' || *p == '-')
		p++;
	char *fields = strchr(p, ':');
	if (fields)
		*fields++ = '\0';
	const char *id_field = fields ? strchr(fields, ':') : NULL;
	uint32_t id;
	const uint32_t *idp = id_field ? field_id(id_field + 1, &id) : NULL;
	/* "+" alone and "+@netgroup" name no one of their own */
	return fn(*p && *p != '@' ? p : NULL, idp, arg);
}

/* Every line of path, whatever its length.  0 when read to its end (or fn stopped it: 1), -1
 * with err set when it cannot be read whole. */
static int scan(const char *path, entry_fn fn, void *arg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	errno = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0)
		rc = parse_line(line, fn, arg);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read %s whole: out of memory", path);
	} else if (rc == 0 && !feof(f)) { /* getline stopped before the end */
		snprintf(err, errlen, "cannot read %s whole: %s", path,
			 strerror(errno ? errno : EIO));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

/* --- the sets dird filters with ------------------------------------------------------------- */

struct set_builder {
	struct local_set *set;
	size_t names_cap, ids_cap;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*v, c * size);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

static int add_entry(const char *name, const uint32_t *id, void *arg)
{
	struct set_builder *b = arg;
	struct local_set *s = b->set;
	if (name) {
		if (grow((void **)&s->names, &b->names_cap, s->n_names, sizeof(char *)) < 0 ||
		    !(s->names[s->n_names] = strdup(name)))
			return -1;
		s->n_names++;
	}
	if (id) {
		if (grow((void **)&s->ids, &b->ids_cap, s->n_ids, sizeof(uint32_t)) < 0)
			return -1;
		s->ids[s->n_ids++] = *id;
	}
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void set_free(struct local_set *s)
{
	for (size_t i = 0; i < s->n_names; i++)
		free(s->names[i]);
	free(s->names);
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

static int set_load(struct local_set *s, const char *path, char *err, size_t errlen)
{
	struct set_builder b = { s, 0, 0 };
	memset(s, 0, sizeof(*s));
	if (scan(path, add_entry, &b, err, errlen) < 0)
		return -1;
	if (s->n_names)
		qsort(s->names, s->n_names, sizeof(char *), cmp_name);
	if (s->n_ids)
		qsort(s->ids, s->n_ids, sizeof(uint32_t), cmp_id);
	return 0;
}

int local_accounts_load_files(struct local_accounts *a, const char *passwd, const char *group,
			      char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (set_load(&a->users, passwd, err, errlen) < 0 ||
	    set_load(&a->groups, group, err, errlen) < 0) {
		local_accounts_free(a);
		return -1;
	}
	return 0;
}

int local_accounts_load(struct local_accounts *a, char *err, size_t errlen)
{
	return local_accounts_load_files(a, LOCAL_PASSWD_FILE, LOCAL_GROUP_FILE, err, errlen);
}

void local_accounts_free(struct local_accounts *a)
{
	set_free(&a->users);
	set_free(&a->groups);
}

bool local_set_has_name(const struct local_set *s, const char *name)
{
	return s->n_names && bsearch(&name, s->names, s->n_names, sizeof(char *), cmp_name);
}

bool local_set_has_id(const struct local_set *s, uint32_t id)
{
	return s->n_ids && bsearch(&id, s->ids, s->n_ids, sizeof(uint32_t), cmp_id);
}

enum local_clash local_accounts_user_clash(const struct local_accounts *a, const char *name,
					   uint32_t uid, uint32_t gid)
{
	if (local_set_has_name(&a->users, name))
		return LOCAL_CLASH_NAME;
	if (local_set_has_id(&a->users, uid) || local_set_has_id(&a->groups, gid))
		return LOCAL_CLASH_ID;
	return LOCAL_CLASH_NONE;
}

enum local_clash local_accounts_group_clash(const struct local_accounts *a, const char *name,
					    uint32_t gid)
{
	if (local_set_has_name(&a->groups, name))
		return LOCAL_CLASH_NAME;
	return local_set_has_id(&a->groups, gid) ? LOCAL_CLASH_ID : LOCAL_CLASH_NONE;
}

/* --- one name, for pam_dir ----------------------------------------------------------------- */

static int is_name(const char *name, const uint32_t *id, void *arg)
{
	(void)id;
	return name && !strcmp(name, arg) ? 1 : 0;
}

int local_user_lookup(const char *passwd, const char *name, char *err, size_t errlen)
{
	return scan(passwd, is_name, (void *)name, err, errlen);
}

bool dir_krb5_local_uid(unsigned long uid)
{
	return (uid >= 1000 && uid < 60000) || (uid >= 65536 && uid < 4294967294ul);
}

bool local_user_kerberos_allowed(const char *name)
{
	struct passwd pw;
	char *buf = NULL;
	bool allowed = dir_getpwnam(name, &pw, &buf) && dir_krb5_local_uid(pw.pw_uid);
	free(buf);
	return allowed;
}

struct passwd *dir_getpwnam(const char *name, struct passwd *pw, char **buf)
{
	struct passwd *found = NULL;
	*buf = NULL;
	for (size_t size = 4096; size <= (16u << 20); size *= 2) {
		char *bigger = realloc(*buf, size);
		if (!bigger)
			break;
		*buf = bigger;
		int rc = getpwnam_r(name, pw, *buf, size, &found);
		if (rc != ERANGE)
			return rc == 0 ? found : NULL;
	}
	return NULL;
}
