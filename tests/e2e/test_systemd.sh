#!/bin/bash
# The systemd unit: systemd-analyze accepts it (with the build's dird in ExecStart), and dird
# tells NOTIFY_SOCKET it is ready once its socket answers (Type=notify).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
cleanup_first() { [ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null; }

sed -e "s|/usr/sbin/dird|$BUILD/dird/dird|" -e '/^Documentation=/d' \
	"$HERE/../../etc/systemd/dird.service" >"$WORK/dird.service"
check_eq "systemd-analyze verify finds nothing to say about dird.service" "" \
	"$(systemd-analyze verify "$WORK/dird.service" 2>&1)"
for unit in dird-machine-password.service dird-machine-password.timer; do
	sed -e "s|/usr/bin/dirctl|$BUILD/dirctl/dirctl|" -e '/^Documentation=/d' \
		"$HERE/../../etc/systemd/$unit" >"$WORK/$unit"
done
check_eq "systemd-analyze verify finds nothing to say about the machine password timer" "" \
	"$(cd "$WORK" && systemd-analyze verify dird-machine-password.timer 2>&1)"
check "the unit waits for dird's readiness" grep -q "^Type=notify" "$WORK/dird.service"
check "and gives it no capability but CAP_SETUID and CAP_SETGID (ticket renewal as the user)" \
	grep -q "^CapabilityBoundingSet=CAP_SETUID CAP_SETGID$" "$WORK/dird.service"

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 10 --big-group 5 --many-groups 3
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(4096).decode(), flush=True)
' "$WORK/notify" >"$WORK/notified" &
LISTENER=$!
for _ in $(seq 50); do [ -S "$WORK/notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$WORK/notify dird_start || exit 1
wait "$LISTENER"
LISTENER=
check "dird sends READY=1 to NOTIFY_SOCKET" grep -q "^READY=1" "$WORK/notified"
check "by then its socket is there" test -S "$WORK/run/dird.sock"
finish
