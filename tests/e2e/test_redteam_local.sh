#!/bin/bash
# Red team: a local account that comes and goes while every domain streams.  A local bob shadows
# the directory's bob (local_watch takes it out of the cache); once the local bob is removed
# again, the directory's bob must come back: a full refresh would read it, but with every domain
# streamed and in sync none runs, the stream sends nothing for an entry that did not change, and
# libnss_dir answers the miss itself (authoritative while in sync).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
cp /etc/passwd /etc/group "$WORK/"
chmod 644 "$WORK/passwd" "$WORK/group"
cp "$WORK/passwd" "$WORK/passwd.orig"
ACCOUNTS=(--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)
uid_of() { in_ns "$NSS" "${ACCOUNTS[@]}" getent passwd "$1" | cut -d: -f3; }
dir_has() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1"; }
no_dir() { ! dir_has "$1"; }

dird_private || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is bob 20002 && ok "bob is the directory's" || not_ok "bob is the directory's" "$(uid_of bob)"

printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
within 10 no_dir bob && ok "a local bob takes the directory's out of the cache" ||
	not_ok "a local bob takes the directory's out of the cache"
check_eq "bob is files'" 4501 "$(uid_of bob)"

cat "$WORK/passwd.orig" >"$WORK/passwd" # in place: the bind mount keeps the inode
within 20 uid_is bob 20002 && ok "the local bob removed, the directory's bob is served again within 20 s" ||
	not_ok "the local bob removed, the directory's bob is served again within 20 s" \
		"got [$(uid_of bob)]; dirctl lookup: $("${CTL[@]}" --json status >/dev/null; in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd bob)"
finish
