#!/bin/bash
# Red team: a local account removed and added again while the worker reads the directory's
# entry of that name (userdel; useradd).  A local bob (uid 4501) shadows the directory's bob
# (20002).  The local bob is removed: the worker asks the directory for bob, and pauses 3 s
# there (DIRD_TEST_PAUSE_AT=lookup-asked); meanwhile bob is local again and local_watch filters
# the cache.  The directory's bob, read before, must not go in once the pause is over: a name
# in /etc/passwd is never served from the directory (it was: getent -s dir passwd bob, uid
# 20002).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
# the worker's 3 s pause under the limit (nss_timeout / 2) past which its domain counts as offline
sed -i 's/^nss_timeout = .*/nss_timeout = 10/' "$DIR_CONF"
private_accounts || exit 1
printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
cp "$WORK/passwd" "$WORK/passwd.bob"
dir_has() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1" >/dev/null; }
pauses() { grep -c "test hook: pausing" "$WORK/dird.log"; }

dird_private env DIRD_TEST_PAUSE_AT=lookup-asked DIRD_TEST_PAUSE_SECONDS=3 || exit 1
within 60 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
sleep 4 # the start's own lookups paused and over
check "bob is local: the directory's is not served" eval '! dir_has bob'
before=$(pauses)
cat "$WORK/passwd.orig" >"$WORK/passwd" # in place: the bind mount keeps the inode
within 10 eval '[ "$(pauses)" -gt "$before" ]' && ok "the local bob removed: the worker asks the directory for bob" ||
	not_ok "the local bob removed: the worker asks the directory for bob" "$(tail -5 "$WORK/dird.log")"
cat "$WORK/passwd.bob" >"$WORK/passwd"
sleep 8 # local_watch sees it (1 s), the pause ends, the read is settled (or tried again)
check "bob local again: the directory's bob is not served by name" eval '! dir_has bob'
check "nor by its uid" eval '! dir_has 20002'
finish
