/* Prints dird.conf's keys as the parser knows them (libcommon/config_keys.h), one a line:
 * section, key, default ("-" when none or made from other keys) and what it does, separated by
 * tabs.  tests/e2e/test_docs.sh checks the documentation against it. */
#include <stdio.h>

#include "config_keys.h"

int main(void)
{
	for (size_t i = 0; i < dir_conf_n_keys; i++) {
		const struct conf_key *k = &dir_conf_keys[i];
		printf("%s\t%s\t%s\t%s\n", dir_conf_section_name(k->section), k->name,
		       k->def ? k->def : "-", k->doc);
	}
	return 0;
}
