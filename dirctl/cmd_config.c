/* dirctl config check [FILE] (as testparm and sssctl config-check): the file read as dird reads
 * it, every key and value, then what dird checks before it starts (a domain to serve, the
 * password and key files), with no dird and no directory. */
#include <stdio.h>
#include <string.h>

#include "dirctl.h"

int cmd_config(const char *path, int argc, char **argv)
{
	if (argc < 1 || argc > 2 || strcmp(argv[0], "check")) {
		fprintf(stderr, "Usage: dirctl [-c FILE] config check [FILE]\n");
		return EXIT_USAGE;
	}
	if (argc == 2)
		path = argv[1];
	struct dir_config cfg;
	char err[1024];
	if (dir_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s\n", err);
		return EXIT_FAIL;
	}
	int rc = dir_config_check_usable(&cfg, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "dirctl: %s\n", err);
	else
		printf("%s: ok (%zu domain%s, %zu realm%s)\n", path, cfg.n_domains,
		       cfg.n_domains == 1 ? "" : "s", cfg.n_realms, cfg.n_realms == 1 ? "" : "s");
	dir_config_free(&cfg);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
