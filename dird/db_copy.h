/* A second db holding a copy of every record of another (db_copy.c): what a change stream's
 * complete batch is applied to away from the locks, while dird goes on serving the first. */
#ifndef DIRD_DB_COPY_H
#define DIRD_DB_COPY_H

#include "db.h"

/* to (initialised, empty) gets a copy of each of from's records.  0, or -1 out of memory (to
 * freed and empty again). */
int db_copy(struct db *to, const struct db *from);

#endif
