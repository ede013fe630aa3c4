#!/bin/bash
# A full refresh writes a domain's change-stream positions back into its new files only when the
# server it read held every change they count (dird/server_holds.h): slapd's contextCSN of each
# provider at least the position's CSN of that provider.  Another server may lag behind the one
# the stream followed.  Two providers replicating each other, provider 2 through a proxy that
# can hold its replication back (it lags: tests/lib/slapd_pair.sh); dird's uris are A, a proxy
# to provider 1 that can refuse new connections while the stream's stays open, then provider 2:
# a refresh then reads provider 2.
#   1. provider 2 in step: its position is kept (no whole read), the stream goes on.
#   2. provider 2 lagging: the position goes, the stream reads provider 1 whole, and the
#      change provider 2 lacks stays served.
#   3. the stream failed over to a lagging provider 2 (provider 1 stopped) and a refresh reads
#      it: the position goes, the stream reads provider 2 whole; provider 2 catches up while
#      dird is down, and dird started again gets the change.  Kept, the position would count
#      the change provider 2 lacked, and dird would never show it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd_pair
P=ou=people,$SLAPD_BASE

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 >/dev/null || exit 1
sed -i '/^gecos:: /d' "$WORK/data/data.ldif" # syncrepl refuses it where slapadd -q does not
SLAPD_PAIR_LAG=1 slapd_pair_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
P2=${PROVIDER_URI[2]}
A_PORT=$(free_port)
A=ldap://127.0.0.1:$A_PORT
/usr/bin/python3 "$HERE/../lib/tcp_proxy.py" "$A_PORT" "${PROVIDER_URI[1]##*:}" &
A_PID=$!
E2E_PIDS+=("$A_PID")
within 5 ldapsearch -x -LLL -H "$A" -b "$SLAPD_BASE" -s base dn || exit 1

write_dird_conf "$DIR_CONF" "$A $P2"
write_nsswitch "$WORK/nss" "files dir"
field() { "${CTL[@]}" --json status 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0][sys.argv[1]])' "$1"; }
in_sync() { [ "$(field in_sync)" = True ]; }
follows() { [ "$(field server)" = "$1" ] && in_sync; }
full_reads_above() { [ "$(field full_syncs)" -gt "$1" ]; }
shell_of() { in_ns "$WORK/nss" getent passwd "$1" | cut -d: -f7; }
shell_is() { [ "$(shell_of "$1")" = "$2" ]; }
set_shell() { # PROVIDER USER SHELL
	printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: loginShell\nloginShell: %s\n' "$2" "$P" "$3" |
		provider_modify "$1"
}
csns() { ldapsearch -x -LLL -H "${PROVIDER_URI[$1]}" -b "$SLAPD_BASE" -s base contextCSN |
	grep '^contextCSN:' | sort; }
in_step() { [ "$(csns 1)" = "$(csns 2)" ]; }

dird_start || exit 1
check "the stream is in sync, following provider 1 through A" within 30 follows "$A"

# 1. Provider 2 in step.
set_shell 1 u00003 /bin/zsh
check "a change on provider 1 reaches the host" within 10 shell_is u00003 /bin/zsh
check "provider 2 replicates it (its contextCSN is provider 1's)" within 20 in_step
before=$(field full_syncs)
kill -USR1 "$A_PID" # A refuses new connections; the stream's stays open
cache_refresh
check "the refresh read provider 2, which holds every change the position counts" \
	logged_since_refresh "the refresh read $P2, which holds every change its stream's positions count"
set_shell 1 u00005 /bin/zsh
check "the stream goes on from its position: a new change reaches the host" \
	within 10 shell_is u00005 /bin/zsh
check_eq "... without reading anything whole" "$before" "$(field full_syncs)"
check_eq "... and the change before the refresh is still served" /bin/zsh "$(shell_of u00003)"

# 2. Provider 2 lagging: it never receives the change.
provider2_lag
old_shell=$(shell_of u00004)
set_shell 1 u00004 /bin/zsh
check "a change on provider 1 reaches the host" within 10 shell_is u00004 /bin/zsh
check "provider 2 lacks it" eval "! ldapsearch -x -LLL -H $P2 -b uid=u00004,$P -s base loginShell |
	grep -q /bin/zsh"
before=$(field full_syncs)
cache_refresh
check "the refresh read provider 2, whose contextCSN does not show the change" \
	logged_since_refresh "the refresh read $P2, which may lack changes its .* stream's position counts (its contextCSN values"
check "the stream reads provider 1 whole" within 15 full_reads_above "$before"
check "the change provider 2 lacks is served again (from provider 1)" \
	within 15 shell_is u00004 /bin/zsh
sleep 2
check_eq "... and stays" /bin/zsh "$(shell_of u00004)"

# 3. The stream fails over to the lagging provider 2, then a refresh reads it.
provider_stop 1
check "the stream fails over to provider 2" within 30 follows "$P2"
check_eq "the host still serves the change provider 2 lacks" /bin/zsh "$(shell_of u00004)"
before=$(field full_syncs)
cache_refresh
check "the refresh read provider 2, whose contextCSN does not show what the stream had from provider 1" \
	logged_since_refresh "the refresh read $P2, which may lack changes its .* stream's position counts"
check "the stream reads provider 2 whole" within 15 full_reads_above "$before"
check "the host serves what provider 2 holds" within 15 shell_is u00004 "$old_shell"
dird_stop
provider_resume 1 || exit 1
provider2_catch_up
check "provider 2 catches up while dird is down" within 30 in_step
dird_start || exit 1
check "dird started again serves the change provider 2 now has" within 15 shell_is u00004 /bin/zsh
finish
