#!/bin/bash
# Kerberos logins end to end: a real MIT KDC and slapd, dird with auth = krb5, the real libpam
# with pam_dir.  Passwords are checked by the KDC and the answer verified with the host keytab; a
# rogue KDC of the same realm that knows the password but not the host key logs nobody in, and
# one that says an attacker-chosen password has expired gets no login, no password change and
# nothing into the credential cache; an expired password is changed at login and only the
# verified new one logs in; the user gets a ticket cache of their own that works for an nfs/
# service ticket.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd kdc

slapd_generated 5 5 3 || exit 1

# The rogue KDC first: the same realm, alice's password, but a host key of its own.
kdc_host_start "$WORK/rogue" "$WORK/rogue-host.keytab" alice alicepw || exit 1
E2E_PIDS+=("$KDC_PID" "$KADMIND_PID")
KDC_PID=

kdc_host_start "$WORK/kdc" "$WORK/host.keytab" alice alicepw bob bobpw || exit 1
kdc_addprinc carol carolpw -pwexpire 2020-01-01
kdc_keytab nfs/localhost "$WORK/nfs.keytab"

mkdir -m 1777 "$WORK/tickets"
write_dird_conf "$DIR_CONF" "$SLAPD_URI" "krb5_config = $WORK/kdc/krb5.conf
krb5_ccache_dir = $WORK/tickets
cache_credentials = yes"
cat >>"$DIR_CONF" <<CONF
auth = krb5
krb5_realm = EXAMPLE.TEST
krb5_keytab = $WORK/host.keytab
allow_password_change = yes
CONF
write_nsswitch "$WORK/nss" "files dir"
dird_start || exit 1
dird_wait_refresh || exit 1

MOD=$BUILD/pam_dir/pam_dir.so
mkdir "$WORK/pam.d"
cat >"$WORK/pam.d/bare" <<CONF
auth	required	$MOD
account	required	$MOD
session	required	$MOD
password	required	$MOD
CONF
pam() {
	local pw=$1; shift
	echo "$pw" | in_ns "$WORK/nss" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" "$@" 2>&1
}
# pam_lines "LINE\nLINE..." STEP... : each prompt gets the next line (a password, then new ones)
pam_lines() {
	local lines=$1; shift
	printf "$lines\n" | in_ns "$WORK/nss" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" "$@" 2>&1
}
EXPIRED="message: Your password has expired; choose a new one to log in."

check_eq "right password: the KDC says yes and the keytab proves it is ours" \
	"auth: Success" "$(pam alicepw bare alice auth)"
check_eq "wrong password: refused" "auth: Authentication failure" "$(pam wrong bare alice auth)"
check_eq "a directory user without a principal: refused" \
	"auth: Authentication failure" "$(pam x bare u00001 auth)"
check_eq "expired Kerberos password, right: no login before a new one is chosen (the same again is refused)" \
	"$EXPIRED
message: The new password must differ from the expired one.
auth: Authentication failure" "$(pam carolpw bare carol auth)"
check_eq "expired Kerberos password, wrong: refused, no new one asked for" \
	"auth: Authentication failure" "$(pam wrong bare carol auth)"
check_eq "expired Kerberos password: changed through kpasswd at login, verified, then let in" \
	"$EXPIRED
auth: Success
account: Success" "$(pam_lines 'carolpw\ncarolnewpw\ncarolnewpw' bare carol auth account)"
check "dird logs the change" grep -q "carol changed their password" "$WORK/dird.log"
check_eq "the new Kerberos password works" "auth: Success" "$(pam carolnewpw bare carol auth)"
check_eq "the old one does not" "auth: Authentication failure" "$(pam carolpw bare carol auth)"
check_eq "a Kerberos password change, verified with the host keytab" "chauthtok: Success" \
	"$(pam_lines 'bobpw\nbobnewpw\nbobnewpw' bare bob chauthtok)"
check_eq "bob's new password works" "auth: Success" "$(pam bobnewpw bare bob auth)"

# --- dirctl domain info -------------------------------------------------------------------------
info=$("$BUILD/dirctl/dirctl" -c "$DIR_CONF" --json domain info)
check_eq "domain info: the server, its port and the base" \
	"$SLAPD_URI $SLAPD_PORT dc=example,dc=test" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["server"], d["port"], d["bind_path"])' <<<"$info")"
check_eq "domain info: the realm and its KDC from krb5_config" "EXAMPLE.TEST 127.0.0.1:$KDC_PORT" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["realm"], d["kdc"])' <<<"$info")"
check "domain info: says when the server does not publish its time" \
	grep -q "server time:  not published" <("$BUILD/dirctl/dirctl" -c "$DIR_CONF" domain info)

# --- the ticket cache at login -----------------------------------------------------------------
pam alicepw bare alice auth setcred open env=KRB5CCNAME wait="$WORK/release" close \
	env=KRB5CCNAME >"$WORK/login.out" &
LOGIN=$!
for _ in $(seq 100); do grep -q "^KRB5CCNAME" "$WORK/login.out" && break; sleep 0.1; done
CC=$(sed -n 's/^KRB5CCNAME=FILE://p' "$WORK/login.out")
check "the login sets KRB5CCNAME to a file in krb5_ccache_dir" test -f "$CC"
case "$CC" in "$WORK/tickets/krb5cc_20001_"*) ok "the cache is named after the uid";;
	*) not_ok "the cache is named after the uid" "got $CC";; esac
check_eq "the cache belongs to the user, mode 0600" "20001 20000 600" "$(stat -c '%u %g %a' "$CC")"
check_eq "it holds alice's TGT" "alice@EXAMPLE.TEST" \
	"$(klist -c "$CC" 2>/dev/null | sed -n 's/^Default principal: //p')"
check "as alice, kvno nfs/localhost works with it (no kinit)" \
	setpriv --reuid=20001 --regid=20000 --clear-groups env KRB5CCNAME="FILE:$CC" kvno nfs/localhost
check_fails "as another user, the cache cannot be read" \
	setpriv --reuid=20002 --regid=20000 --clear-groups klist -c "$CC"
touch "$WORK/release"
wait "$LOGIN"
check_eq "close_session destroys the cache and unsets KRB5CCNAME" "close: Success
KRB5CCNAME unset" "$(tail -2 "$WORK/login.out")"
check_fails "the cache file is gone" test -e "$CC"
check_eq "no ticket cache is left in dird's run_dir" "" "$(ls "$WORK/run" | grep ccache)"

# --- no keytab -----------------------------------------------------------------------------------
mv "$WORK/host.keytab" "$WORK/host.keytab.away"
check_eq "no keytab: nobody logs in" "auth: Authentication failure" "$(pam alicepw bare alice auth)"
mv "$WORK/host.keytab.away" "$WORK/host.keytab"

# --- timing: with auth = krb5 an unknown user never reaches the KDC.  With the KDC 30 ms away
# (a slow TCP proxy; UDP off), a check that was skipped would show; dird waits as long as its
# checks take, so an unknown user is answered as late as a wrong password.  Medians of 15 each,
# asked straight on the PAM socket.
PROXY_PORT=$(free_port)
/usr/bin/python3 "$HERE/../lib/tcp_proxy.py" "$PROXY_PORT" "$KDC_PORT" --delay 30 &
PROXY=$!
cp "$WORK/kdc/krb5.conf" "$WORK/kdc/krb5.conf.direct"
sed -i "s|kdc = 127.0.0.1:$KDC_PORT|kdc = 127.0.0.1:$PROXY_PORT|; s|^\[libdefaults\]|[libdefaults]\n\tudp_preference_limit = 1|" \
	"$WORK/kdc/krb5.conf"
# dird's average follows the new speed after a few checks: 10 of each first, not counted
/usr/bin/python3 "$HERE/../tools/hostile_client.py" "$WORK/run/pam.sock" timing 10 bob >/dev/null
read -r unknown_ms wrong_ms < <(/usr/bin/python3 "$HERE/../tools/hostile_client.py" \
	"$WORK/run/pam.sock" timing 15 bob)
check "timing: an unknown user (${unknown_ms} ms) is not told apart from a wrong password (${wrong_ms} ms)" \
	python3 -c "import sys; u, w = $unknown_ms, $wrong_ms; sys.exit(0 if 0.75 * w <= u <= 1.5 * w else 1)"
mv "$WORK/kdc/krb5.conf.direct" "$WORK/kdc/krb5.conf"
kill "$PROXY"
wait "$PROXY" 2>/dev/null

# --- the KDC down --------------------------------------------------------------------------------
kdc_stop
start=$(date +%s%N)
out=$(pam alicepw bare alice auth)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "KDC down: unavailable" "auth: Authentication service cannot retrieve authentication info" "$out"
check "KDC down: answered in under 5 s (${ms} ms)" test "$ms" -lt 5000

# --- a rogue KDC ----------------------------------------------------------------------------------
# The realm's KDC, kadmin and kpasswd servers are now the rogue's (DNS, SRV or a man in the middle
# would do the same).
cp "$WORK/rogue/krb5.conf" "$WORK/kdc/krb5.conf"
check_eq "a rogue KDC that knows alice's password: refused" \
	"auth: Authentication failure" "$(pam alicepw bare alice auth)"
check "dird says why" grep -q "cannot be verified with $WORK/host.keytab" "$WORK/dird.log"
# Now the rogue has no host key, and alice with a password of the attacker's that has expired.
rogue() { KRB5_KDC_PROFILE=$WORK/rogue/kdc.conf kadmin.local -r EXAMPLE.TEST -q "$1" >>"$WORK/rogue/kadmin.log" 2>&1; }
rogue_expired() { rogue "cpw -pw evilpw alice" && rogue "modprinc -pwexpire 2020-01-01 alice"; }
rogue "delprinc -force host/localhost"
rogue_expired
check_eq "a rogue KDC that says the attacker's password has expired: the change at login is not accepted, no login" \
	"$EXPIRED
message: The new password could not be verified; the change is not accepted here.
auth: Authentication failure" "$(pam_lines 'evilpw\nattackerpw\nattackerpw' bare alice auth account)"
check "dird says why" grep -q "alice's password change is not accepted" "$WORK/dird.log"
rogue_expired # (its kpasswd took attackerpw)
check_eq "... nor a password change through it" \
	"message: The new password could not be verified; the change is not accepted here.
chauthtok: Authentication token manipulation error" \
	"$(pam_lines 'evilpw\nattacker2pw\nattacker2pw' bare alice chauthtok)"
check_eq "no ticket cache was made for the rogue logins" "" "$(ls "$WORK/tickets")"

if grep -q -e alicepw -e carolpw -e evilpw -e attackerpw "$WORK/dird.log"; then
	not_ok "no password in dird's log" "found one"
else
	ok "no password in dird's log"
fi

# --- the directory down: cached credentials (cache_credentials = yes) ----------------------------
slapd_stop
check_eq "directory offline: alice's password from a verified login works (cached)" \
	"auth: Success" "$(pam alicepw bare alice auth)"
check_eq "... the passwords the rogue KDC took were never cached" \
	"auth: Authentication failure
auth: Authentication failure" "$(pam attackerpw bare alice auth; pam attacker2pw bare alice auth)"
check_eq "... carol's verified new password was" "auth: Success" "$(pam carolnewpw bare carol auth)"
finish
