/* Names from callers, DNs from servers and the buffer cursor: account-name checks, RFC 4515
 * escaping, DN normalization, and every cursor read over any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz_input.h"
#include "ldap_filter.h"
#include "names.h"
#include "nesting.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	if (!s)
		return 0;
	dir_valid_name(s);
	char out[3 * 256 + 1];
	ldap_filter_escape(s, out, sizeof(out));
	char *dn = dn_normalize(s);
	free(dn);
	struct cursor c;
	cursor_init(&c, data, size);
	while (!c.failed && c.left) {
		switch (c.left % 4) {
		case 0: cursor_u32(&c); break;
		case 1: cursor_u64(&c); break;
		case 2: cursor_str(&c, NULL); break;
		default: cursor_bytes(&c, c.left / 2 + 1); break;
		}
	}
	free(s);
	return 0;
}
