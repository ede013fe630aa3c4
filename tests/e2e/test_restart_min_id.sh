#!/bin/bash
# min_id raised in dird.conf while dird was stopped: its streams resume from their positions
# (no full refresh), and what they send again is only what changed, so the cached users the
# new min_id refuses must go at the start (as gone_domains does for a domain taken out), never
# served again: whether nss.idx is kept or written, and once in sync.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 5 || exit 1 # fewer than a refresh's SHRINK_MIN: not a shrink kept out
private_accounts
dir_has() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1" >/dev/null; }

dird_private || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is bob 20002 && ok "bob (uid 20002) is served" || not_ok "bob is served" "$(uid_of bob)"
sleep 1
dird_stop
sed -i 's/^\[domain\/example\]$/[domain\/example]\nmin_id = 30000/' "$DIR_CONF"
dird_private || exit 1
within 30 in_sync || not_ok "in sync again" "$(tail -5 "$WORK/dird.log")"
sleep 2 # what the stream's first read changed is published
check_fails "min_id 30000 set while dird was stopped: bob (uid 20002) is not served" dir_has bob
dir_has bob && grep -E "min_id|kept out|no longer served|loaded" "$WORK/dird.log" | tail -5 >&2
dird_stop
finish
