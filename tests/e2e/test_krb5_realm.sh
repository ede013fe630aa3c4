#!/bin/bash
# Kerberos as a storage host sets it up: a real MIT KDC, realms in dird.conf rendered into the
# krb5.conf that kinit then uses, keytabs installed with dirctl keytab (merged into the host
# keytab, listed, removed, refused when malformed), a kadmin ktadd that makes the installed key
# stale and keytab check saying so, dirctl test for a realm, and a domain that binds with a
# principal of the host keytab (slapd with GSSAPI).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd kdc

kdc_host_start "$WORK/kdc" "$WORK/nas.keytab" alice alicepw || exit 1
kdc_keytab nfs/localhost "$WORK/nas.keytab"
# A key the host keytab got some other way (as dirctl ads join writes one): it must stay.
kdc_keytab cifs/localhost "$WORK/host.keytab"

# slapd lets only dird's principal (host/localhost, through GSSAPI) read the users.
python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 5 --big-group 5 --many-groups 3
slapd_gssapi "$WORK/slapd" "$WORK/data/data.ldif" || exit 1

# dird.conf: the realm and the host keytab; the domain binds as a principal of that keytab.
write_dird_conf "$DIR_CONF" "ldap://localhost:$SLAPD_PORT" "krb5_config = $WORK/krb5.conf
state_dir = $WORK/state"
sed -i '/^bind_dn/d; /^bind_password_file/d' "$DIR_CONF"
cat >>"$DIR_CONF" <<CONF
keytab_principal = host/localhost@EXAMPLE.TEST

[kerberos]
keytab = $WORK/host.keytab
libdefaults = ticket_lifetime = 10h

[realm/EXAMPLE.TEST]
kdc = 127.0.0.1:$KDC_PORT
admin_server = 127.0.0.1:$KDC_ADMIN_PORT
local_users = yes
CONF
unset KRB5_CONFIG # from here on, only the krb5.conf dirctl writes
# DNS inside a namespace of our own: a resolver on 127.0.0.1:53 where nothing listens
echo "nameserver 127.0.0.1" >"$WORK/resolv.conf"
write_nsswitch "$WORK/nss" "files dir"
ctl_ns() { in_ns "$WORK/nss" --bind "$WORK/resolv.conf" /etc/resolv.conf "${CTL[@]}" "$@"; }

# --- realms into krb5.conf -----------------------------------------------------------------------
conf=$("${CTL[@]}" krb5conf)
check "krb5conf: the realm's KDC and admin server" grep -qzP \
	"\tEXAMPLE.TEST = \{\n\t\tkdc = 127.0.0.1:$KDC_PORT\n\t\tadmin_server = 127.0.0.1:$KDC_ADMIN_PORT\n\t\}" <<<"$conf"
check "krb5conf: it is the default realm" grep -qx $'\tdefault_realm = EXAMPLE.TEST' <<<"$conf"
check "krb5conf: no DNS for KDCs when every realm names them" grep -qx $'\tdns_lookup_kdc = false' <<<"$conf"
check "krb5conf: [kerberos]'s libdefaults line" grep -qx $'\tticket_lifetime = 10h' <<<"$conf"
check "krb5conf: the DNS domain in lower case" grep -qx $'\t.example.test = EXAMPLE.TEST' <<<"$conf"
check_eq "krb5conf --write writes krb5_config" "$WORK/krb5.conf: written" "$("${CTL[@]}" krb5conf --write)"
check_eq "the file is what krb5conf prints" "$conf" "$(cat "$WORK/krb5.conf")"
check "kinit uses it: alice gets a ticket" sh -c "echo alicepw | KRB5_CONFIG='$WORK/krb5.conf' \
	kinit -c 'FILE:$WORK/alice.cc' alice >/dev/null"
check_eq "the ticket is alice's, from EXAMPLE.TEST" "alice@EXAMPLE.TEST" \
	"$(klist -c "$WORK/alice.cc" | sed -n 's/^Default principal: //p')"
check_eq "--write again: unchanged" "$WORK/krb5.conf: unchanged" "$("${CTL[@]}" krb5conf --write)"
check_fails "and no backup made for nothing" test -e "$WORK/krb5.conf.dirctl-backup"
cp "$WORK/krb5.conf" "$WORK/krb5.conf.before"
sed -i "s/^libdefaults = ticket_lifetime = 10h/libdefaults = ticket_lifetime = 10h\nlibdefaults = forwardable = false/" "$DIR_CONF"
check_eq "a change: written, the previous file kept" \
	"$WORK/krb5.conf: written (the previous one is $WORK/krb5.conf.dirctl-backup)" \
	"$("${CTL[@]}" krb5conf --write)"
check "the backup is the previous file" cmp "$WORK/krb5.conf.before" "$WORK/krb5.conf.dirctl-backup"
check_eq "a libdefaults line replaces the tag krb5conf would write" $'\tforwardable = false' \
	"$(grep forwardable "$WORK/krb5.conf")"
# An AD domain whose dns_domain holds a '{': [domain_realm] would not parse.
cp "$WORK/krb5.conf" "$WORK/krb5.conf.good"
cp "$DIR_CONF" "$WORK/unparsed.conf"
printf '\n[domain/ad]\ntype = ad\nrealm = AD.TEST\nworkgroup = ADTEST\ndns_domain = ad.test {\n' >>"$WORK/unparsed.conf"
out=$("$BUILD/dirctl/dirctl" -c "$WORK/unparsed.conf" krb5conf --write 2>&1)
check "a krb5.conf libkrb5 cannot read is not written" grep -q "libkrb5 cannot read the krb5.conf it would get: .*; nothing changed" <<<"$out"
check "...nothing changed: krb5.conf" cmp "$WORK/krb5.conf.good" "$WORK/krb5.conf"
check "...nor the backup, the file before the last change" cmp "$WORK/krb5.conf.before" "$WORK/krb5.conf.dirctl-backup"

# A value with %{uid} in it (TrueNAS's default_ccache_name) is a value like any other; one that
# would open a {...} subsection is not.
sed "s|^libdefaults = ticket_lifetime = 10h|libdefaults = default_ccache_name = FILE:$WORK/cc_%{uid}|; s|^krb5_config = .*|krb5_config = $WORK/ccname.krb5|" \
	"$DIR_CONF" >"$WORK/ccname.conf"
out=$("$BUILD/dirctl/dirctl" -c "$WORK/ccname.conf" krb5conf --write 2>&1)
check_eq "krb5conf: libdefaults = default_ccache_name = FILE:.../cc_%{uid} is taken" \
	"$WORK/ccname.krb5: written" "$out"
check "and kinit puts alice's ticket where it says, %{uid} expanded" sh -c "echo alicepw | \
	KRB5_CONFIG='$WORK/ccname.krb5' kinit alice >/dev/null && test -s '$WORK/cc_0'"
sed -i 's|^libdefaults = default_ccache_name.*|&\nlibdefaults = realm_opts = {|' "$WORK/ccname.conf"
check "a libdefaults value that opens a subsection is refused" sh -c \
	"'$BUILD/dirctl/dirctl' -c '$WORK/ccname.conf' krb5conf 2>&1 | grep -q \"libdefaults: 'realm_opts = {' is not a krb5.conf relation\""

# --- wrong case, no KDCs -------------------------------------------------------------------------
sed 's/^\[realm\/EXAMPLE.TEST\]/[realm\/example.test]/' "$DIR_CONF" >"$WORK/lower.conf"
line=$(grep -n '^\[realm/' "$WORK/lower.conf" | cut -d: -f1)
check_eq "a realm in lower case: refused with the right spelling" \
	"dirctl: $WORK/lower.conf:$line: [realm/example.test]: Kerberos realms are upper case: [realm/EXAMPLE.TEST]" \
	"$("$BUILD/dirctl/dirctl" -c "$WORK/lower.conf" krb5conf 2>&1)"
out=$("${CTL[@]}" test example.test 2>&1)
check_eq "dirctl test of a realm in the wrong case names the right one" \
	"dirctl: no domain example.test in $DIR_CONF, nor a realm (Kerberos realms are upper case: EXAMPLE.TEST)" "$out"
cp "$DIR_CONF" "$WORK/nokdc.conf"
printf '\n[realm/NOKDC.TEST]\n' >>"$WORK/nokdc.conf"
out=$("$BUILD/dirctl/dirctl" -c "$WORK/nokdc.conf" krb5conf 2>&1 >"$WORK/nokdc.krb5")
check_eq "krb5conf: a realm without KDCs is named on stderr" \
	"dirctl: NOKDC.TEST: no kdc in its [realm/] section: libkrb5 will look for the KDCs in DNS (_kerberos._udp.NOKDC.TEST)" "$out"
check "and krb5.conf then asks DNS for KDCs" grep -qx $'\tdns_lookup_kdc = true' "$WORK/nokdc.krb5"
out=$(in_ns "$WORK/nss" --bind "$WORK/resolv.conf" /etc/resolv.conf "$BUILD/dirctl/dirctl" -c "$WORK/nokdc.conf" test NOKDC.TEST 2>&1)
check "dirctl test: a realm without KDCs fails at kdcs" grep -q "^result: FAILED at kdcs" <<<"$out"
check "and says where to name them" grep -qF "cause: name the realm's KDCs in dird.conf ([realm/NOKDC.TEST] kdc = HOST[:PORT])" <<<"$out"

# --- an AD domain's uris: only host names reach krb5.conf -----------------------------------------
# ldap_url_parse decodes %XX in a host: this one would be "dc1.ad.test", a line break and a KDC.
cp "$DIR_CONF" "$WORK/uri.conf"
printf '\n[domain/ad]\ntype = ad\nrealm = AD.TEST\nworkgroup = ADTEST\nuri = %s %s\n' \
	'ldaps://dc1.ad.test%0A%09%09kdc%20%3D%20192.0.2.9/' 'ldaps://dc2.ad.test/' >>"$WORK/uri.conf"
out=$("$BUILD/dirctl/dirctl" -c "$WORK/uri.conf" krb5conf 2>"$WORK/uri.err")
check_eq "krb5conf: a uri whose host decodes to a line break and more adds no line to krb5.conf" \
	"" "$(grep 192.0.2.9 <<<"$out")"
check "the realm's KDC is the other uri's host" grep -qzP \
	"\tAD.TEST = \{\n\t\tkdc = dc2.ad.test\n\t\tadmin_server = dc2.ad.test\n\t\}" <<<"$out"
check "and dirctl says which uri it left out" grep -qF \
	"dirctl: [domain/ad]: the host of ldaps://dc1.ad.test%0A%09%09kdc%20%3D%20192.0.2.9/ is not a host name; not in krb5.conf" \
	"$WORK/uri.err"

# --- keytabs ---------------------------------------------------------------------------------------
out=$("${CTL[@]}" keytab add nas "$WORK/nas.keytab")
check_eq "keytab add: its keys go into the host keytab" "$WORK/host.keytab: 6 keys (was 2)
keytab nas added: 4 keys (host/localhost@EXAMPLE.TEST, nfs/localhost@EXAMPLE.TEST)" "$out"
check_eq "the host keytab is root's, mode 0600" "0 600" "$(stat -c '%u %a' "$WORK/host.keytab")"
check_eq "the keytab is kept whole, root only" "600 700 700" \
	"$(stat -c %a "$WORK/state/keytabs/nas.keytab" "$WORK/state/keytabs" "$WORK/state" | tr '\n' ' ' | sed 's/ $//')"
check "the stored copy is the file" cmp "$WORK/nas.keytab" "$WORK/state/keytabs/nas.keytab"
check_eq "the host keytab holds the new keys and the one it had" \
	"cifs/localhost@EXAMPLE.TEST host/localhost@EXAMPLE.TEST nfs/localhost@EXAMPLE.TEST" \
	"$(klist -k "$WORK/host.keytab" | awk 'NR > 3 { print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"
json=$("${CTL[@]}" --json keytab list)
check_eq "keytab list --json: the keytab, its principals, kvno and enctypes" \
	"nas host/localhost@EXAMPLE.TEST 2 aes256-cts-hmac-sha1-96,nfs/localhost@EXAMPLE.TEST 2 aes256-cts-hmac-sha1-96" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin); k=d["keytabs"][0]
print(k["name"], ",".join(sorted({"%s %d %s" % (e["principal"], e["kvno"], e["enctype"]) for e in k["entries"] if e["enctype"].startswith("aes256")})))' <<<"$json")"
check_eq "keytab list --json: what uses the host key" \
	"[domain/example] binds as it|[realm/EXAMPLE.TEST] verifies local users' logins with it" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin)
print("|".join(next(e["used_by"] for e in d["keytabs"][0]["entries"] if e["principal"].startswith("host/"))))' <<<"$json")"
check_eq "keytab list --json: the host keytab's other key, and its timestamp" "cifs/localhost@EXAMPLE.TEST True" \
	"$(python3 -c 'import json,sys,time; d=json.load(sys.stdin); e=d["other_entries"][0]
print(e["principal"], abs(e["timestamp"] - time.time()) < 600)' <<<"$json")"
check "keytab list: the same as text" grep -q "^keytab nas (added " <("${CTL[@]}" keytab list)
before=$(klist -k "$WORK/host.keytab" | tail -n +4 | sort)
check "the same keytab under a second name (from stdin)" "${CTL[@]}" keytab add copy - <"$WORK/nas.keytab"
check_eq "adds no duplicate (principal, kvno, enctype)" "$before" "$(klist -k "$WORK/host.keytab" | tail -n +4 | sort)"
check "keytab remove copy" "${CTL[@]}" keytab remove copy
check_eq "takes out nothing another keytab holds" "$before" "$(klist -k "$WORK/host.keytab" | tail -n +4 | sort)"
check_fails "its copy is gone" test -e "$WORK/state/keytabs/copy.keytab"
# A copy of the host keytab itself installed (as an administrator who registers the keytab the
# host has): its removal leaves the key the host keytab had from elsewhere.
cp "$WORK/host.keytab" "$WORK/snapshot.keytab"
check "the host keytab's own keys installed as a keytab" "${CTL[@]}" keytab add snapshot "$WORK/snapshot.keytab"
check "keytab remove snapshot" "${CTL[@]}" keytab remove snapshot
check_eq "leaves every key, the one from elsewhere too" "$before" "$(klist -k "$WORK/host.keytab" | tail -n +4 | sort)"
check "which keytab list still shows as from elsewhere" grep -q "cifs/localhost@EXAMPLE.TEST" \
	<("${CTL[@]}" keytab list | sed -n '/^in the host keytab from elsewhere/,$p')
check_fails "keytabs are root's: refused as nobody" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"${CTL[@]}" keytab list
check_eq "a name that is not a name: usage" 2 "$("${CTL[@]}" keytab add ../x "$WORK/nas.keytab" >/dev/null 2>&1; echo $?)"

# Malformed keytabs: refused with the reason, nothing changes.
cp "$WORK/host.keytab" "$WORK/host.keytab.before"
head -c 300 /dev/urandom >"$WORK/garbage.keytab"
head -c 150 "$WORK/nas.keytab" >"$WORK/cut.keytab"
: >"$WORK/empty.keytab"
printf '\005\002' >"$WORK/nokeys.keytab"
check_eq "garbage: refused with libkrb5's reason" \
	"dirctl: $WORK/garbage.keytab is not a keytab we can use: Unsupported key table format version number" \
	"$("${CTL[@]}" keytab add bad "$WORK/garbage.keytab" 2>&1)"
out=$("${CTL[@]}" keytab add bad "$WORK/cut.keytab" 2>&1)
check "a keytab cut short: refused, where it is cut (libkrb5 alone would read half of it)" \
	grep -q "^dirctl: $WORK/cut.keytab is not a keytab we can use: cut short: the record at byte 88 is " <<<"$out"
check_eq "an empty file: refused" \
	"dirctl: $WORK/empty.keytab is not a keytab we can use: Unsupported key table format version number" \
	"$("${CTL[@]}" keytab add bad "$WORK/empty.keytab" 2>&1)"
check_eq "a keytab without keys: refused" \
	"dirctl: stdin is not a keytab we can use: it holds no key" \
	"$("${CTL[@]}" keytab add bad - <"$WORK/nokeys.keytab" 2>&1)"
check "the host keytab is as it was" cmp "$WORK/host.keytab" "$WORK/host.keytab.before"
check_eq "nothing stored for them" "nas.keytab" "$(ls "$WORK/state/keytabs")"

# A host keytab that is a link (to a file kept on another file system, say): read through it, and
# written where it points, the link kept.
mkdir "$WORK/elsewhere"
cp "$WORK/host.keytab.before" "$WORK/elsewhere/krb5.keytab"
ln -s "$WORK/elsewhere/krb5.keytab" "$WORK/link.keytab"
sed -e "s|^keytab = .*|keytab = $WORK/link.keytab|" -e "s|^state_dir = .*|state_dir = $WORK/state2|" \
	"$DIR_CONF" >"$WORK/link.conf"
LCTL=("$BUILD/dirctl/dirctl" -c "$WORK/link.conf")
check "a host keytab that is a link: keytab list reads it" grep -q "^host keytab $WORK/link.keytab: 6 keys" \
	<("${LCTL[@]}" keytab list 2>&1)
kdc_keytab smb/localhost "$WORK/smb.keytab"
check "keytab add writes it" "${LCTL[@]}" keytab add smb "$WORK/smb.keytab"
check "the link is still a link" test -L "$WORK/link.keytab"
check "and the file it points to has the new key" grep -q " smb/localhost@EXAMPLE.TEST" \
	<(klist -k "$WORK/elsewhere/krb5.keytab")

# --- a domain binds with a principal of the host keytab ----------------------------------------------
dird_start || exit 1
dird_wait_refresh || exit 1
check_eq "users are served through a GSSAPI bind as keytab_principal" "20001" \
	"$(in_ns "$WORK/nss" getent passwd alice | cut -d: -f3)"
check "dird got its ticket from the host keytab" \
	grep -q "got a Kerberos ticket for host/localhost@EXAMPLE.TEST from $WORK/host.keytab" "$WORK/dird.log"
out=$("${CTL[@]}" keytab remove nas 2>&1)
check_eq "keytab remove: refused while the domain binds with one of its keys" \
	"dirctl: [domain/example] binds as host/localhost@EXAMPLE.TEST with the host keytab; it would lose that key: change its keytab_principal first" "$out"
check "and the host keytab is as it was" cmp "$WORK/host.keytab" "$WORK/host.keytab.before"

# --- keytab check: each key proven; a kadmin ktadd makes one stale ------------------------------------
out=$("${CTL[@]}" keytab check)
check "keytab check: every key is the KDC's" grep -q "^result: ok" <<<"$out"
check "keytab check: from the key's own initial credentials" \
	grep -q "initial credentials from the key of cifs/localhost@EXAMPLE.TEST" <<<"$out"
kdc_ktadd nfs/localhost "$WORK/nfs3.keytab" # the KDC's nfs key is kvno 3 now
out=$("${CTL[@]}" keytab check)
rc=$?
check_eq "after a kadmin ktadd: keytab check fails" 1 "$rc"
check "the nfs key is stale: ours kvno 2, the KDC's 3" \
	grep -qx "  nfs/localhost@EXAMPLE.TEST  kvno 2  stale: the KDC's kvno is 3" <<<"$out"
check "with the fix" grep -q 'fix: the KDC has a newer key.*ktadd -norandkey' <<<"$out"
check_eq "keytab check --json: the verdicts" "cifs ok 2 2|host ok 2 2|nfs stale 2 3" \
	"$("${CTL[@]}" --json keytab check | python3 -c 'import json,sys
print("|".join("%s %s %s %s" % (p["principal"].split("/")[0], p["verdict"], p["kvno"], p["kdc_kvno"]) for p in sorted(json.load(sys.stdin)["principals"], key=lambda p: p["principal"])))')"
out=$(ctl_ns test EXAMPLE.TEST)
check "dirctl test of the realm fails at its keys too" grep -q "^result: FAILED at keys" <<<"$out"
check "dirctl add of the new key" "${CTL[@]}" keytab add nfs3 "$WORK/nfs3.keytab"
check "keytab check: all the KDC's again" "${CTL[@]}" keytab check

# --- dirctl test for the realm ---------------------------------------------------------------------
out=$(ctl_ns test EXAMPLE.TEST)
check "dirctl test EXAMPLE.TEST: ok" grep -q "^result: ok" <<<"$out"
check "the KDC from the krb5.conf in use" grep -qE "^  kdcs +ok .* 127.0.0.1:$KDC_PORT \(from $WORK/krb5.conf\)" <<<"$out"
check "port reached" grep -qE "^  connect +ok .* 127.0.0.1 port $KDC_PORT" <<<"$out"
check "the clock" grep -qE "^  clock +ok .* the KDC's clock is [+-][01] s from ours" <<<"$out"
check "the realm's keys" grep -qE "^  keys +ok .* 3 principals of EXAMPLE.TEST in $WORK/host.keytab: each one's key is the KDC's" <<<"$out"
out=$(ctl_ns test)
check "dirctl test: the domain, then the realm" \
	test "$(grep -c '^result: ok' <<<"$out") $(grep -c '^realm EXAMPLE.TEST' <<<"$out")" = "2 1"
out=$(in_ns "$WORK/nss" --bind "$WORK/resolv.conf" /etc/resolv.conf faketime -f +400s "${CTL[@]}" test EXAMPLE.TEST)
check "a clock 400 s off: FAILED at clock" grep -q "^result: FAILED at clock" <<<"$out"
check "and says by how much" grep -qE "the KDC's clock is -(399|400|401) s from ours" <<<"$out"
sed -i "s/^\t\tkdc = 127.0.0.1:$KDC_PORT/\t\tkdc = 127.0.0.1:$(free_port)\n&/" "$WORK/krb5.conf"
out=$(ctl_ns test EXAMPLE.TEST)
check "a KDC that does not answer, then one that does: ok" grep -q "^result: ok" <<<"$out"
check "the first is named" grep -qE "^  connect +FAIL .*Connection refused" <<<"$out"
check "a note: krb5.conf is not what dird.conf renders" grep -q "note: $WORK/krb5.conf is not what dirctl krb5conf renders" <<<"$out"
kdc_stop
out=$(ctl_ns test EXAMPLE.TEST)
check "the KDC down: FAILED at connect" grep -q "^result: FAILED at connect" <<<"$out"
dird_stop
check_eq "dird exits cleanly (under the sanitizers: without a report)" 0 "$DIRD_RC"
finish
