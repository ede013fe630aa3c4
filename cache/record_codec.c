#include "record.h"

#include "protocol.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* Frees each of the n strings of list, and list. */
static void free_strings(char **list, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

uint32_t *dir_user_inline_groups_at(const struct dir_user *u)
{
	/* db_pack_copy puts the list just past the struct, before the strings */
	return u->packed == (char *)(u + 1) ? (uint32_t *)(u + 1) : NULL;
}

bool dir_user_inline_groups(const struct dir_user *u)
{
	return u->groups && u->groups == dir_user_inline_groups_at(u);
}

void dir_user_clear(struct dir_user *u)
{
	if (!dir_user_inline_groups(u))
		free(u->groups);
	u->groups = NULL;
	if (u->packed) {
		if (u->packed != (char *)(u + 1)) /* else the struct's own allocation holds them */
			free(u->packed);
	} else {
		free(u->name);
		free(u->gecos);
		free(u->home);
		free(u->shell);
		free(u->email);
		free(u->sid);
		free(u->domain);
	}
	free_strings(u->ssh_keys, u->n_ssh_keys);
	memset(u, 0, sizeof(*u));
}

void dir_group_clear(struct dir_group *g)
{
	free(g->name);
	free(g->sid);
	free(g->domain);
	dir_members_free(g->members, g->n_members, g->members_packed);
	buf_free(&g->encoded);
	memset(g, 0, sizeof(*g));
}

void dir_members_free(char **members, uint32_t n, bool packed)
{
	if (members && !packed)
		for (uint32_t i = 0; i < n; i++)
			free(members[i]);
	free(members);
}

void dir_group_pack_members(struct dir_group *g)
{
	if (g->members_packed || !g->members)
		return;
	size_t len = ((size_t)g->n_members + 1) * sizeof(char *);
	for (uint32_t i = 0; i < g->n_members; i++)
		len += strlen(g->members[i]) + 1;
	char **block = malloc(len);
	if (!block)
		return;
	char *p = (char *)(block + g->n_members + 1);
	for (uint32_t i = 0; i < g->n_members; i++) {
		size_t n = strlen(g->members[i]) + 1;
		memcpy(p, g->members[i], n);
		free(g->members[i]);
		block[i] = p;
		p += n;
	}
	block[g->n_members] = NULL;
	free(g->members);
	g->members = block;
	g->members_packed = true;
}

void dir_user_destroy(struct dir_user *u)
{
	if (u) {
		dir_user_clear(u);
		free(u);
	}
}

void dir_group_destroy(struct dir_group *g)
{
	if (g) {
		dir_group_clear(g);
		free(g);
	}
}

static void put_times(struct buf *b, uint64_t fetched, uint32_t ttl)
{
	buf_put_u64(b, ttl ? fetched + ttl * 3ULL / 4 : UINT64_MAX);
	buf_put_u64(b, ttl ? fetched + ttl : UINT64_MAX);
}

void record_encode_user(struct buf *b, const struct dir_user *u, uint32_t ttl)
{
	buf_put_str(b, u->name);
	buf_put_u32(b, u->uid);
	buf_put_u32(b, u->gid);
	put_times(b, u->fetched, ttl);
	buf_put_str(b, u->gecos);
	buf_put_str(b, u->home);
	buf_put_str(b, u->shell);
	buf_put_u32(b, u->n_groups);
	buf_put_bytes(b, u->groups, (size_t)u->n_groups * sizeof(uint32_t));
}

void record_encode_ssh_keys(struct buf *b, const struct dir_user *u)
{
	buf_put_u32(b, u->n_ssh_keys);
	for (uint32_t i = 0; i < u->n_ssh_keys; i++)
		buf_put_str(b, u->ssh_keys[i]);
}

void record_encode_group(struct buf *b, const struct dir_group *g, uint32_t ttl)
{
	buf_put_str(b, g->name);
	buf_put_u32(b, g->gid);
	put_times(b, g->fetched, ttl);
	/* The members' lengths (a byte each: names are at most 255 bytes), then the names as one
	 * block, each with its NUL: a reader copies the block once and finds every name without
	 * scanning it. */
	buf_put_u32(b, g->n_members);
	size_t block = 0;
	for (uint32_t i = 0; i < g->n_members; i++)
		block += strnlen(g->members[i], DIR_MAX_NAME) + 1;
	buf_put_u32(b, (uint32_t)block);
	/* Room for all of it at once: a group of 30,000 is one allocation, not 60,000 appends. */
	uint8_t *lens = buf_extend(b, g->n_members + block);
	if (!lens)
		return;
	char *names = (char *)lens + g->n_members;
	for (uint32_t i = 0; i < g->n_members; i++) {
		size_t l = strnlen(g->members[i], DIR_MAX_NAME);
		lens[i] = (uint8_t)l;
		memcpy(names, g->members[i], l);
		names[l] = '\0';
		names += l + 1;
	}
}

/* Hands out space from the caller's NSS buffer. */
struct arena {
	char *p;
	size_t left;
};

static char *arena_copy(struct arena *a, const char *s, uint32_t len)
{
	if ((size_t)len + 1 > a->left)
		return NULL;
	char *d = a->p;
	memcpy(d, s, (size_t)len + 1);
	a->p += len + 1;
	a->left -= (size_t)len + 1;
	return d;
}

enum record_result record_to_passwd(const void *rec, size_t len, struct passwd *pw, char *buf,
				    size_t buflen)
{
	struct cursor c;
	uint32_t nl, gl, hl, sl;
	cursor_init(&c, rec, len);
	const char *name = cursor_str(&c, &nl);
	uint32_t uid = cursor_u32(&c), gid = cursor_u32(&c);
	cursor_u64(&c);
	cursor_u64(&c);
	const char *gecos = cursor_str(&c, &gl);
	const char *home = cursor_str(&c, &hl);
	const char *shell = cursor_str(&c, &sl);
	uint32_t n_groups = cursor_u32(&c);
	if (c.failed || n_groups > c.left / sizeof(uint32_t) ||
	    c.left != (size_t)n_groups * sizeof(uint32_t))
		return RECORD_BAD;

	struct arena a = { buf, buflen };
	pw->pw_name = arena_copy(&a, name, nl);
	pw->pw_passwd = arena_copy(&a, "*", 1);
	pw->pw_gecos = arena_copy(&a, gecos, gl);
	pw->pw_dir = arena_copy(&a, home, hl);
	pw->pw_shell = arena_copy(&a, shell, sl);
	if (!pw->pw_name || !pw->pw_passwd || !pw->pw_gecos || !pw->pw_dir || !pw->pw_shell)
		return RECORD_ERANGE;
	pw->pw_uid = uid;
	pw->pw_gid = gid;
	return RECORD_OK;
}

enum record_result record_to_group(const void *rec, size_t len, struct group *gr, char *buf,
				   size_t buflen)
{
	struct cursor c;
	uint32_t nl;
	cursor_init(&c, rec, len);
	const char *name = cursor_str(&c, &nl);
	uint32_t gid = cursor_u32(&c);
	cursor_u64(&c);
	cursor_u64(&c);
	uint32_t n = cursor_u32(&c);
	uint32_t block_len = cursor_u32(&c);
	const uint8_t *lens = cursor_bytes(&c, n);
	const char *block = cursor_bytes(&c, block_len);
	if (!cursor_done(&c))
		return RECORD_BAD;

	struct arena a = { buf, buflen };
	gr->gr_name = arena_copy(&a, name, nl);
	gr->gr_passwd = arena_copy(&a, "*", 1);
	if (!gr->gr_name || !gr->gr_passwd)
		return RECORD_ERANGE;
	size_t pad = (alignof(char *) - ((uintptr_t)a.p % alignof(char *))) % alignof(char *);
	size_t need = pad + ((size_t)n + 1) * sizeof(char *) + block_len;
	if (need > a.left)
		return RECORD_ERANGE;
	char **mem = (char **)(void *)(a.p + pad);
	char *names = a.p + pad + ((size_t)n + 1) * sizeof(char *);
	memcpy(names, block, block_len);
	/* Exactly the n names the lengths say, each non-empty and ending with its NUL. */
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t l = lens[i];
		if (!l || off + l >= block_len || names[off + l] != '\0')
			return RECORD_BAD;
		mem[i] = names + off;
		off += l + 1;
	}
	if (off != block_len)
		return RECORD_BAD;
	a.p += need;
	a.left -= need;
	mem[n] = NULL;
	gr->gr_mem = mem;
	gr->gr_gid = gid;
	return RECORD_OK;
}

const char *record_name(const void *rec, size_t len)
{
	struct cursor c;
	cursor_init(&c, rec, len);
	return cursor_str(&c, NULL);
}

int record_id(const void *rec, size_t len, uint32_t *id)
{
	struct cursor c;
	cursor_init(&c, rec, len);
	cursor_str(&c, NULL);
	*id = cursor_u32(&c);
	return c.failed ? -1 : 0;
}

int record_times(const void *rec, size_t len, bool user, uint64_t *refresh_at,
		 uint64_t *expires)
{
	struct cursor c;
	cursor_init(&c, rec, len);
	cursor_str(&c, NULL);
	cursor_u32(&c); /* uid or gid */
	if (user)
		cursor_u32(&c); /* the primary gid */
	*refresh_at = cursor_u64(&c);
	*expires = cursor_u64(&c);
	return c.failed ? -1 : 0;
}

const void *record_user_groups(const void *rec, size_t len, uint32_t *gid, uint32_t *n)
{
	struct cursor c;
	cursor_init(&c, rec, len);
	cursor_str(&c, NULL);
	cursor_u32(&c);
	*gid = cursor_u32(&c);
	cursor_u64(&c);
	cursor_u64(&c);
	cursor_str(&c, NULL);
	cursor_str(&c, NULL);
	cursor_str(&c, NULL);
	*n = cursor_u32(&c);
	if (c.failed || *n > c.left / sizeof(uint32_t))
		return NULL;
	return cursor_bytes(&c, (size_t)*n * sizeof(uint32_t));
}
