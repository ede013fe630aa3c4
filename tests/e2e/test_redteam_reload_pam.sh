#!/bin/bash
# Red team: a SIGHUP on a busy login server.  A reload waits for the PAM requests running (they
# read the configuration), and meanwhile stops the change streams.  Two loops of logins, each
# request held 3 s in dird (DIRD_TEST_PAUSE_AT=pam-asked), overlap so that one always runs (an
# ssh password guesser does as much): the reload must still come, the logins still succeed.
# Before, each new request started at once and the reload waited until the logins stopped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
serve_directory 50 5 3 || exit 1
sed -i 's/^nss_timeout = .*/nss_timeout = 10/' "$DIR_CONF"
pam_stacks "$WORK/pam.d"
dird_stop
dird_start env DIRD_TEST_PAUSE_AT=pam-asked DIRD_TEST_PAUSE_SECONDS=3 || exit 1
dird_wait_refresh
login() { echo alicepw | in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d "$BUILD/tests/pam_run" bare alice auth 2>&1; }
logins() {
	local end=$(($(date +%s) + 24))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(login)" = "auth: Success" ] || echo failed >>"$WORK/login_failures"
	done
}
logins &
L1=$!
sleep 1.5
logins &
L2=$!
sleep 2
n=$(grep -c "configuration reloaded" "$WORK/dird.log")
kill -HUP "$DIRD_PID"
within 10 eval '[ "$(grep -c "configuration reloaded" "$WORK/dird.log")" -gt "$n" ]' &&
	ok "the reload comes within 10 s while logins overlap" ||
	not_ok "the reload comes within 10 s while logins overlap" "$(grep -c "test hook: pausing" "$WORK/dird.log") requests so far"
wait "$L1" "$L2"
check_eq "every login succeeded" 0 "$(cat "$WORK/login_failures" 2>/dev/null | wc -l)"
check "the reload came" grep -q "configuration reloaded" "$WORK/dird.log"

# dirctl cache refresh while a reload waits (for a login held 3 s): the refresh runs once the
# reload is over, and dirctl waits for it (it said at once that the refresh failed).
sleep 1
login >/dev/null &
L1=$!
within 5 eval '[ "$(grep -c "test hook: pausing" "$WORK/dird.log")" -gt "$(grep -c "pam auth for alice" "$WORK/dird.log")" ]'
kill -HUP "$DIRD_PID"
out=$(timeout 60 "${CTL[@]}" cache refresh 2>&1)
rc=$?
check_eq "dirctl cache refresh while a reload waits: it succeeds" 0 "$rc"
check "...and reports the refresh, once the reload is over" grep -q "^refreshed: " <<<"$out"
wait "$L1"
finish
