#!/bin/bash
# Red team: `dirctl cache expire` with entry_ttl = 0 takes the user out of the cache, so that the
# next lookup asks the directory.  While the stream is in sync libnss_dir answers a miss itself
# (authoritative_until): the expired user, still in the directory, must still be found.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
SLAPD_SYNCPROV=1 slapd_generated 20 0 0 || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI" "entry_ttl = 0"
write_nsswitch "$WORK/nss" "files dir"
in_sync() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["domains"][0]["in_sync"] else 1)'
}
served() { in_ns "$WORK/nss" getent passwd "$1"; }

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
dir_has() { in_ns "$WORK/nss" getent -s dir passwd alice; }
within 30 in_sync && within 10 dir_has && ok "the stream is in sync again, and serves alice" ||
	not_ok "the stream is in sync again, and serves alice" "$("${CTL[@]}" status | grep changes)"
finish
