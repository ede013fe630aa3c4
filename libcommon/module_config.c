#include "module_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *dir_config_path(void)
{
	const char *p = secure_getenv("DIR_CONF");
	return p && *p ? p : DIR_DEFAULT_CONF;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A '#' after a blank starts a comment to the end of the line, as etc/dird.conf writes them
 * ("default_shell = /bin/sh   # when loginShell is missing"): the value stops before it. */
static void cut_comment(char *s)
{
	for (char *p = s; (p = strchr(p, '#')); p++)
		if (p > s && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

enum dir_conf_line dir_conf_split(char *line, char **name, char **value)
{
	char *s = trim(line);
	if (!*s || *s == '#' || *s == ';')
		return DIR_CONF_BLANK;
	cut_comment(s);
	s = trim(s);
	if (*s == '[') {
		char *end = strchr(s, ']');
		*name = s;
		if (!end || end[1])
			return DIR_CONF_BAD_SECTION;
		*end = '\0';
		*name = trim(s + 1);
		return DIR_CONF_SECTION;
	}
	char *eq = strchr(s, '=');
	*name = s;
	if (!eq)
		return DIR_CONF_NO_EQUALS;
	*eq = '\0';
	*name = trim(s);
	*value = trim(eq + 1);
	return **name ? DIR_CONF_KEY : DIR_CONF_NO_KEY;
}

bool dir_conf_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end || errno || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

bool dir_conf_seconds_ms(const char *v, unsigned lo_ms, unsigned hi_ms, unsigned *out)
{
	unsigned long whole = 0, frac = 0, scale = 1000;
	const char *p = v;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p) && whole <= hi_ms)
		whole = whole * 10 + (unsigned long)(*p++ - '0');
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p) && scale > 1) {
			scale /= 10;
			frac += (unsigned long)(*p++ - '0') * scale;
		}
	}
	if (*p || whole > hi_ms / 1000 + 1)
		return false;
	unsigned long ms = whole * 1000 + frac;
	if (ms < lo_ms || ms > hi_ms)
		return false;
	*out = (unsigned)ms;
	return true;
}

/* An absolute path without control characters that fits; anything else keeps the default. */
static void take_path(char *dst, const char *v)
{
	size_t n = strlen(v);
	if (v[0] != '/' || n >= PATH_MAX)
		return;
	for (const char *p = v; *p; p++)
		if (iscntrl((unsigned char)*p))
			return;
	memcpy(dst, v, n + 1);
}

static void take_global(struct dir_module_config *c, const char *k, const char *v)
{
	unsigned long n;
	if (!strcmp(k, "cache_dir"))
		take_path(c->cache_dir, v);
	else if (!strcmp(k, "run_dir"))
		take_path(c->run_dir, v);
	else if (!strcmp(k, "state_dir"))
		take_path(c->state_dir, v);
	else if (!strcmp(k, "krb5_ccache_dir"))
		take_path(c->krb5_ccache_dir, v);
	else if (!strcmp(k, "nss_timeout"))
		dir_conf_seconds_ms(v, DIR_NSS_TIMEOUT_MIN_MS, DIR_NSS_TIMEOUT_MAX_MS, &c->nss_timeout_ms);
	else if (!strcmp(k, "negative_ttl") && dir_conf_uint(v, 0, DIR_NEGATIVE_TTL_MAX, &n))
		c->negative_ttl = (unsigned)n;
}

static void defaults(struct dir_module_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->cache_dir, DIR_DEFAULT_CACHE_DIR);
	strcpy(c->run_dir, DIR_DEFAULT_RUN_DIR);
	strcpy(c->state_dir, DIR_DEFAULT_STATE_DIR);
	strcpy(c->krb5_ccache_dir, DIR_DEFAULT_KRB5_CCACHE_DIR);
	c->nss_timeout_ms = DIR_DEFAULT_NSS_TIMEOUT_MS;
	c->negative_ttl = DIR_DEFAULT_NEGATIVE_TTL;
}

FILE *dir_conf_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	FILE *f = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			errno = EINVAL;
		else if (st.st_size > DIR_CONF_MAX_SIZE)
			errno = EFBIG;
		else
			f = fdopen(fd, "r");
	}
	if (!f && fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return f;
}

int dir_module_config_read(const char *path, struct dir_module_config *c)
{
	defaults(c);
	FILE *f = dir_conf_open(path);
	if (!f)
		return -1;
	enum { OTHER, GLOBAL, DOMAIN, REALM } section = OTHER;
	unsigned timeout = 0; /* of the current domain section */
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *name, *value;
		/* What config.c refuses is skipped: an over-long line, one with a NUL byte. */
		if (len > DIR_CONF_MAX_LINE + 1 || memchr(line, '\0', (size_t)len))
			continue;
		switch (dir_conf_split(line, &name, &value)) {
		case DIR_CONF_SECTION:
			c->domain_timeouts += section == DOMAIN ? timeout : 0;
			section = !strcmp(name, "global") ? GLOBAL :
				  !strncmp(name, "domain/", 7) ? DOMAIN :
				  !strncmp(name, "realm/", 6) ? REALM : OTHER;
			timeout = DIR_DEFAULT_TIMEOUT;
			break;
		case DIR_CONF_KEY: {
			unsigned long n;
			if (section == GLOBAL)
				take_global(c, name, value);
			else if (section == DOMAIN && !strcmp(name, "timeout") &&
				 dir_conf_uint(value, DIR_TIMEOUT_MIN, DIR_TIMEOUT_MAX, &n))
				timeout = (unsigned)n;
			else if (section == REALM && !strcmp(name, "local_users") &&
				 (!strcasecmp(value, "yes") || !strcasecmp(value, "true") ||
				  !strcmp(value, "1")))
				c->krb5_local_realms++;
			break;
		}
		default:
			break;
		}
	}
	free(line);
	c->domain_timeouts += section == DOMAIN ? timeout : 0;
	fclose(f);
	return 0;
}
