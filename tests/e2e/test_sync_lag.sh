#!/bin/bash
# A refresh that reads a domain from another server than the one its change stream follows: a
# stream's position describes its own server's data, and another server (a provider still
# replicating, another DC) may lag behind it.  Here server B is a second slapd with the same
# entries that never learns of a change made on A.  The stream follows A through a proxy; the
# proxy then refuses new connections, so `dirctl cache refresh` reads B.  The change must
# come back (the stream reads A whole again), not stay lost behind a position that counts it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

SLAPD_SYNCPROV=1 slapd_generated 20 0 0 || exit 1
A_PORT=$SLAPD_PORT A_URI=$SLAPD_URI A_PID=$SLAPD_PID A_DIR=$SLAPD_DIR
SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd-b" "$WORK/data/data.ldif" || exit 1
B_URI=$SLAPD_URI
E2E_PIDS+=("$SLAPD_PID")
SLAPD_PORT=$A_PORT SLAPD_URI=$A_URI SLAPD_PID=$A_PID SLAPD_DIR=$A_DIR
PROXY_PORT=$(free_port)
/usr/bin/python3 "$HERE/../lib/tcp_proxy.py" "$PROXY_PORT" "$A_PORT" &
PROXY_PID=$!
E2E_PIDS+=("$PROXY_PID")
for _ in $(seq 50); do
	ldapsearch -x -LLL -H "ldap://127.0.0.1:$PROXY_PORT" -b "$SLAPD_BASE" -s base dn >/dev/null 2>&1 && break
	sleep 0.1
done

write_dird_conf "$DIR_CONF" "ldap://127.0.0.1:$PROXY_PORT $B_URI"
write_nsswitch "$WORK/nss" "files dir"
status() { "${CTL[@]}" --json status 2>/dev/null; }
in_sync() { status | python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["domains"][0]["in_sync"])'; }
full_syncs() { status | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["full_syncs"])'; }
shell_of() { in_ns "$WORK/nss" getent passwd "$1" | cut -d: -f7; }
shell_is() { [ "$(shell_of "$1")" = "$2" ]; }

dird_start || exit 1
check "the stream is in sync, following A" within 30 in_sync
ldapmodify -x -H "$A_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: uid=u00003,ou=people,$SLAPD_BASE
changetype: modify
replace: loginShell
loginShell: /bin/zsh
LDIF
check "a change on A reaches the host" within 10 shell_is u00003 /bin/zsh
before=$(full_syncs)

kill -USR1 "$PROXY_PID" # A refuses new connections; the stream's stays open
timeout 60 "${CTL[@]}" cache refresh >/dev/null 2>&1
check "dird's refresh read B, and says the stream follows A" \
	grep -q "the refresh read ${B_URI}.*, its change stream follows ldap://127.0.0.1:$PROXY_PORT" "$WORK/dird.log"
check "the change B never saw is served again within 15 s (the stream read A whole)" \
	within 15 shell_is u00003 /bin/zsh
sleep 2
check_eq "... and stays" /bin/zsh "$(shell_of u00003)"
check "the stream counted a whole read" test "$(full_syncs)" -gt "$before"
finish
