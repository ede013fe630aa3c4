/* passwd: getpwnam_r, getpwuid_r and enumeration. */
#include <pwd.h>

#include "nss_dir.h"

NSS_DATABASE(pw, pwnam, pwuid, struct passwd, uid_t, INDEX_USER, record_to_passwd)
