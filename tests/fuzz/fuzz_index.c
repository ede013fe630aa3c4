/* The NSS index: any bytes as nss.idx, opened, searched and enumerated as libnss_dir would. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct index_view v;
	if (index_view_open(path, &v) < 0)
		return 0;
	/* The same bytes as its delta too: the checks of both files run. */
	if (index_open(path, &v.delta) < 0)
		return 0;
	uint32_t len;
	const void *rec;
	static const char *const names[] = { "alice", "root", "", "a" };
	for (int k = INDEX_USER; k <= INDEX_GROUP; k++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			index_view_find(&v, k, names[i], 0, &rec, &len);
		index_view_find(&v, k, NULL, 0, &rec, &len);
		index_view_find(&v, k, NULL, 20001, &rec, &len);
		index_view_authoritative(&v, "alice", 1);
		uint64_t pos = 0;
		for (int i = 0; i < 100000 && index_view_next(&v, k, &pos, &len); i++) {
		}
	}
	index_view_close(&v);
	return 0;
}
