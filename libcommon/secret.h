/* Secrets (passwords) are wiped before their memory is given back. */
#ifndef DIR_SECRET_H
#define DIR_SECRET_H

#include <stddef.h>
#include <string.h>

/* Wipes a NUL-terminated secret and frees it; NULL is fine. */
void secret_free(char *s);

#endif
