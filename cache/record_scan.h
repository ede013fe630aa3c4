/* The tdb records' JSON (record_json.h) read without json-c, as far as it goes: strict JSON
 * with no whitespace but space, tab, CR and LF between tokens, strings without control
 * characters and with no \u escape beyond ASCII (nor \u0000), integers of at most 18 digits
 * (no fraction, no exponent, no leading zero), the keys without escapes, at most 8 levels
 * deep, nothing before or after the object, and a record the readers of record_json.c take.
 * Anything else (another tool's text, a bad record) is RECORD_SCAN_OTHER, left to json-c:
 * what is read is what json-c reads (tests/unit/test_record_scan.c compares them), only
 * without an allocation a value. */
#ifndef DIR_RECORD_SCAN_H
#define DIR_RECORD_SCAN_H

#include <stddef.h>

#include "record.h"
#include "record_json.h"

#define RECORD_SCAN_MAX RECORD_JSON_MAX

enum { RECORD_SCAN_OK = 0, RECORD_SCAN_OTHER = 1 };

/* RECORD_SCAN_OK with the record filled, or RECORD_SCAN_OTHER with it left empty. */
int record_scan_user(const char *text, size_t len, struct dir_user *u);
int record_scan_group(const char *text, size_t len, struct dir_group *g);

/* "sshpubkey"'s text (one key a line, modified) into u's keys: a line that is empty, too long
 * or holds a control character is dropped, and lines past DIR_MAX_SSH_KEYS.  -1 when out of
 * memory.  Both readers' (record_json.c). */
int record_ssh_keys_from_text(char *text, struct dir_user *u);

#endif
