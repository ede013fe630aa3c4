#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "protocol.h"

bool dir_valid_name(const char *name)
{
	if (!name || !*name || *name == '-' || *name == '+')
		return false;
	size_t n = strnlen(name, DIR_MAX_NAME + 1);
	if (n > DIR_MAX_NAME)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ':' || *p == ',')
			return false;
	return true;
}

/* The account part of a name: after "DOMAIN\\", before "@realm", or all of it. */
static const char *account_part(const char *name, size_t *len)
{
	const char *bs = strchr(name, '\\'), *at = strrchr(name, '@');
	if (bs) {
		*len = strlen(bs + 1);
		return bs + 1;
	}
	*len = at ? (size_t)(at - name) : strlen(name);
	return name;
}

bool dir_name_answers(const char *asked, const char *served)
{
	if (!strcmp(asked, served))
		return true;
	const char *asked_bs = strchr(asked, '\\'), *served_bs = strchr(served, '\\');
	if (served_bs && !asked_bs && !strchr(asked, '@'))
		return false; /* a bare name is never answered with a qualified one */
	if (asked_bs && served_bs &&
	    (asked_bs - asked != served_bs - served || strncasecmp(asked, served, (size_t)(asked_bs - asked))))
		return false; /* another domain */
	size_t la, ls;
	const char *a = account_part(asked, &la), *s = account_part(served, &ls);
	return la == ls && !strncasecmp(a, s, la);
}

int dir_build_name(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = outlen ? vsnprintf(out, outlen, fmt, ap) : -1;
	va_end(ap);
	if (n >= 0 && (size_t)n < outlen)
		return 0;
	if (outlen)
		out[0] = '\0';
	return -1;
}
