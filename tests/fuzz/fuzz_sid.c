/* SIDs from the server (objectSid, tokenGroups) and from people (dirctl sid-to-id), and AD
 * names from callers: nothing may be read past the end, and what parses must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_names.h"
#include "fuzz_input.h"
#include "sid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sid s, back;
	char text[SID_MAX_STRING], value[3 * SID_MAX_BINARY + 1];
	uint8_t bin[SID_MAX_BINARY];
	uint8_t *copy = malloc(size); /* exactly size bytes: ASan sees any read past them */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (sid_from_binary(copy, size, &s) == 0) {
		sid_to_string(&s, text, sizeof(text));
		if (sid_from_string(text, &back) != 0 || !sid_equal(&s, &back) ||
		    sid_to_binary(&back, bin) != size || memcmp(bin, copy, size))
			abort();
		sid_filter_value(&s, value, sizeof(value));
	}
	free(copy);
	char *str = fuzz_string(data, size);
	if (!str)
		return 0;
	if (sid_from_string(str, &s) == 0) {
		uint32_t rid;
		struct sid domain;
		if (sid_split_rid(&s, &domain, &rid) && (!sid_append_rid(&domain, rid, &back) ||
							 !sid_equal(&back, &s)))
			abort();
	}
	/* Two names: the first line asked, the rest served. */
	char *nl = strchr(str, '\n');
	if (nl) {
		*nl = '\0';
		dir_name_answers(str, nl + 1);
	}
	free(str);
	return 0;
}
