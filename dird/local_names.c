#include "local_names.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(struct local_names *l, size_t *cap, const char *name)
{
	if (l->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **p = realloc(l->names, c * sizeof(char *));
		if (!p)
			return -1;
		l->names = p;
		*cap = c;
	}
	if (!(l->names[l->n] = strdup(name)))
		return -1;
	l->n++;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load(struct local_names *l, const char *path, bool users)
{
	memset(l, 0, sizeof(*l));
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t cap = 0;
	char buf[16384];
	int rc = 0;
	for (;;) {
		struct passwd pw, *pwp = NULL;
		struct group gr, *grp = NULL;
		int e = users ? fgetpwent_r(f, &pw, buf, sizeof(buf), &pwp) :
				fgetgrent_r(f, &gr, buf, sizeof(buf), &grp);
		if (e != 0)
			break; /* ENOENT at the end; a line too long for buf ends the read too */
		if (add(l, &cap, users ? pw.pw_name : gr.gr_name) < 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	qsort(l->names, l->n, sizeof(char *), cmp);
	return rc;
}

int local_accounts_load(struct local_accounts *a)
{
	memset(a, 0, sizeof(*a));
	if (load(&a->users, "/etc/passwd", true) < 0 || load(&a->groups, "/etc/group", false) < 0) {
		local_accounts_free(a);
		return -1;
	}
	return 0;
}

bool local_names_has(const struct local_names *l, const char *name)
{
	return l->n && bsearch(&name, l->names, l->n, sizeof(char *), cmp) != NULL;
}

static void names_free(struct local_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

void local_accounts_free(struct local_accounts *a)
{
	names_free(&a->users);
	names_free(&a->groups);
}
