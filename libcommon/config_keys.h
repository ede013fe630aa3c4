/* Every key of dird.conf, in one table: its section, the field it sets, how its value is read
 * (type and bounds), its default and the sentence that says what it does.  The strict parser
 * (config.c) sets, defaults and frees every field through it; tests/tools/config_keys prints it
 * for the documentation checks (tests/e2e/test_docs.sh).  A key is found by section and name,
 * so telling a misspelt key from a repeated one is a look in this table. */
#ifndef DIR_CONFIG_KEYS_H
#define DIR_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum conf_section {
	CONF_GLOBAL,	/* [global]: struct dir_config */
	CONF_KERBEROS,	/* [kerberos]: struct dir_config */
	CONF_DOMAIN,	/* [domain/NAME]: struct dir_domain */
	CONF_REALM,	/* [realm/NAME]: struct dir_realm */
};

/* How a field is kept: what dir_config_free frees. */
enum conf_storage {
	CONF_SCALAR,	/* a number, yes/no or a choice, in place */
	CONF_STRING,	/* char * */
	CONF_LIST,	/* char ** and a size_t count at count_offset */
	CONF_STRINGS,	/* struct dir_strings */
};

struct conf_key {
	enum conf_section section;
	const char *name;
	/* Reads value into the field of `base` (the section's struct); -1 with why set, as
	 * "name: 'value' is not ...". */
	int (*set)(const struct conf_key *k, void *base, const char *value, char *why,
		   size_t whylen);
	enum conf_storage storage;
	size_t offset;		/* of the field in the section's struct */
	size_t size;		/* of the field (CONF_SCALAR: compared byte for byte) */
	size_t count_offset;	/* CONF_LIST: of its count */
	unsigned long lo, hi;	/* a number's bounds (seconds: in milliseconds) */
	const char *const *choices;	/* a choice: its names, in the order of its enum */
	bool many;		/* may be given many times, each adding a value */
	/* The default, read as the file's value would be: a number, yes/no or choice holds it
	 * until the file says otherwise; a string or list the section leaves unset gets it once
	 * the section is read (ad_def first for type = ad).  NULL: none, or made from other keys
	 * (config.c's finish_domain, and the sentence says so). */
	const char *def;
	const char *ad_def;
	const char *doc;	/* what it does, one sentence */
};

extern const struct conf_key dir_conf_keys[];
extern const size_t dir_conf_n_keys;

/* The key `name` of section s, or NULL. */
const struct conf_key *dir_conf_key(enum conf_section s, const char *name);
/* "global", "kerberos", "domain/NAME", "realm/NAME". */
const char *dir_conf_section_name(enum conf_section s);

/* Whether key k holds the same value in a and b (two structs of k's section). */
bool dir_conf_same_value(const struct conf_key *k, const void *a, const void *b);

/* Shared with config.c. */
struct dir_strings;
void dir_conf_free_strings(struct dir_strings *s);
bool dir_conf_has_lower(const char *s);
/* s in upper case, for a message (cut to fit out). */
void dir_conf_upper(const char *s, char *out, size_t outlen);
/* Whether s is 1 to max letters, digits, '.', '_' and '-' (the names of domains, realms and
 * installed keytabs). */
bool dir_conf_plain_name(const char *s, size_t max);

#endif
