#!/bin/bash
# Active Directory against a real Samba AD DC (tests/lib/samba_dc.sh, ad_populate.py): names as
# winbind prints them, idmap = rid and idmap = ad, nested groups from a refresh and from
# tokenGroups, what is never served, and the real getent and id.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/samba_dc.sh"
ad_test_start "$0" "$@" || exit 1

# rid NAME: the RID of an account, as the DC's own database says.
rid() {
	ldbsearch -H "$AD_DIR/dc/private/sam.ldb" "(sAMAccountName=$1)" objectSid 2>/dev/null |
		sed -n "s/^objectSid: $AD_SID-//p"
}
LOW=100000001
id_of() { echo $((LOW + $(rid "$1"))); }

# write_ad_conf ENUMERATE [domain lines...]
write_ad_conf() {
	local enumerate=$1
	shift
	ad_dird_conf "$DIR_CONF" "enumerate = $enumerate
userdb_socket = $WORK/userdb/dird" "$(printf '%s\n' "$@")"
}
restart_dird() {
	dird_stop
	rm -rf "$WORK/cache"/*
	dird_start || exit 1
}
write_nsswitch "$WORK/nss" "files dir"
nss() { in_ns "$WORK/nss" "$@"; }

# --- idmap = rid, the whole directory read by a refresh -------------------------------------
write_ad_conf yes
restart_dird
dird_wait_refresh || exit 1
ALICE=$(id_of alice)
USERS=$((LOW + 513))
check_eq "getent passwd 'ADTEST\\alice': rid mapping, RFC 2307 home and shell kept" \
	"ADTEST\\alice:*:$ALICE:$USERS:Alice Example:/home/alice:/bin/bash" \
	"$(nss getent passwd 'ADTEST\alice')"
check_eq "getent passwd by uid" "ADTEST\\alice" "$(nss getent passwd "$ALICE" | cut -d: -f1)"
check_eq "a name in another case: the directory's case comes back" "ADTEST\\alice:$ALICE" \
	"$(nss getent passwd 'adtest\ALICE' | cut -d: -f1,3)"
check_eq "user@realm is accepted" "ADTEST\\alice" "$(nss getent passwd 'alice@AD.TEST' | cut -d: -f1)"
check_fails "a bare name is not served without use_default_domain" nss getent passwd alice
check_eq "no RFC 2307 data: home_template /home/%D/%U and default_shell" \
	"ADTEST\\bob:*:$(id_of bob):$USERS:Bob Builder:/home/ADTEST/bob:/bin/sh" \
	"$(nss getent passwd 'ADTEST\bob')"
check_eq "a non-default primaryGroupID is the primary gid" "$(id_of g_staff)" \
	"$(nss getent passwd 'ADTEST\henry' | cut -d: -f4)"
check_eq "getent group 'ADTEST\\domain users'" "ADTEST\\Domain Users:*:$USERS" \
	"$(nss getent group 'ADTEST\domain users' | cut -d: -f1-3)"
groups=$(nss id -Gn 'ADTEST\alice')
for g in 'ADTEST\g_inner' 'ADTEST\g_middle' 'ADTEST\g_outer'; do
	check "id: alice is in $g (nested three deep)" grep -qxF "$g" <(tr ' ' '\n' <<<"$groups")
done
check "id: alice's primary group is Domain Users" grep -qw "$USERS" <(nss id -G 'ADTEST\alice')
check_fails "id: a distribution group is never a group" grep -q dist_list <<<"$groups"
check_eq "a circular pair: carol is in both, once" "ADTEST\\cyc_a ADTEST\\cyc_b" \
	"$(nss id -Gn 'ADTEST\carol' | tr ' ' '\n' | grep cyc_ | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "an empty group" "ADTEST\\g_empty:*:$(id_of g_empty):" "$(nss getent group 'ADTEST\g_empty')"
check "g_outer lists alice through the nesting" grep -q 'ADTEST\\alice' <(nss getent group 'ADTEST\g_outer')
check_fails "BUILTIN groups are not served" nss getent group 'ADTEST\Administrators'
check_fails "BUILTIN's id is not served" nss getent group $((LOW + 544))
check_fails "computer accounts are not users" nss getent passwd 'ADTEST\DC1$'
all=$(nss getent passwd)
check "enumeration lists the domain's users" grep -q '^ADTEST\\carol:' <<<"$all"
check "enumeration: a non-ASCII name and gecos" grep -q "^ADTEST\\\\jürgen:\*:$(id_of jürgen):$USERS:Jürgen Müller:" <<<"$all"
check "enumeration: o'brien" grep -q "^ADTEST.o'brien:" <<<"$all"
check "enumeration: paren(1)" grep -q '^ADTEST.paren(1):' <<<"$all"
check "enumeration: groups too" grep -q '^ADTEST\\g_staff:' <(nss getent group)
check_eq "dirctl user takes an AD name in another form" "ADTEST\\alice" \
	"$("$BUILD/dirctl/dirctl" --json user 'alice@AD.test' | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])')"
check_eq "the cache record carries the SID and smb = true" "$AD_SID-$(rid alice) True" \
	"$("$BUILD/dirctl/dirctl" --json user 'ADTEST\alice' |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sid"], d["smb"])')"

# systemd's user records (test_userdb.sh has the rest): the SID, and names with a backslash,
# which systemd before 253 refuses in memberships (not 252.38: Debian took the fix) but not in
# records, so a user record's memberOf names the groups too.
udb() {
	in_ns "$WORK/nss" sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/userdb &&
		mount --bind "$0" /run/systemd/userdb && exec "$@"' "$WORK/userdb" \
		userdbctl --service=dird --with-nss=no --synthesize=no "$@"
}
udb_field() {
	python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(v if isinstance(v, str) else "\n".join(v or []))' "$1"
}
check_eq "userdb: ADTEST\\alice's record carries her SID (dirObjectSid)" "$AD_SID-$(rid alice)" \
	"$(udb -j user 'ADTEST\alice' | udb_field dirObjectSid)"
check_eq "userdb: found as alice@ad.test too" "ADTEST\\alice" "$(udb -j user 'alice@ad.test' | udb_field userName)"
check_eq "userdb: a group's SID" "$AD_SID-513" "$(udb -j group 'ADTEST\Domain Users' | udb_field dirObjectSid)"
check "userdb: memberOf names her nested groups" grep -qxF 'ADTEST\g_outer' \
	<(udb -j user 'ADTEST\alice' | udb_field memberOf)
check "userdb: groups-of-user 'ADTEST\\alice', backslashes and all" \
	grep -qxE 'ADTEST.alice +ADTEST.g_outer' <(udb groups-of-user 'ADTEST\alice')
check "userdb: users-in-group 'ADTEST\\g_outer' lists alice through the nesting" \
	grep -qxE 'ADTEST.alice +ADTEST.g_outer' <(udb users-in-group 'ADTEST\g_outer')
write_nsswitch "$WORK/nss.systemd" "files systemd"
check "nss-systemd: id 'ADTEST\\alice' has her nested groups through our memberships" grep -qw "$(id_of g_outer)" \
	<(in_ns "$WORK/nss.systemd" sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/userdb &&
		mount --bind "$0" /run/systemd/userdb && exec "$@"' "$WORK/userdb" id -G 'ADTEST\alice')

check_eq "dirctl status: the DC's clock was read (offset within a few seconds)" "True" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; o=json.load(sys.stdin)["domains"][0]["clock_offset"]; print(o is not None and abs(o) < 5)')"
check_eq "dirctl status: no clock warning when the clocks agree" "" "$("${CTL[@]}" status | grep -i clock)"
out=$("${CTL[@]}" test 2>&1)
check "dirctl test: every step passes against the DC" grep -q "^result: ok" <<<"$out"
check "dirctl test: the workgroup is the DC's NetBIOS name" grep -q "workgroup.*ADTEST: the DC says ADTEST" <<<"$out"
sed 's/^workgroup = adtest/workgroup = wrong/' "$DIR_CONF" >"$WORK/wrong.conf"
check "dirctl test: a workgroup that is not the DC's fails, naming the right one" \
	grep -q "WRONG: the DC says ADTEST" <("${CTL[@]}" -c "$WORK/wrong.conf" test 2>&1)
# Our clock 4 minutes ahead (libfaketime): a warning; 10 minutes: Kerberos would fail.
out=$(FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+4m' "${CTL[@]}" domain info 2>&1)
check_eq "dirctl domain info 4 minutes off: a warning, still ok" "0" "$?"
check "dirctl domain info 4 minutes off: says by how much" grep -q "clock is 2[34][0-9] s ahead of the directory's" <<<"$out"
FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+10m' "${CTL[@]}" domain info >"$WORK/out" 2>&1
check_eq "dirctl domain info 10 minutes off: fails" "1" "$?"
check "dirctl domain info 10 minutes off: Kerberos fails beyond 300 s" grep -q "Kerberos fails beyond 300 s" "$WORK/out"
# dird itself 4 minutes ahead: its refresh reads the DC's clock, logs it, and status warns.
dird_stop
env LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD:}/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1" \
	FAKETIME=+4m FAKETIME_DONT_FAKE_MONOTONIC=1 "$BUILD/dird/dird" -f -c "$DIR_CONF" >>"$WORK/dird.log" 2>&1 &
DIRD_PID=$!
dird_wait_refresh || exit 1
check "dird 4 minutes off: dirctl status warns" grep -q "clock is 2[34][0-9] s ahead of the directory's" \
	<("${CTL[@]}" status)
check "dird 4 minutes off: dird's log says so" grep -q "the DC's clock is -2[34][0-9] s from ours" "$WORK/dird.log"
restart_dird
dird_wait_refresh || exit 1
check_eq "dirctl sid-to-id" "uid $ALICE" "$("${CTL[@]}" sid-to-id "$AD_SID-$(rid alice)")"
check_eq "dirctl sid-to-id of a group" "gid $USERS" "$("${CTL[@]}" sid-to-id "$AD_SID-513")"
check_eq "dirctl sid-to-name" "ADTEST\\alice" "$("${CTL[@]}" sid-to-name "$AD_SID-$(rid alice)")"
check_eq "dirctl id-to-sid" "$AD_SID-$(rid alice)" "$("${CTL[@]}" id-to-sid "$ALICE")"
check_eq "dirctl id-to-sid --group" "$AD_SID-513" "$("${CTL[@]}" id-to-sid --group "$USERS")"
check_eq "dirctl name-to-sid, any case" "$AD_SID-$(rid g_outer)" "$("${CTL[@]}" name-to-sid 'adtest\G_OUTER')"
check_eq "dirctl --json sid-to-name: the whole account" "user ADTEST\\carol $(id_of carol)" \
	"$("${CTL[@]}" --json sid-to-name "$AD_SID-$(rid carol)" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["type"], d["name"], d["uid"])')"
"${CTL[@]}" sid-to-id S-1-5-32-544 >/dev/null 2>"$WORK/err"
check_eq "dirctl: a BUILTIN SID is not served (exit 5)" "5 BUILTIN" "$? $(grep -o BUILTIN "$WORK/err")"
"${CTL[@]}" sid-to-id S-1-5-21-9-9-9-1000 >/dev/null 2>&1
check_eq "dirctl: another domain's SID (exit 5)" 5 "$?"
for bad in S-1-5-21-x S-1-5-21--1 "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16" S-1-5-21-4294967296 junk; do
	"${CTL[@]}" sid-to-id "$bad" >/dev/null 2>&1
	check_eq "dirctl: '$bad' is refused as not a SID (exit 2)" 2 "$?"
done
"${CTL[@]}" id-to-sid 5000 >/dev/null 2>&1
check_eq "dirctl id-to-sid outside every range (exit 5)" 5 "$?"

# --- idmap = rid, lookups only (tokenGroups, LDAP filters with odd names) -------------------
write_ad_conf no
restart_dird
check_eq "lookup: 'adtest\\ALICE' found by asking the DC" "ADTEST\\alice:$ALICE" \
	"$(nss getent passwd 'adtest\ALICE' | cut -d: -f1,3)"
groups=$(nss id -Gn 'ADTEST\alice')
for g in 'ADTEST\g_inner' 'ADTEST\g_middle' 'ADTEST\g_outer'; do
	check "lookup: tokenGroups gives $g" grep -qxF "$g" <(tr ' ' '\n' <<<"$groups")
done
check_eq "lookup: tokenGroups has nothing from BUILTIN or distribution lists" \
	"$(printf '%s\n' "$USERS" "$(id_of g_inner)" "$(id_of g_middle)" "$(id_of g_outer)" | sort | tr '\n' ' ')" \
	"$(nss id -G 'ADTEST\alice' | tr ' ' '\n' | sort | tr '\n' ' ')"
check_eq "lookup: o'brien (an apostrophe in the filter)" "ADTEST\\o'brien" \
	"$(nss getent passwd "ADTEST\\o'brien" | cut -d: -f1)"
check_eq "lookup: paren(1) (parentheses escaped in the filter)" "ADTEST\\paren(1)" \
	"$(nss getent passwd 'ADTEST\paren(1)' | cut -d: -f1)"
check_fails "lookup: a filter injection finds nobody" nss getent passwd 'ADTEST\*'
check_eq "lookup: by uid through the objectSid" "ADTEST\\carol" \
	"$(nss getent passwd "$(id_of carol)" | cut -d: -f1)"
check_eq "lookup: a group by gid" "ADTEST\\g_outer" "$(nss getent group "$(id_of g_outer)" | cut -d: -f1)"
check_eq "lookup: a group's nested members" "ADTEST\\alice" \
	"$(nss getent group 'ADTEST\g_outer' | cut -d: -f4)"
check_fails "lookup: an id outside the range is never asked for" nss getent passwd 5000
check_fails "lookup: another workgroup's name" nss getent passwd 'OTHER\alice'

# --- DCs from DNS: _ldap._tcp.dc._msdcs.ad.test, asked of the DC's own DNS server ------------
write_ad_conf no "tls = starttls"
sed -i '/^uri = /d' "$DIR_CONF"
restart_dird
check_eq "no uri: the DC is found in DNS (SRV) and used with StartTLS" "ADTEST\\alice" \
	"$(nss getent passwd 'ADTEST\alice' | cut -d: -f1)"
check "dirctl status names the DC it found" grep -q "ldap://dc1.ad.test" <("$BUILD/dirctl/dirctl" status)

# --- a second (trusted) AD domain, its DC down: names and ids go to their own domain only ----
write_ad_conf no
cat >>"$DIR_CONF" <<CONF

[domain/other]
type = ad
realm = OTHER.TEST
workgroup = OTHER
uri = ldap://127.0.0.1:1
idmap_range = 300000000-300999999
bind_dn = svc@other.test
bind_password_file = $WORK/bindpw
CONF
restart_dird
start=$(now_ms)
check_eq "two domains: ADTEST's names are asked of ADTEST alone" "ADTEST\\alice" \
	"$(nss getent passwd 'ADTEST\alice' | cut -d: -f1)"
check_eq "two domains: ADTEST's ids too" "ADTEST\\carol" "$(nss getent passwd "$(id_of carol)" | cut -d: -f1)"
check "two domains: without waiting on the dead DC (< 2 s)" test $(($(now_ms) - start)) -lt 2000
check_fails "two domains: OTHER's names are not ADTEST's" nss getent passwd 'OTHER\alice'
check_fails "two domains: an id in OTHER's range is not ADTEST's" nss getent passwd 300001105
check "dirctl status: OTHER is offline, ADTEST online" \
	sh -c "'$BUILD/dirctl/dirctl' status | grep -q 'domain other: offline' && '$BUILD/dirctl/dirctl' status | grep -q 'domain adtest: online'"

# --- use_default_domain ---------------------------------------------------------------------
write_ad_conf no "use_default_domain = yes"
restart_dird
check_eq "use_default_domain: bare names" "alice:$ALICE" "$(nss getent passwd alice | cut -d: -f1,3)"
check_eq "use_default_domain: a qualified name gives the bare one" "alice" \
	"$(nss getent passwd 'ADTEST\alice' | cut -d: -f1)"

# --- idmap = ad: uidNumber and gidNumber inside the range -----------------------------------
write_ad_conf yes "idmap = ad" "idmap_range = 10000-19999"
restart_dird
dird_wait_refresh || exit 1
check_eq "idmap = ad: RFC 2307 ids" "ADTEST\\alice:*:10001:10000" \
	"$(nss getent passwd 'ADTEST\alice' | cut -d: -f1-4)"
check_eq "idmap = ad: groups by gidNumber" "ADTEST\\g_inner:*:10020" \
	"$(nss getent group 'ADTEST\g_inner' | cut -d: -f1-3)"
check "idmap = ad: nested groups by gidNumber" grep -qw 10022 <(nss id -G 'ADTEST\alice')
check_fails "idmap = ad: a uidNumber outside the range is not served" nss getent passwd 'ADTEST\outlier'
check_fails "idmap = ad: no uidNumber, not served" nss getent passwd 'ADTEST\bob'
check_fails "idmap = ad: a group without gidNumber is not served" nss getent group 'ADTEST\g_nogid'
write_ad_conf no "idmap = ad" "idmap_range = 10000-19999"
restart_dird
check_eq "idmap = ad lookups: by uidNumber" "ADTEST\\carol" "$(nss getent passwd 10003 | cut -d: -f1)"
check "idmap = ad lookups: tokenGroups through gidNumber" grep -qw 10022 <(nss id -G 'ADTEST\alice')
check_fails "idmap = ad lookups: outside the range" nss getent passwd 'ADTEST\outlier'
finish
