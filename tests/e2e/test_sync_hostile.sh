#!/bin/bash
# A server that offers RFC 4533 content sync and answers each sync search with a malformed
# message (tests/tools/hostile_sync_ldap.py): a syncState control with an empty value, a
# syncInfo with an empty value; or e-syncRefreshRequired to a search from no position.  dird must
# live on, say why in dirctl status, and ask again only after the reconnection's wait, not in a
# loop.  Then entries no real server sends, among normal ones: an entryUUID of 3 bytes, one of
# 40, a DN of over 4,096 bytes: the entry with a malformed id alone is refused (dirctl status
# counts it), the one with the long DN is served without it, and the others are served.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start

# full_reads: the domain's full_syncs in dirctl status --json
full_reads() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["full_syncs"])'
}
changes_state() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["changes_state"])'
}
refused() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["refused"])'
}
refused_is() { [ "$(refused)" = "$1" ]; }
write_nsswitch "$WORK/nss" "files dir"
NSS=$WORK/nss
served() { in_ns "$NSS" getent passwd "$1"; }
reconnecting() { changes_state | grep -q "reconnecting in .*: \(a malformed sync message\|the server asks\)"; }

# hostile MODE: the hostile server in MODE, and dird reading from it
hostile() {
	rm -f "$WORK/port"
	python3 "$HERE/../tools/hostile_sync_ldap.py" "$WORK/port" "$1" >"$WORK/server.out" &
	server=$!
	E2E_PIDS=("$server")
	within 10 test -s "$WORK/port" || not_ok "$1: the hostile server starts"
	rm -rf "$WORK/cache"
	write_dird_conf "$DIR_CONF" "ldap://127.0.0.1:$(cat "$WORK/port")"
	: >"$WORK/dird.log"
	dird_start || exit 1
}
# no_loop MODE: after a few seconds dird lives and has read everything only a few times
no_loop() {
	sleep 4 # long enough for a loop to show: thousands of reads where the backoff allows three
	kill -0 "$DIRD_PID" 2>/dev/null && ok "$1: dird lives on" ||
		not_ok "$1: dird lives on" "$(tail -3 "$WORK/dird.log")"
	n=$(full_reads)
	[ -n "$n" ] && [ "$n" -le 5 ] && ok "$1: the stream waits before it asks again ($n reads in about 5 s)" ||
		not_ok "$1: the stream waits before it asks again" "$n reads"
}
hostile_stop() {
	dird_stop
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	E2E_PIDS=()
}

for mode in empty-state empty-info refresh-required; do
	hostile "$mode"
	within 20 reconnecting && ok "$mode: dirctl status says the stream reconnects, and why" ||
		not_ok "$mode: dirctl status says the stream reconnects, and why" "$(changes_state)"
	no_loop "$mode"
	hostile_stop
done

hostile short-uuid
within 20 refused_is 1 && ok "short-uuid: the entry is refused, and dirctl status counts it" ||
	not_ok "short-uuid: the entry is refused, and dirctl status counts it" "refused: $(refused); $(changes_state)"
no_loop short-uuid
hostile_stop

hostile big-entries
within 20 served alice && ok "big-entries: the normal users are served" ||
	not_ok "big-entries: the normal users are served" "$(changes_state); $(tail -3 "$WORK/dird.log")"
check "big-entries: bob too" served bob
check "big-entries: the user whose DN is over 4,096 bytes is served, without it" served longdn
check_fails "big-entries: the user whose syncUUID is 40 bytes is not" served badid
check_eq "big-entries: dirctl status counts the refused entry" 1 "$(refused)"
grep -q "DN of [0-9]* bytes is too long to keep" "$WORK/dird.log" &&
	ok "big-entries: the log says the long DN is not kept" ||
	not_ok "big-entries: the log says the long DN is not kept"
no_loop big-entries
hostile_stop
finish
