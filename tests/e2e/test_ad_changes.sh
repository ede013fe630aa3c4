#!/bin/bash
# AD's changes polled from a real Samba AD DC (tests/lib/samba_dc.sh): a user added, a shell and
# group memberships changed (nested ones too), a user deleted, each seen through getent and id
# within sync_interval without a full refresh; a restart that resumes from the stored USN; a
# stored invocationId that is not the DC's, and a stored USN above the DC's, read it whole; the
# DC's change notification waking a poll long before sync_interval.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/samba_dc.sh"
ad_test_start "$0" "$@" || exit 1

SMB_CONF=$AD_DIR/dc/etc/smb.conf
samba_tool() { /usr/bin/python3 /usr/bin/samba-tool "$@" -s "$SMB_CONF" >>"$WORK/samba-tool.log" 2>&1; }
# ldb_modify LDIF: a change written to the DC's own database, as an administrator's tool does
ldb_modify() { ldbmodify -H "$AD_DIR/dc/private/sam.ldb" >>"$WORK/samba-tool.log" 2>&1; }
BASE=DC=ad,DC=test

INTERVAL=2
export DIR_CONF=$WORK/dird.conf
ad_dird_conf "$DIR_CONF" "enumerate = yes" "sync_interval = $INTERVAL"
write_nsswitch "$WORK/nss" "files dir"
nss() { in_ns "$WORK/nss" "$@"; }
CTL=("$BUILD/dirctl/dirctl")
status_field() { # status_field EXPR: a Python expression of the status JSON `s`, its domain `d`
	"${CTL[@]}" --json status | python3 -c "import json,sys; s=json.load(sys.stdin); d=s['domains'][0]; print($1)"
}

has_line() { grep -qxF "$1" <(tr ' ' '\n' <<<"$2"); }
in_groups() { has_line "$2" "$(nss id -Gn "$1")"; }
not_in_groups() { ! in_groups "$@"; }
absent() { ! nss getent passwd "$1"; }

dird_start || exit 1
dird_wait_refresh || exit 1
check_eq "status: changes come by USN poll" "usn poll" "$(status_field 'd["changes"]')"
check "status: the DC polled and the USN the cache stands at" \
	grep -qE '^dc1\.ad\.test at USN [1-9][0-9]*, last poll [0-9:]{8}$' <(status_field 'd["changes_state"]')
check_eq "status: in sync" "True" "$(status_field 'd["in_sync"]')"
"${CTL[@]}" status | grep -q "changes: usn poll, dc1.ad.test at USN [0-9]*, last poll [0-9:]*"
check_eq "dirctl status shows the mechanism, the DC, the USN and the last poll" 0 $?
REFRESHES=$(status_field 's["refresh_count"]')
WHOLE=$(grep -c "reading every user and group" "$WORK/dird.log")
check_eq "the first poll read the domain whole, once" 1 "$WHOLE"

# --- changes, each seen without a full refresh -----------------------------------------------
samba_tool user create newbie "$AD_USER_PASSWORD" --given-name=New --surname=Bie
listed() { nss getent passwd | grep -q "^$1:"; }
seen "a user added with samba-tool is listed by getent (the index, not a lookup)" listed 'ADTEST\\newbie'

ldb_modify <<LDIF
dn: CN=alice,CN=Users,$BASE
changetype: modify
replace: loginShell
loginShell: /bin/zsh
LDIF
shell_is() { [ "$(nss getent passwd 'ADTEST\alice' | cut -d: -f7)" = "$1" ]; }
seen "a shell (loginShell) changed is seen" shell_is /bin/zsh

samba_tool group addmembers g_staff newbie
seen "a membership added reaches id" in_groups 'ADTEST\newbie' 'ADTEST\g_staff'
check "getent group lists the new member" grep -q 'ADTEST\\newbie' <(nss getent group 'ADTEST\g_staff')
samba_tool group addmembers g_inner newbie
seen "a membership of a nested group reaches the groups that hold it" \
	in_groups 'ADTEST\newbie' 'ADTEST\g_outer'
check "id: the middle group too" in_groups 'ADTEST\newbie' 'ADTEST\g_middle'
check "getent group of the outer group lists the new member" \
	grep -q 'ADTEST\\newbie' <(nss getent group 'ADTEST\g_outer')
samba_tool group removemembers g_staff newbie
seen "a membership removed leaves id" not_in_groups 'ADTEST\newbie' 'ADTEST\g_staff'

samba_tool user delete newbie
seen "a user deleted (a tombstone, through Show Deleted) is gone from getent" absent 'ADTEST\newbie'
check_fails "and from the group that held it" grep -q newbie <(nss getent group 'ADTEST\g_outer')

# --- a user renamed: its groups follow the new name, the old name is gone ---------------------
# The groups keep the user by reference on the DC: their uSNChanged does not move.
samba_tool user create renamee "$AD_USER_PASSWORD"
samba_tool group addmembers g_staff renamee
samba_tool group addmembers g_inner renamee
member() { grep -q "$1" <(nss getent group "$2"); }
seen "a user to rename is listed by its groups" member 'ADTEST\\renamee' 'ADTEST\g_outer'
check "by the one it was added to too" member 'ADTEST\\renamee' 'ADTEST\g_staff'
samba_tool user rename renamee --samaccountname=renamed
seen "a user renamed is listed under the new name" listed 'ADTEST\\renamed'
check "and the old name is gone" absent 'ADTEST\renamee'
for g in g_staff g_inner g_middle g_outer; do
	check "id of the new name shows $g" in_groups 'ADTEST\renamed' "ADTEST\\$g"
	check_fails "getent group $g lists the old name no more" \
		grep -q 'ADTEST\\renamee' <(nss getent group "ADTEST\\$g")
done
samba_tool user delete renamed
not_member() { ! member "$@"; }
seen "the renamed user deleted leaves its groups" not_member 'ADTEST\\renamed' 'ADTEST\g_staff'
check "the nested ones too" not_member 'ADTEST\\renamed' 'ADTEST\g_outer'

check_eq "none of it was a full refresh (refresh_count)" "$REFRESHES" "$(status_field 's["refresh_count"]')"
check_eq "none of it read the domain whole (the log)" "$WHOLE" "$(grep -c "reading every user and group" "$WORK/dird.log")"
check "the log names the changes applied, USN to USN" grep -q "adtest: [0-9]* changes applied, USN [0-9]* to [0-9]* of dc1.ad.test" "$WORK/dird.log"

# --- a restart resumes from the stored USN ---------------------------------------------------
dird_stop
samba_tool user create later "$AD_USER_PASSWORD"
USN_BEFORE=$(grep -o "USN [0-9]* to [0-9]*" "$WORK/dird.log" | tail -1 | awk '{print $4}')
dird_start || exit 1
seen "after a restart, a user added while dird was down is listed" listed 'ADTEST\\later'
check_eq "the restart did not read the domain whole" "$WHOLE" \
	"$(grep -c "reading every user and group" "$WORK/dird.log")"
check "the restart went on from the USN the cache held" \
	grep -q "changes applied, USN $USN_BEFORE to " "$WORK/dird.log"

# --- a position the DC cannot continue: read whole -------------------------------------------
# set_position FIELD VALUE: the stored position (both tdb files) with one field replaced, as a
# restored DC (another invocationId) or another DC's USN would leave it.
set_position() {
	/usr/bin/python3 - "$WORK/cache" "$1" "$2" <<'PY'
import os, sys, tdb
cache, field, value = sys.argv[1], int(sys.argv[2]), sys.argv[3]
key = b"SYNC_POSITION_adtest/usn"
for f in ("directoryservice_cache_user.tdb", "directoryservice_cache_group.tdb"):
    t = tdb.Tdb(f"{cache}/{f}", 0, tdb.DEFAULT, os.O_RDWR)
    v = t.get(key).decode().split(" ")
    v[field] = value
    t.store(key, " ".join(v).encode(), tdb.REPLACE)
    t.close()
PY
}
dird_stop
set_position 1 00000000-0000-0000-0000-000000000001
samba_tool user create afterrestore "$AD_USER_PASSWORD"
dird_start || exit 1
seen "another invocationId: the domain is read whole" \
	grep -q "reading every user and group .*invocationId changed" "$WORK/dird.log"
seen "and what changed is listed" listed 'ADTEST\\afterrestore'
check_eq "read whole once more" $((WHOLE + 1)) "$(grep -c "reading every user and group" "$WORK/dird.log")"

dird_stop
set_position 2 999999999
samba_tool user delete afterrestore
dird_start || exit 1
seen "a stored USN above the DC's: the domain is read whole" \
	grep -q "reading every user and group .*USN went back" "$WORK/dird.log"
seen "and a deletion made meanwhile is applied" absent 'ADTEST\afterrestore'
check "cached users are still served" nss getent passwd 'ADTEST\alice'

# --- change notification wakes the poll long before sync_interval ----------------------------
dird_stop
INTERVAL=3600
ad_dird_conf "$DIR_CONF" "enumerate = yes" "sync_interval = $INTERVAL"
dird_start || exit 1
polled() { [ "$(status_field 'd["in_sync"]')" = True ]; }
seen "sync_interval = 3600: the first poll" polled
samba_tool user create early "$AD_USER_PASSWORD"
seen "a user added is listed long before the interval: the DC's notification woke the poll" \
	listed 'ADTEST\\early'
check "the log says so" grep -q "adtest: the DC says something changed" "$WORK/dird.log"

# A write over LDAP (ldapmodify against the DC, as most tools write), not to the database file.
ldap_modify() {
	LDAPTLS_CACERT=$AD_CA ldapmodify -x -H "ldaps://$AD_HOST" -D "Administrator@ad.test" \
		-w "$AD_ADMIN_PASSWORD" >>"$WORK/samba-tool.log" 2>&1
}
set_shell() {
	ldap_modify <<LDIF
dn: CN=alice,CN=Users,$BASE
changetype: modify
replace: loginShell
loginShell: $1
LDIF
}
for shell in /bin/sh /bin/dash /bin/bash; do
	set_shell "$shell"
	seen "a shell written with ldapmodify ($shell) is seen long before the interval" shell_is "$shell"
done

# --- a lookup racing a poll does not put back the older copy ---------------------------------
# alice's copy is stale after 3/4 of entry_ttl: her lookup reads her from the DC, then waits
# (the test hook) while her shell changes and the poll applies it; the lookup's older copy must
# not replace the poll's.
dird_stop
INTERVAL=2
ad_dird_conf "$DIR_CONF" "enumerate = yes
entry_ttl = 8" "sync_interval = $INTERVAL"
DIRD_TEST_PAUSE_AT=lookup-asked DIRD_TEST_PAUSE_SECONDS=6 dird_start || exit 1
seen "sync_interval = 2: the first poll" polled
sleep 7
lookups() { grep -c "lookup getpwnam .*alice by uid 0: asked domain adtest: found" "$WORK/dird.log"; }
LOOKUPS=$(lookups)
nss getent passwd 'ADTEST\alice' >/dev/null 2>&1 &
LOOKUP=$!
seen "a lookup of the stale copy read the DC and waits" \
	grep -q "test hook: pausing 6 s at lookup-asked" "$WORK/dird.log"
APPLIED=$(grep -c "changes applied" "$WORK/dird.log")
set_shell /bin/ksh
more_applied() { [ "$(grep -c "changes applied" "$WORK/dird.log")" -gt "$APPLIED" ]; }
seen "the poll applies the change meanwhile" more_applied
seen "and it is seen (dird publishes 200 ms after a change)" shell_is /bin/ksh
wait "$LOOKUP"
lookup_done() { [ "$(lookups)" -gt "$LOOKUPS" ]; }
seen "the lookup ends" lookup_done
# the lookup's copy would be published within a second: watch for 3 s
stands() { for _ in $(seq 15); do shell_is /bin/ksh || return 1; sleep 0.2; done; }
check "after the lookup, the poll's change stands (for 3 s)" stands

# --- a second DC: another DC's USNs are its own, so a switch to it reads the domain whole, once --
# joined now, it holds everything written so far
dird_stop
ad_dc2_start "$WORK/ad2" || exit 1
check "a second DC joined the domain (samba-tool domain join ... DC) and serves LDAPS" true
on_dc2() { # samba-tool over LDAP to the second DC
	/usr/bin/python3 /usr/bin/samba-tool "$@" -H "ldap://$AD2_HOST" \
		-U "$AD_DOMAIN\\Administrator" --password="$AD_ADMIN_PASSWORD" \
		-s "$AD_DIR/empty.conf" >>"$WORK/samba-tool.log" 2>&1
}
AD_URIS="ldaps://$AD_HOST ldaps://$AD2_HOST" ad_dird_conf "$DIR_CONF" "enumerate = yes" \
	"sync_interval = $INTERVAL"
dird_start || exit 1
polled_dc() { grep -q "^$1 at USN [1-9]" <(status_field 'd["changes_state"]'); }
seen "the poll reads the first DC" polled_dc 'dc1\.ad\.test'
USERS=$(nss getent passwd | grep '^ADTEST' | sort)
GROUPS_BEFORE=$(nss getent group | grep '^ADTEST' | sort)
check "the domain's users are listed" grep -q '^ADTEST\\alice:' <<<"$USERS"
WHOLE=$(grep -c "reading every user and group" "$WORK/dird.log")
# its address gone and refused (a link down would not do: the address stays local)
ip addr del "$AD_IP/24" dev dirad1
ip route add prohibit "$AD_IP/32"
check_fails "the first DC is out of reach" env LDAPTLS_CACERT="$AD_CA" timeout 5 \
	ldapsearch -x -H "ldaps://$AD_HOST" -s base -b "" defaultNamingContext
seen "the poll goes on from the second DC" polled_dc 'dc2\.ad\.test'
check "it saw another DC and read the domain whole" \
	grep -q "reading every user and group of dc2.ad.test .*another DC answers" "$WORK/dird.log"
check_eq "once" $((WHOLE + 1)) "$(grep -c "reading every user and group" "$WORK/dird.log")"
check_eq "no user lost or changed by the switch" "$USERS" "$(nss getent passwd | grep '^ADTEST' | sort)"
check_eq "no group lost or changed" "$GROUPS_BEFORE" "$(nss getent group | grep '^ADTEST' | sort)"
on_dc2 user create ondc2 "$AD_USER_PASSWORD"
seen "a user added on the second DC is listed" listed 'ADTEST\\ondc2'
on_dc2 group addmembers g_staff ondc2
seen "a membership added on the second DC reaches getent group" \
	member 'ADTEST\\ondc2' 'ADTEST\g_staff'
check "by USN from the second DC" grep -q "changes applied, USN [0-9]* to [0-9]* of dc2.ad.test" \
	"$WORK/dird.log"
check_eq "without another whole read" $((WHOLE + 1)) \
	"$(grep -c "reading every user and group" "$WORK/dird.log")"
finish
