/* Cache records as the NSS module and dirctl read them: binary records (the index and dird's
 * replies) and the JSON records of the tdb cache. */
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small and large caller buffers: ERANGE paths and full decodes. */
	static char small[64], large[1 << 16];
	struct passwd pw;
	struct group gr;
	record_to_passwd(data, size, &pw, small, sizeof(small));
	record_to_passwd(data, size, &pw, large, sizeof(large));
	record_to_group(data, size, &gr, small, sizeof(small));
	record_to_group(data, size, &gr, large, sizeof(large));
	uint32_t id, gid, n;
	uint64_t a, b;
	record_name(data, size);
	record_id(data, size, &id);
	record_times(data, size, true, &a, &b);
	record_times(data, size, false, &a, &b);
	const unsigned char *gids = record_user_groups(data, size, &gid, &n);
	if (gids && n) {
		volatile unsigned char last = gids[(size_t)n * sizeof(uint32_t) - 1];
		(void)last;
	}
	struct dir_user u;
	struct dir_group g;
	if (record_user_from_json((const char *)data, size, &u) == 0)
		dir_user_clear(&u);
	if (record_group_from_json((const char *)data, size, &g) == 0)
		dir_group_clear(&g);
	return 0;
}
