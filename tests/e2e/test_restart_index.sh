#!/bin/bash
# dird restarted on its cache keeps nss.idx when it holds exactly what dird would write again
# (index_matches: nothing changed while dird was stopped), and writes it again when anything
# did: a local account added (bob, also a directory user: never served from the directory once
# dird is up), entry_ttl changed, the file made writable by others.  The file is kept as it was, the same inode, still serving.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
cp /etc/passwd /etc/group "$WORK/"
chmod 644 "$WORK/passwd" "$WORK/group"
ACCOUNTS=(--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)
uid_of() { in_ns "$NSS" "${ACCOUNTS[@]}" getent passwd "$1" | cut -d: -f3; }
dir_has() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1"; }
inode() { stat -c %i "$WORK/cache/nss.idx"; }
kept() { grep -c "nss.idx holds what the cache holds: kept" "$WORK/dird.log"; }
restart() {
	dird_stop
	dird_private || exit 1
	within 30 in_sync || not_ok "$1: in sync again" "$(tail -5 "$WORK/dird.log")"
}

dird_private || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is bob 20002 && ok "bob is the directory's" || not_ok "bob is the directory's" "$(uid_of bob)"
sleep 1 # what the stream's first read changed is published
before=$(inode)

restart "nothing changed"
check_eq "nothing changed while dird was stopped: nss.idx kept" "$before" "$(inode)"
check_eq "and logged so" 1 "$(kept)"
check_eq "bob is served from it" 20002 "$(uid_of bob)"
check "and by the directory module alone" dir_has bob

printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
restart "a local bob added"
check_fails "a local bob added while dird was stopped: nss.idx written again" [ "$before" = "$(inode)" ]
check_eq "not logged as kept" 1 "$(kept)"
check_eq "bob is files'" 4501 "$(uid_of bob)"
check_fails "the directory's bob is not served" dir_has bob
before=$(inode)

restart "the same local bob"
check_eq "the same local accounts: kept" "$before" "$(inode)"
check_fails "the directory's bob is still not served" dir_has bob

sed -i 's/^\[global\]$/[global]\nentry_ttl = 120/' "$DIR_CONF"
restart "entry_ttl changed"
check_fails "entry_ttl changed while dird was stopped: nss.idx written again" [ "$before" = "$(inode)" ]
check_eq "kept twice in all" 2 "$(kept)"
before=$(inode)

chmod 666 "$WORK/cache/nss.idx"
restart "nss.idx made writable by others"
check_fails "nss.idx writable by others while dird was stopped: written again" [ "$before" = "$(inode)" ]
check_eq "dird's own again" 644 "$(stat -c %a "$WORK/cache/nss.idx")"
check_eq "still kept twice in all" 2 "$(kept)"
dird_stop
finish
