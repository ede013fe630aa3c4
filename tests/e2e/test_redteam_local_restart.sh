#!/bin/bash
# Red team: local accounts that go, or come, while dird is stopped.  The private passwd has a
# carol (the directory's carol is left out: files wins) and an lcl with uid 20002 (the
# directory's bob, of that uid, is refused); the private group has a devs (the directory's devs
# is left out) and an lg of gid 20035 (the directory's outsider, whose primary gid it is, is
# refused).  dird is stopped, they are removed, dird starts again: its streams resume from their
# positions and send nothing of entries that did not change, and libnss_dir answers a miss
# itself while in sync, so nobody would read carol, bob, devs or outsider again (a queue in
# memory died with the dird that saw them go).  They must be served.  Then the same when they go
# while dird runs but it stops before its worker has read them back.  And the reverse: local
# accounts added while dird is stopped are never served from the directory once it runs.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
# the worker's 3 s pause (below) under the limit (nss_timeout / 2) past which a domain is offline
sed -i 's/^nss_timeout = .*/nss_timeout = 10/' "$DIR_CONF"
private_accounts || exit 1
dir_user() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1"; }
dir_group() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir group "$1"; }
no_dir_user() { ! dir_user "$1" >/dev/null; }
no_dir_group() { ! dir_group "$1" >/dev/null; }
members_of() { in_ns "$NSS" "${ACCOUNTS[@]}" getent group "$1" | cut -d: -f4; }
gid_is() { [ "$(gid_of "$1")" = "$2" ]; }
make_local() {
	printf 'carol:x:4601:4601:Local Carol:/home/carol:/bin/sh\nlcl:x:20002:4602::/tmp:/bin/sh\n' >>"$WORK/passwd"
	printf 'devs:x:4603:\nlg:x:20035:\n' >>"$WORK/group"
}
shadowed() { # NAME: the local ones win, what they shadow is not served
	check_eq "$1: carol is the local one" 4601 "$(uid_of carol)"
	check "$1: bob, of a local uid, is not served" no_dir_user bob
	check_eq "$1: devs is the local one" 4603 "$(gid_of devs)"
	check "$1: outsider, of a local primary gid, is not served" no_dir_user outsider
}
served() { # NAME: the directory's carol, bob, devs and outsider are back
	within 20 uid_is carol 20003 && ok "$1: the directory's carol is served" ||
		not_ok "$1: the directory's carol is served" "[$(uid_of carol)] $(dir_user carol)"
	within 10 uid_is bob 20002 && ok "$1: the directory's bob (uid 20002) is served" ||
		not_ok "$1: the directory's bob (uid 20002) is served" "[$(uid_of bob)]"
	within 10 gid_is devs 20100 && ok "$1: the directory's devs is served" ||
		not_ok "$1: the directory's devs is served" "[$(gid_of devs)]"
	within 10 eval '[ "$(members_of devs)" = alice,carol ]' && ok "$1: devs lists carol" ||
		not_ok "$1: devs lists carol" "[$(members_of devs)]"
	within 10 uid_is outsider 20035 && ok "$1: outsider (primary gid 20035) is served" ||
		not_ok "$1: outsider (primary gid 20035) is served" "[$(uid_of outsider)]"
}
pauses() { grep -c "test hook: pausing" "$WORK/dird.log"; }

make_local
dird_private || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
shadowed "dird running"

refreshes() { grep -c "refresh done" "$WORK/dird.log"; }
dird_stop
local_restore
before=$(refreshes)
dird_private || exit 1
within 30 in_sync || not_ok "restarted: the stream is in sync" "$(tail -5 "$WORK/dird.log")"
served "removed while dird was stopped"
check_eq "no full refresh read them" "$before" "$(refreshes)"

# Local again (local_watch takes them out), then removed while the worker is held on its first
# read (DIRD_TEST_PAUSE_AT=lookup-asked), and dird stopped during that pause.
make_local
within 10 no_dir_user carol && within 10 eval '[ "$(gid_of devs)" = 4603 ]' ||
	not_ok "local again: carol and devs are files'" "$(dir_user carol) [$(gid_of devs)]"
shadowed "local again"
dird_stop
dird_private env DIRD_TEST_PAUSE_AT=lookup-asked DIRD_TEST_PAUSE_SECONDS=3 || exit 1
within 30 in_sync || not_ok "restarted with the pause: the stream is in sync" "$(tail -5 "$WORK/dird.log")"
sleep 4 # the start's own lookups paused and over
before=$(pauses)
local_restore
within 10 eval '[ "$(pauses)" -gt "$before" ]' && ok "removed while dird runs: the worker reads them" ||
	not_ok "removed while dird runs: the worker reads them" "$(tail -5 "$WORK/dird.log")"
dird_stop # during the pause: the rest of the queue dies with it
dird_private || exit 1
within 30 in_sync || not_ok "restarted: the stream is in sync again" "$(tail -5 "$WORK/dird.log")"
served "removed before dird stopped, not all read back"

# The reverse: added while dird is stopped, never served from the directory once it runs.
dird_stop
make_local
dird_private || exit 1
check "added while dird was stopped: carol is not dir's from the start" no_dir_user carol
check "nor is devs" no_dir_group devs
within 30 in_sync || not_ok "restarted: in sync" "$(tail -5 "$WORK/dird.log")"
sleep 2 # local_watch's first look, and a publication
check "added while stopped: carol is not dir's" no_dir_user carol
check "nor bob (uid 20002 is local)" no_dir_user bob
check "nor uid 20002" no_dir_user 20002
check "nor devs" no_dir_group devs
check "nor outsider (gid 20035 is local)" no_dir_user outsider
check "nor gid 20035" no_dir_group 20035
shadowed "added while dird was stopped"
finish
