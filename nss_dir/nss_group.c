/* group: getgrnam_r, getgrgid_r and enumeration. */
#include <grp.h>

#include "nss_dir.h"

NSS_DATABASE(gr, grnam, grgid, struct group, gid_t, INDEX_GROUP, record_to_group)
