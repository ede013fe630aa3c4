/* The fuzzers' input as the code under test takes it: a C string, or a file. */
#ifndef TESTS_FUZZ_INPUT_H
#define TESTS_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The bytes and a NUL after them, in memory of their own (free it); NULL when out of memory. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* The path of a file holding just the bytes: one temporary file, rewritten for each input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[] = "/tmp/dir-fuzz-XXXXXX";
	static int fd = -1;
	if (fd < 0 && (fd = mkstemp(path)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

#endif
