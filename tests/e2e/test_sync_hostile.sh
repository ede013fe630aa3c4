#!/bin/bash
# A server that offers RFC 4533 content sync and answers each sync search with a malformed
# message (tests/tools/hostile_sync_ldap.py): a syncState control with an empty value, an
# entryUUID of 3 bytes, a syncInfo with an empty value; or e-syncRefreshRequired to a search from
# no position.  dird must live on, say why in dirctl status, and ask again only after the
# reconnection's wait, not in a loop.
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
reconnecting() { changes_state | grep -q "reconnecting in .*: \(a malformed sync message\|the server asks\)"; }

for mode in empty-state short-uuid empty-info refresh-required; do
	rm -f "$WORK/port"
	python3 "$HERE/../tools/hostile_sync_ldap.py" "$WORK/port" "$mode" >"$WORK/server.out" &
	server=$!
	E2E_PIDS=("$server")
	within 10 test -s "$WORK/port" || not_ok "$mode: the hostile server starts"
	write_dird_conf "$DIR_CONF" "ldap://127.0.0.1:$(cat "$WORK/port")"
	: >"$WORK/dird.log"
	dird_start || exit 1
	within 20 reconnecting && ok "$mode: dirctl status says the stream reconnects, and why" ||
		not_ok "$mode: dirctl status says the stream reconnects, and why" "$(changes_state)"
	sleep 4 # long enough for a loop to show: thousands of reads where the backoff allows three
	kill -0 "$DIRD_PID" 2>/dev/null && ok "$mode: dird lives on" ||
		not_ok "$mode: dird lives on" "$(tail -3 "$WORK/dird.log")"
	n=$(full_reads)
	[ -n "$n" ] && [ "$n" -le 5 ] && ok "$mode: the stream waits before it asks again ($n reads in about 5 s)" ||
		not_ok "$mode: the stream waits before it asks again" "$n reads"
	dird_stop
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	E2E_PIDS=()
done
finish
