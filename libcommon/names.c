#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
