#include "names.h"

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
