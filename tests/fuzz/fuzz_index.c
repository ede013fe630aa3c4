/* The NSS index: any bytes as nss.idx, opened, searched and enumerated as libnss_dir would. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[] = "/tmp/dir-fuzz-index-XXXXXX";
	static int fd = -1;
	if (fd < 0 && (fd = mkstemp(path)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct index_map m;
	if (index_open(path, &m) < 0)
		return 0;
	uint32_t len;
	static const char *const names[] = { "alice", "root", "", "a" };
	for (int k = INDEX_USER; k <= INDEX_GROUP; k++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			index_find_name(&m, k, names[i], &len);
		index_find_id(&m, k, 0, &len);
		index_find_id(&m, k, 20001, &len);
		uint64_t pos = 0;
		for (int i = 0; i < 100000 && index_next(&m, k, &pos, &len); i++) {
		}
	}
	index_close(&m);
	return 0;
}
