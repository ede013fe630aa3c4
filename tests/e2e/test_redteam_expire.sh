#!/bin/bash
# Red team: `dirctl cache expire` with entry_ttl = 0 takes the user out of the cache, so that the
# next lookup asks the directory.  While the stream is in sync libnss_dir answers a miss itself
# (authoritative_until): the expired user, still in the directory, must still be found.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 "entry_ttl = 0" || exit 1
served() { in_ns "$NSS" getent passwd "$1"; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
within 10 served alice >/dev/null && ok "alice is served" || not_ok "alice is served"
sleep 2 # authoritative_until is published on a later tick
check "dirctl cache expire alice" "${CTL[@]}" cache expire alice
sleep 1
for i in 1 2 3; do
	served alice >/dev/null && break
	sleep 1
done
check "alice, expired but in the directory, is still found" served alice
dir_has() { in_ns "$NSS" getent -s dir passwd alice; }
within 30 in_sync && within 10 dir_has && ok "the stream is in sync again, and serves alice" ||
	not_ok "the stream is in sync again, and serves alice" "$("${CTL[@]}" status | grep changes)"
finish
