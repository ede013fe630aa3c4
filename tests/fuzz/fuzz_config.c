/* dird.conf: any bytes as a configuration file, read strictly (dird, dirctl) and tolerantly
 * (the modules). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct dir_config cfg;
	char err[1024];
	if (dir_config_load(path, &cfg, err, sizeof(err)) == 0)
		dir_config_free(&cfg);
	/* Never fails on a file it can read; what it keeps is always usable. */
	static struct dir_module_config m;
	if (dir_module_config_read(path, &m) < 0 || m.cache_dir[0] != '/' || m.run_dir[0] != '/' ||
	    m.nss_timeout_ms < DIR_NSS_TIMEOUT_MIN_MS || m.nss_timeout_ms > DIR_NSS_TIMEOUT_MAX_MS)
		abort();
	return 0;
}
