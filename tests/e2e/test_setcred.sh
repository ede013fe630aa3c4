#!/bin/bash
# pam_dir's setcred through the shipped stacks: a program that authenticates and calls setcred
# without opening a session (su-like, or a web middleware) gets the directory user's ticket cache,
# and PAM_DELETE_CRED removes it; a local user's login gets none.  (libpam runs setcred along the
# path authenticate took, so pam_unix's jumps skip pam_dir only where pam_unix logged the user
# in.)  A real MIT KDC, slapd, dird with auth = krb5, the real libpam running etc/pam.d's truenas.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd kdc

kdc_host_start "$WORK/kdc" "$WORK/host.keytab" alice alicepw || exit 1
mkdir -m 1777 "$WORK/tickets"
serve_directory 5 2 1 "krb5_config = $WORK/kdc/krb5.conf
krb5_ccache_dir = $WORK/tickets" || exit 1
cat >>"$DIR_CONF" <<CONF
auth = krb5
krb5_realm = EXAMPLE.TEST
krb5_keytab = $WORK/host.keytab
CONF
dird_stop
dird_start || exit 1

pam_stacks "$WORK/pam.d"
local_user_files
# login PASSWORD USER: auth, setcred and delete through the shipped truenas service, no session
login() {
	echo "$1" | in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d --bind "$WORK/passwd" /etc/passwd \
		--bind "$WORK/shadow" /etc/shadow "$BUILD/tests/pam_run" truenas "$2" auth setcred \
		env=KRB5CCNAME delcred env=KRB5CCNAME 2>&1
}
out=$(login alicepw alice)
CC=$(sed -n 's/^KRB5CCNAME=FILE://p' <<<"$out" | head -1)
check "truenas, auth then setcred: the directory user gets a ticket cache" grep -q "^KRB5CCNAME=FILE:$WORK/tickets/krb5cc_20001_" <<<"$out"
check_eq "...and PAM_DELETE_CRED removes it and unsets KRB5CCNAME" "delcred: Success
KRB5CCNAME unset" "$(tail -2 <<<"$out")"
check_fails "...the file is gone" test -e "$CC"
check_eq "a local user through the same stack: setcred works, no ticket cache" "auth: Success
setcred: Success
KRB5CCNAME unset
delcred: Success
KRB5CCNAME unset" "$(login localpw localuser)"
check_eq "nothing is left in krb5_ccache_dir" "" "$(ls "$WORK/tickets")"
finish
