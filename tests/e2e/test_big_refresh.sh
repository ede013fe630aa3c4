#!/bin/bash
# A full refresh does not stop dird from serving: while it writes the new cache, dirctl status,
# lookups that go to the directory and PAM logins are answered, from the cache it replaces;
# then the new cache is whole.  Real slapd and dird, through getent, dirctl and PAM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 2000 500 20 || exit 1
pam_stacks "$WORK/pam.d"
ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF || exit 1
dn: uid=newcomer,ou=people,$SLAPD_BASE
objectClass: account
objectClass: posixAccount
uid: newcomer
cn: newcomer
uidNumber: 45000
gidNumber: 20000
homeDirectory: /home/newcomer
LDIF

# The refresh dird starts with holds still for 5 s once it has written the new tdb files and
# index, before it renames them into place (the test's hook).
dird_stop
DIRD_TEST_PAUSE_AT=index-written DIRD_TEST_PAUSE_SECONDS=5 dird_start || exit 1
for _ in $(seq 300); do grep -q "pausing 5 s at index-written" "$WORK/dird.log" && break; sleep 0.05; done
check "the refresh is writing the cache (the test's hook)" \
	grep -q "pausing 5 s at index-written" "$WORK/dird.log"
start=$(now_ms)
out=$(timeout 4 "${CTL[@]}" status 2>&1)
check "meanwhile dirctl status answers ($(( $(now_ms) - start )) ms)" grep -q "refresh: *running" <<<"$out"
check_eq "...a name the cache does not hold yet is looked up in the directory" \
	"newcomer:*:45000:20000:newcomer:/home/newcomer:/bin/sh" \
	"$(in_ns "$WORK/nss" getent passwd newcomer)"
check_eq "...a PAM login goes through" "auth: Success
account: Success" "$(echo alicepw | in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d \
	"$BUILD/tests/pam_run" bare alice auth account 2>&1)"
check "...all of it while the refresh still writes" grep -q "refresh: *running" <<<"$("${CTL[@]}" status 2>&1)"
dird_wait_refresh
check "the refresh then ends" grep -q "refresh done: 20[0-9][0-9] users" "$WORK/dird.log"
check_eq "...and a new process resolves a user of the new cache" \
	"u00001:*:30000:20000:Generated 0:/home/u00001:/bin/sh" "$(in_ns "$WORK/nss" getent passwd u00001)"
dird_stop
check_eq "...and the newcomer, from the cache with dird stopped" "newcomer:*:45000:20000:newcomer:/home/newcomer:/bin/sh" \
	"$(in_ns "$WORK/nss" getent passwd newcomer)"

finish
