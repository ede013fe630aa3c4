/* Internals shared by the NSS entry points of libnss_dir. */
#ifndef NSS_DIR_H
#define NSS_DIR_H

#include <nss.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "index.h"

/* The entry points glibc looks up; the version script keeps everything else local. */
#define NSS_EXPORT __attribute__((visibility("default")))

/* A mapping of the index, counted so a reader can keep using it while another thread
 * replaces it. */
struct nss_mapping {
	struct index_view view;
	unsigned refs;			/* lookups using it now */
	unsigned pins;			/* enumerations that keep it */
	struct nss_mapping *next;	/* among the replaced ones still held */
};

/* The current index, or NULL (no cache yet, or no usable configuration).  Never blocks on
 * anything but our own short mutex; never makes a system call while the index is current. */
struct nss_mapping *nss_index_acquire(void);
void nss_index_release(struct nss_mapping *m);
/* The same for an enumeration, which keeps its mapping to its end (setXXent to endXXent);
 * unlike a lookup's, that hold survives fork. */
struct nss_mapping *nss_index_pin(void);
void nss_index_unpin(struct nss_mapping *m);

/* Asks dird; bounded by nss_timeout.  NSS_STATUS_SUCCESS with the record in `reply`, else
 * NOTFOUND or UNAVAIL. */
enum nss_status nss_ask_dird(uint32_t op, const struct buf *body, struct buf *reply);

/* A hint to dird that needs no answer; never blocks. */
void nss_hint_dird(uint32_t op, const struct buf *body);

/* nss_negative.c: what dird said is not there, for negative_ttl, under index `generation`
 * (0: no index). */
bool nss_negative_has(enum index_kind kind, const char *name, uint32_t id, uint64_t generation);
void nss_negative_add(enum index_kind kind, const char *name, uint32_t id, uint64_t generation,
		      unsigned ttl_seconds);
/* negative_ttl from the configuration (0 before it is read). */
unsigned nss_negative_ttl(void);

/* glibc's conventions for a record that did not fit, was not there or could not be read. */
enum nss_status nss_result(int record_result, int *errnop);

typedef enum record_result (*nss_decode_fn)(const void *rec, size_t len, void *result,
					   char *buffer, size_t buflen);

/* A record found for a caller: in the index (map held) or in dird's reply. */
struct nss_found {
	struct nss_mapping *map;
	struct buf reply;
	const void *rec;
	uint32_t len;
};

/* Finds a record by name (or, with name NULL, by id): the index first; dird when the index
 * lacks it or it has expired; the expired one when dird cannot answer.  Hints dird to refresh
 * an entry in use that is due.  Always call nss_found_release. */
enum nss_status nss_find(enum index_kind kind, const char *name, uint32_t id,
			 struct nss_found *f);
void nss_found_release(struct nss_found *f);

/* One lookup decoded into the caller's struct and buffer; an invalid name or the id -1 is
 * NOTFOUND at once. */
enum nss_status nss_lookup(enum index_kind kind, const char *name, uint32_t id,
			   nss_decode_fn decode, void *result, char *buffer, size_t buflen,
			   int *errnop);

/* Enumeration state (set/get/end*ent): walks the index only, never the directory. */
struct nss_ent {
	pthread_mutex_t lock;
	enum index_kind kind;
	struct nss_mapping *map;
	uint64_t pos;
};

/* passwd's and group's (nss_passwd.c, nss_group.c); fork takes their locks. */
extern struct nss_ent nss_pwent, nss_grent;

void nss_ent_start(struct nss_ent *e);
void nss_ent_end(struct nss_ent *e);
enum nss_status nss_ent_next(struct nss_ent *e, nss_decode_fn decode, void *result,
			     char *buffer, size_t buflen, int *errnop);

/* The five entry points of one database, as nss-pam-ldapd's nss/common.h writes them: for
 * NSS_DATABASE(pw, pwnam, pwuid, struct passwd, uid_t, INDEX_USER, record_to_passwd),
 * _nss_dir_getpwnam_r, _nss_dir_getpwuid_r, _nss_dir_setpwent, _nss_dir_endpwent and
 * _nss_dir_getpwent_r, and the enumeration state nss_pwent. */
#define NSS_DATABASE(db, byname, byid, type, id_type, kind, to_struct)                            \
	static enum record_result decode(const void *rec, size_t len, void *result, char *buffer, \
					 size_t buflen)                                           \
	{                                                                                         \
		return to_struct(rec, len, result, buffer, buflen);                               \
	}                                                                                         \
	NSS_EXPORT enum nss_status _nss_dir_get##byname##_r(const char *name, type *result,       \
							    char *buffer, size_t buflen,          \
							    int *errnop)                          \
	{                                                                                         \
		return nss_lookup(kind, name, 0, decode, result, buffer, buflen, errnop);         \
	}                                                                                         \
	NSS_EXPORT enum nss_status _nss_dir_get##byid##_r(id_type id, type *result, char *buffer, \
							  size_t buflen, int *errnop)             \
	{                                                                                         \
		return nss_lookup(kind, NULL, id, decode, result, buffer, buflen, errnop);        \
	}                                                                                         \
	struct nss_ent nss_##db##ent = { PTHREAD_MUTEX_INITIALIZER, kind, NULL, 0 };              \
	NSS_EXPORT enum nss_status _nss_dir_set##db##ent(int stayopen)                            \
	{                                                                                         \
		(void)stayopen;                                                                   \
		nss_ent_start(&nss_##db##ent);                                                    \
		return NSS_STATUS_SUCCESS;                                                        \
	}                                                                                         \
	NSS_EXPORT enum nss_status _nss_dir_end##db##ent(void)                                    \
	{                                                                                         \
		nss_ent_end(&nss_##db##ent);                                                      \
		return NSS_STATUS_SUCCESS;                                                        \
	}                                                                                         \
	NSS_EXPORT enum nss_status _nss_dir_get##db##ent_r(type *result, char *buffer,            \
							    size_t buflen, int *errnop)           \
	{                                                                                         \
		return nss_ent_next(&nss_##db##ent, decode, result, buffer, buflen, errnop);      \
	}

#endif
