#!/bin/bash
# dirctl status says what on the host hides directory users although dird serves them: a
# dird.conf others cannot read (libnss_dir in their processes is left on its defaults, and
# nobody's lookups find nothing), an nsswitch.conf without dir, nscd running.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 20 0 0 || exit 1
status() { in_ns "$1" "$BUILD/dirctl/dirctl" status 2>&1; }

out=$(status "$WORK/nss")
check_eq "a readable dird.conf, dir in nsswitch.conf: status exits 0" "0" "$?"
if ! pgrep -x nscd >/dev/null; then
	check "and warns of nothing" bash -c '! grep -q "^warning" <<<"$1"' _ "$out"
fi
check "nobody sees a directory user" in_ns "$WORK/nss" --as-nobody getent passwd alice

# The README's old source install made the file 0600.
chmod 600 "$DIR_CONF"
check_fails "dird.conf 0600: nobody no longer sees directory users" in_ns "$WORK/nss" --as-nobody getent passwd alice
out=$(status "$WORK/nss")
check "dird.conf 0600: status warns, with the mode and the fix" \
	grep -q "^warning:   $DIR_CONF is mode 0600: processes not run by root cannot read it.*chmod 644" <<<"$out"
out=$(in_ns "$WORK/nss" "$BUILD/dirctl/dirctl" --json status 2>&1)
check "dird.conf 0600: status --json lists the warning" python3 -c '
import json, sys
w = json.loads(sys.argv[1])["warnings"]
assert any("is mode 0600" in x for x in w), w' "$out"
chmod 644 "$DIR_CONF"

write_nsswitch "$WORK/nss-files" "files"
out=$(status "$WORK/nss-files")
check "nsswitch.conf without dir: status warns" \
	grep -q "^warning:   /etc/nsswitch.conf: the passwd and group lines do not name dir.*dirctl enable" <<<"$out"
printf 'passwd: files dir\ngroup: files [SUCCESS=merge] systemd\n' >"$WORK/nss-half"
out=$(status "$WORK/nss-half")
check "a group line without dir: status names that line" \
	grep -q "^warning:   /etc/nsswitch.conf: the group line does not name dir" <<<"$out"

# Any process whose name is nscd counts, as the real one would.
cp "$(command -v sleep)" "$WORK/nscd"
"$WORK/nscd" 60 &
NSCD_PID=$!
E2E_PIDS+=("$NSCD_PID")
sleep 0.2
out=$(status "$WORK/nss")
check "nscd running: status warns, with its pid" grep -q "^warning:   nscd runs (pid $NSCD_PID): it caches" <<<"$out"
kill "$NSCD_PID"
wait "$NSCD_PID" 2>/dev/null
E2E_PIDS=()

# dirctl log-level: at once, without a refresh, until a reload; dird -f's lines carry the time
check "dird's lines (dird -f, no journald) start with the local time" \
	grep -Eq "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} dird: info: " "$WORK/dird.log"
out=$("$BUILD/dirctl/dirctl" log-level error 2>&1)
check_eq "dirctl log-level error: exit 0" "0" "$?"
check "it says until when" grep -q "dird logs at error until it reloads" <<<"$out"
refreshes=$(grep -c "refresh done" "$WORK/dird.log")
"$BUILD/dirctl/dirctl" cache refresh >/dev/null
check_eq "at error, a refresh logs no info line" "$refreshes" "$(grep -c "refresh done" "$WORK/dird.log")"
"$BUILD/dirctl/dirctl" log-level info >/dev/null
"$BUILD/dirctl/dirctl" cache refresh >/dev/null
check_eq "back at info, it does" "$((refreshes + 1))" "$(grep -c "refresh done" "$WORK/dird.log")"
check_fails "dirctl log-level is root's" setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/dirctl/dirctl" log-level debug
check_eq "dirctl log-level of no level: a usage error" "2" "$("$BUILD/dirctl/dirctl" log-level loud >/dev/null 2>&1; echo $?)"
dird_stop
out=$(status "$WORK/nss-files")
check_eq "dird stopped: status exits 3" "3" "$?"
check "and still warns" grep -q "^warning: /etc/nsswitch.conf: the passwd and group lines do not name dir" <<<"$out"
finish
