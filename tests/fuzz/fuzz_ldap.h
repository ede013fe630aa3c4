/* The fuzzers' stand-in LDAP server: the messages it "sends" are written to a socket libldap
 * reads as from a server's. */
#ifndef TESTS_FUZZ_LDAP_H
#define TESTS_FUZZ_LDAP_H

#include <lber.h>
#include <ldap.h>
#include <openldap.h>
#include <sys/socket.h>
#include <unistd.h>

/* Calls read(ld) with ld connected to a server that has sent bv and hung up (what follows its
 * last message is the end, not a wait); frees bv (NULL: nothing is read).  bv must be small
 * enough for the socket's buffer. */
static inline void fuzz_ldap_serve(struct berval *bv, void (*read)(LDAP *ld))
{
	int fds[2];
	if (!bv || bv->bv_len >= 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		ber_bvfree(bv);
		return;
	}
	LDAP *ld = NULL;
	if (write(fds[1], bv->bv_val, bv->bv_len) == (ssize_t)bv->bv_len &&
	    shutdown(fds[1], SHUT_WR) == 0 &&
	    ldap_init_fd(fds[0], LDAP_PROTO_TCP, NULL, &ld) == LDAP_SUCCESS) {
		int version = LDAP_VERSION3;
		ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
		read(ld);
		ldap_unbind_ext_s(ld, NULL, NULL); /* closes fds[0] */
	} else {
		close(fds[0]);
	}
	close(fds[1]);
	ber_bvfree(bv);
}

#endif
