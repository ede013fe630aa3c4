#!/bin/bash
# A full refresh that reads an AD domain polled by USN (dird/server_holds.h): it writes the poll's
# position back into its new files only when the DC it read is the position's DC and database
# (dnsHostName, invocationId) at a USN no lower.  A refresh reads an AD domain when another
# domain has no change stream: here a plain slapd next to the real Samba DC.
#   1. The DC of the position: kept, and the poll goes on by USN (no whole read).
#   2. A position of another database of the DC (another invocationId, as a restored DC's old
#      position is): the refresh drops it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/samba_dc.sh"
ad_test_start "$0" "$@" || exit 1
. "$HERE/../lib/slapd.sh"
E2E_SERVERS+=(slapd)
slapd_generated 5 0 0 || exit 1 # no syncprov: a domain refreshed in full

SMB_CONF=$AD_DIR/dc/etc/smb.conf
samba_tool() { /usr/bin/python3 /usr/bin/samba-tool "$@" -s "$SMB_CONF" >>"$WORK/samba-tool.log" 2>&1; }
INTERVAL=3600 # polls at start, then when the DC says something changed
ad_dird_conf "$DIR_CONF" "enumerate = yes" "sync_interval = $INTERVAL"
printf 'readerpw\n' >"$WORK/readerpw"
chmod 600 "$WORK/readerpw"
cat >>"$DIR_CONF" <<CONF

[domain/example]
type = ldap
uri = $SLAPD_URI
base_dn = $SLAPD_BASE
user_base = ou=people,$SLAPD_BASE
group_base = ou=groups,$SLAPD_BASE
bind_dn = cn=reader,ou=system,$SLAPD_BASE
bind_password_file = $WORK/readerpw
CONF
write_nsswitch "$WORK/nss" "files dir"
nss() { in_ns "$WORK/nss" "$@"; }
listed() { nss getent passwd | grep -q "^$1:"; }
polled() { # the AD domain's poll has the cache in sync
	"${CTL[@]}" --json status | python3 -c 'import json,sys
sys.exit(not [d for d in json.load(sys.stdin)["domains"] if d["name"] == "adtest"][0]["in_sync"])'
}
whole_reads() { grep -c "adtest: reading every user and group" "$WORK/dird.log"; }
# position: the poll's position in the user file ("" when none)
position() {
	/usr/bin/python3 - "$WORK/cache" <<'PY'
import sys, tdb
t = tdb.Tdb(f"{sys.argv[1]}/directoryservice_cache_user.tdb")
print((t.get(b"SYNC_POSITION_adtest/usn") or b"").decode())
PY
}
# set_invocation_id ID: the stored position (both files) with another invocationId
set_invocation_id() {
	/usr/bin/python3 - "$WORK/cache" "$1" <<'PY'
import os, sys, tdb
for f in ("directoryservice_cache_user.tdb", "directoryservice_cache_group.tdb"):
    t = tdb.Tdb(f"{sys.argv[1]}/{f}", 0, tdb.DEFAULT, os.O_RDWR)
    v = t.get(b"SYNC_POSITION_adtest/usn").decode().split(" ")
    v[1] = sys.argv[2]
    t.store(b"SYNC_POSITION_adtest/usn", " ".join(v).encode(), tdb.REPLACE)
    t.close()
PY
}

dird_start || exit 1
dird_wait_refresh || exit 1
seen "the first poll" polled
check "the slapd domain is served" listed u00001
WHOLE=$(whole_reads)
BEFORE=$(position)
check "the poll stored its position (DC, invocationId, USN)" \
	grep -qE '^dc1\.ad\.test [0-9a-f-]{36} [1-9][0-9]*$' <<<"$BEFORE"

# 1. The refresh reads the DC of the position.
cache_refresh
check "the refresh read the DC of the position, at a USN no lower" \
	logged_since_refresh "adtest: the refresh read ldaps://$AD_HOST, which holds every change its stream's positions count"
check_eq "the position is in the refresh's files" "$BEFORE" "$(position)"
samba_tool user create afterrefresh "$AD_USER_PASSWORD"
seen "a user added after the refresh is listed" listed 'ADTEST\\afterrefresh'
check "the poll went on from the position, by USN" \
	logged_since_refresh "adtest: [0-9]* changes applied, USN ${BEFORE##* } to [0-9]* of dc1.ad.test"
check_eq "without a whole read" "$WHOLE" "$(whole_reads)"

# 2. A position of another database of the DC.
set_invocation_id 00000000-0000-0000-0000-000000000001
cache_refresh
check "the refresh drops a position of another invocationId" \
	logged_since_refresh "adtest: the refresh read ldaps://$AD_HOST, which may lack changes its usn stream's position counts (.*invocationId changed"
check_eq "the refresh's files hold no position" "" "$(position)"
check "cached users are still served" nss getent passwd 'ADTEST\alice'
finish
