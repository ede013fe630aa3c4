/* SSH public keys from the directory (ssh_key_attr: openssh-lpk's sshPublicKey by default).  A
 * value holds one authorized_keys line, or several, one a line:
 *     [options] keytype base64-blob [comment]
 * A line is kept when its blob decodes to a key of its type (an SSH key blob is length-prefixed
 * fields, the first its type's name), so a truncated or mangled value never reaches sshd; others
 * are skipped and logged.  Certificates (their blobs hold fixed-size fields) are not keys here:
 * a CA goes in as a plain key with the cert-authority option.  Options (from="...", no-pty, ...) are the directory's to set and are kept. */
#ifndef DIRD_SSH_KEY_H
#define DIRD_SSH_KEY_H

#include <ldap.h>
#include <stddef.h>
#include <stdint.h>

/* NULL when line (len bytes, without a newline) is a well-formed key line, else why not. */
const char *ssh_key_check(const char *line, size_t len);

/* The key lines in v, the values of attribute attr as the entry's decoding gave them (NULL:
 * none; user's, for the log): blank lines are ignored, malformed ones skipped (the first few
 * logged, the rest counted), at most DIR_MAX_SSH_KEYS kept.  -1 when out of memory. */
int ssh_keys_read(const struct berval *v, const char *attr, const char *user, char ***keys,
		  uint32_t *n);

#endif
