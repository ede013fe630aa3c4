#!/bin/bash
# A change stream's complete batch (here its first read, the whole directory) is written as a
# full refresh writes: the new tdb files and index with no lock held, so that dirctl status,
# lookups that go to the directory and PAM logins are answered meanwhile, from the cache being
# replaced; a change made meanwhile is not lost; then the new cache is whole.  Real slapd with
# syncprov and dird, through getent, dirctl and PAM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

SLAPD_SYNCPROV=1 slapd_generated 2000 500 20 || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
write_nsswitch "$WORK/nss" "files dir"
pam_stacks "$WORK/pam.d"
status() { # FIELD of the first domain in dirctl status --json
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0][sys.argv[1]])' "$1" 2>/dev/null
}
in_group() { in_ns "$WORK/nss" id -Gn "$1" | tr ' ' '\n' | grep -qx "$2"; }

# Every domain streams: no full refresh runs, the streams' first refresh phases are the read.
# Each complete batch holds still for 5 s once it has written the new files, before it renames
# them into place (the test's hook).
DIRD_TEST_PAUSE_AT=index-written DIRD_TEST_PAUSE_SECONDS=5 dird_start || exit 1
check "the stream's first batch is writing the cache (the test's hook)" \
	within 20 grep -q "pausing 5 s at index-written" "$WORK/dird.log"
t0=$(now_ms)
text=$(timeout 4 "${CTL[@]}" status 2>&1)
took=$(($(now_ms) - t0))
check "meanwhile dirctl status answers, in $took ms" grep -q "refresh: *running" <<<"$text"
check_eq "...a user is looked up in the directory" \
	"u00001:*:30000:20000:Generated 0:/home/u00001:/bin/sh" "$(in_ns "$WORK/nss" getent passwd u00001)"
check_eq "...a PAM login goes through" "auth: Success
account: Success" "$(echo alicepw | in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d \
	"$BUILD/tests/pam_run" bare alice auth account 2>&1)"
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: cn=devs,ou=groups,$SLAPD_BASE
changetype: modify
add: memberUid
memberUid: u00002
LDIF
check "...all of it while the batch is still being written" grep -q "refresh: *running" <<<"$("${CTL[@]}" status 2>&1)"

in_sync() { [ "$(status in_sync)" = True ]; }
check "the stream is then in sync" within 60 in_sync
check_eq "every user is served" 2000 "$(in_ns "$WORK/nss" getent passwd | grep -c '^u[0-9]')"
check "the membership added while the batch was written reaches id" within 10 in_group u00002 devs
check_eq "the directory was read once (full_syncs), with no full refresh beside" "2/0" \
	"$(status full_syncs)/$(grep -c "refresh done" "$WORK/dird.log")"
finish
