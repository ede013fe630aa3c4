/* The ticket cache and keytab names we build (dir_build_name): from any directory, domain name
 * and uid, a name is either whole, exactly what was asked for, or refused with an empty result;
 * never shortened into another file's name. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static void check(const char *want, int rc, const char *got, size_t outlen)
{
	size_t n = strlen(want);
	if (rc == 0 ? strcmp(got, want) != 0 : (got[0] != '\0' || n < outlen))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	unsigned long uid = (unsigned long)data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3];
	char *text = malloc(size - 4 + 1);
	if (!text)
		return 0;
	memcpy(text, data + 4, size - 4);
	text[size - 4] = '\0'; /* an inner NUL ends it, as in a C string from a config file */
	char *want = NULL;
	static const size_t sizes[] = { 1, 16, 64, PATH_MAX };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *out = malloc(sizes[i]);
		if (!out)
			break;
		if (asprintf(&want, "%s/krb5cc_%lu_XXXXXX", text, uid) >= 0) {
			check(want, dir_build_name(out, sizes[i], "%s/krb5cc_%lu_XXXXXX", text, uid), out,
			      sizes[i]);
			free(want);
		}
		if (asprintf(&want, "MEMORY:dird-%s", text) >= 0) {
			check(want, dir_build_name(out, sizes[i], "MEMORY:dird-%s", text), out, sizes[i]);
			free(want);
		}
		if (asprintf(&want, "FILE:%s", text) >= 0) {
			check(want, dir_build_name(out, sizes[i], "FILE:%s", text), out, sizes[i]);
			free(want);
		}
		free(out);
	}
	free(text);
	return 0;
}
