#!/bin/bash
# PAM against a real Samba AD DC: the real libpam runs pam_dir stacks for AD users with a bind as
# the user over TLS and with Kerberos (verified with the host key of dirctl ads join), for disabled,
# expired, locked out and must-change accounts, and changes a password through kpasswd.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/samba_dc.sh"
ad_test_start "$0" "$@" || exit 1
PW=$AD_USER_PASSWORD

# write_ad_conf [domain lines...]
write_ad_conf() { ad_dird_conf "$DIR_CONF" "krb5_ccache_dir = $WORK" "$(printf '%s\n' "$@")"; }
# reload_dird: SIGHUP, and wait until dird says it read the file again
reload_dird() {
	local before
	before=$(grep -c "configuration reloaded" "$WORK/dird.log")
	kill -HUP "$DIRD_PID"
	for _ in $(seq 50); do
		[ "$(grep -c "configuration reloaded" "$WORK/dird.log")" -gt "$before" ] && return 0
		sleep 0.1
	done
	echo "dird did not reload" >&2
}
write_ad_conf
write_nsswitch "$WORK/nss" "files dir"
dird_start || exit 1
dird_wait_refresh || exit 1

pam_stacks "$WORK/pam.d"
NS=(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d)
# pam PASSWORD SERVICE USER STEP... : the output of pam_run
pam() {
	local pw=$1; shift
	echo "$pw" | "${NS[@]}" "$BUILD/tests/pam_run" "$@" 2>&1
}

# --- a bind as the user over TLS (auth = ldap) ------------------------------------------------
check_eq "AD user, right password, shipped truenas stack" "auth: Success
account: Success" "$(pam "$PW" truenas 'ADTEST\alice' auth account)"
check_eq "AD user, wrong password" "auth: Authentication failure" "$(pam wrong truenas 'ADTEST\alice' auth)"
check_eq "a good login after the failure (the domain locks out after 5)" "auth: Success" \
	"$(pam "$PW" bare 'ADTEST\alice' auth)"
check_eq "another case and user@realm log in too" "auth: Success
auth: Success" "$(pam "$PW" bare 'adtest\ALICE' auth; pam "$PW" bare 'alice@ad.test' auth)"
check_eq "a bare name is not an AD user here (falls through)" \
	"auth: User not known to the underlying authentication module" "$(pam "$PW" bare alice auth)"
check_eq "disabled (userAccountControl): the right password is refused, with the reason" \
	"message: Your account is disabled; contact your administrator.
auth: Authentication failure" "$(pam "$PW" bare 'ADTEST\dave' auth)"
check_eq "disabled: the wrong password says nothing more" "auth: Authentication failure" \
	"$(pam wrong bare 'ADTEST\dave' auth)"
check_eq "disabled: the account check denies it" "message: Your account is disabled; contact your administrator.
account: Permission denied" "$(pam x bare 'ADTEST\dave' account)"
check_eq "expired (accountExpires): refused, with the reason" \
	"message: Your account has expired; contact your administrator.
auth: Authentication failure" "$(pam "$PW" bare 'ADTEST\erin' auth)"
check_eq "expired: the account check says expired" "message: Your account has expired; contact your administrator.
account: User account has expired" "$(pam x bare 'ADTEST\erin' account)"
check_eq "locked out (lockoutTime): refused" "auth: Authentication failure" "$(pam "$PW" bare 'ADTEST\frank' auth)"
check_eq "locked out: the account check denies it (msDS-User-Account-Control-Computed)" \
	"message: Your account is locked; contact your administrator.
account: Permission denied" "$(pam x bare 'ADTEST\frank' account)"
check_eq "must change (pwdLastSet = 0): the password is right, a new one is required" \
	"auth: Success
message: You are required to change your password immediately (administrator enforced).
account: Authentication token is no longer valid; new one required" \
	"$(pam "$PW" bare 'ADTEST\grace' auth account)"
check_eq "must change: the account check alone says so" \
	"message: You are required to change your password immediately (administrator enforced).
account: Authentication token is no longer valid; new one required" "$(pam x bare 'ADTEST\grace' account)"
check_eq "must change, wrong password: refused" "auth: Authentication failure" \
	"$(pam wrong bare 'ADTEST\grace' auth)"

# --- access_groups: a group alice is in through two nested ones (tokenGroups) ------------------------
write_ad_conf "access_groups = adtest\\G_OUTER"
reload_dird
check_eq "access_groups: alice is in g_outer through g_middle and g_inner" "account: Success" \
	"$(pam x bare 'ADTEST\alice' account)"
check_eq "access_groups: carol is not" "message: You are not allowed to log in to this host.
account: Permission denied" "$(pam x bare 'ADTEST\carol' account)"
sed -i "s|^uri = .*|uri = ldaps://127.0.0.1:1|" "$DIR_CONF"
reload_dird
check_eq "access_groups with the DC out of reach: the cache still lets alice in" "account: Success" \
	"$(pam x bare 'ADTEST\alice' account)"
check_eq "access_groups with the DC out of reach: and keeps carol out" "message: You are not allowed to log in to this host.
account: Permission denied" "$(pam x bare 'ADTEST\carol' account)"

# --- password changes go through kpasswd on AD ---------------------------------------------------
write_ad_conf "allow_password_change = yes"
reload_dird
NEW='New-Pass.456'
check_eq "must change: logged in, made to change it (kpasswd), then let in" \
	"auth: Success
message: You are required to change your password immediately (administrator enforced).
account: Authentication token is no longer valid; new one required
chauthtok-expired: Success
account: Success" \
	"$(printf '%s\n' "$PW" "$PW" "$NEW" "$NEW" | "${NS[@]}" "$BUILD/tests/pam_run" bare 'ADTEST\grace' auth account chauthtok-expired account 2>&1)"
check_eq "grace's new password works" "auth: Success" "$(pam "$NEW" bare 'ADTEST\grace' auth)"
check_eq "the old one does not" "auth: Authentication failure" "$(pam "$PW" bare 'ADTEST\grace' auth)"

# --- the machine account: dirctl ads join (adcli underneath) --------------------------------------
KT=$WORK/krb5.keytab
write_ad_conf "krb5_keytab = $KT"
echo "" | "${CTL[@]}" ads join --fqdn nas1.ad.test >/dev/null 2>&1
check_eq "ads join: no password on stdin is refused before anything (exit 2)" "2 no" \
	"$? $(test -e "$KT" && echo yes || echo no)"
printf 'wrong\n' | "${CTL[@]}" ads join --fqdn nas1.ad.test >/dev/null 2>"$WORK/err"
check_eq "ads join: a wrong administrator password fails and says so" "1" "$?"
check "ads join: adcli's reason is shown" grep -qi "password\|credentials\|authenticate" "$WORK/err"
# with_systemd CMD...: CMD where systemd seems to run the host (/run/systemd/system) and
# systemctl is a stub that logs its arguments
mkdir "$WORK/bin"
printf '#!/bin/sh\necho "$*" >>"%s/systemctl.log"\n' "$WORK" >"$WORK/bin/systemctl"
chmod +x "$WORK/bin/systemctl"
with_systemd() {
	unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system &&
		PATH="$0:$PATH" exec "$@"' "$WORK/bin" "$@"
}
out=$(printf '%s\n' "$AD_ADMIN_PASSWORD" | with_systemd "${CTL[@]}" ads join --fqdn nas1.ad.test 2>&1)
check_eq "ads join: joined" "joined AD.TEST as NAS1\$ (nas1.ad.test); keys for host/, nfs/ and cifs/ in $KT" "$(head -1 <<<"$out")"
check_eq "ads join: enables the daily machine password timer through systemctl" \
	"enable --now dird-machine-password.timer" "$(cat "$WORK/systemctl.log" 2>&1)"
keys=$(klist -ke "$KT" 2>&1)
for p in 'NAS1\$@AD.TEST' host/nas1.ad.test@AD.TEST nfs/nas1.ad.test@AD.TEST cifs/nas1.ad.test@AD.TEST; do
	check "ads join: the keytab has $p with an AES key" grep -q "$p (aes256-cts-hmac-sha1-96)" <<<"$keys"
done
check_eq "ads join: the keytab is root's, mode 600" "0 600" "$(stat -c '%u %a' "$KT")"
check "ads join: the DC has the computer account" \
	grep -q "sAMAccountName: NAS1\\$" <(ldbsearch -H "$AD_DIR/dc/private/sam.ldb" '(sAMAccountName=NAS1$)' sAMAccountName 2>/dev/null)
check "ads test: the machine account works" "${CTL[@]}" ads test
info=$("${CTL[@]}" ads info 2>&1)
for line in "LDAP server: $AD_HOST" "LDAP server name: dc1.ad.test" "Realm: AD.TEST" \
	"Bind Path: DC=ad,DC=test" "LDAP port: 636" "KDC server: $AD_IP"; do
	check "ads info: $line" grep -qxF "$line" <<<"$info"
done
check "ads info: the server time and its offset" grep -qE "^Server time offset: -?[0-9]$" <<<"$info"
check "ads info: the last machine password change is today" \
	grep -q "^Last machine account password change: $(date -u +%Y-%m-%d)" <<<"$info"
check_eq "ads info --json: TrueNAS's fields" \
	"bind_path kdc_server last_machine_account_password_change ldap_port ldap_server ldap_server_name realm server_time server_time_offset" \
	"$("${CTL[@]}" --json ads info | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))')"
kvno() { klist -k "$KT" | awk '/NAS1\$@AD.TEST/ {print $1}' | sort -n | tail -1; }
before=$(kvno)
"${CTL[@]}" ads rotate --auto >/dev/null 2>&1
check_eq "ads rotate --auto: a password younger than machine_password_max_age stays" "$before" "$(kvno)"
check "ads rotate: changed" "${CTL[@]}" ads rotate
check_eq "ads rotate: the keytab has the next key version" "$((before + 1))" "$(kvno)"
check "ads test: still works with the new password" "${CTL[@]}" ads test
"${CTL[@]}" krb5conf >"$WORK/krb5.generated"
check "krb5conf: the AD realm with its DC as KDC" grep -q "kdc = $AD_HOST" "$WORK/krb5.generated"
check "krb5conf: kinit works with it" sh -c "echo '$PW' | KRB5_CONFIG='$WORK/krb5.generated' kinit -c MEMORY:t alice >/dev/null"

# --- Kerberos (auth = krb5), verified with the host key of the machine account ----------------
write_ad_conf "auth = krb5" "krb5_keytab = $KT"
reload_dird
check_eq "krb5: AD user, right password (KDC answer verified with the host key)" "auth: Success
account: Success" "$(pam "$PW" bare 'ADTEST\alice' auth account)"
check_eq "krb5: wrong password" "auth: Authentication failure" "$(pam wrong bare 'ADTEST\alice' auth)"
check_eq "krb5: a good login after it" "auth: Success" "$(pam "$PW" bare 'adtest\Alice' auth)"
check_eq "krb5: disabled users get no tickets" "auth: Authentication failure" \
	"$(pam "$PW" bare 'ADTEST\dave' auth | grep -v message)"
ALICE_UID=$(in_ns "$WORK/nss" getent passwd 'ADTEST\alice' | cut -d: -f3)
pam "$PW" bare 'ADTEST\alice' auth setcred open env=KRB5CCNAME wait="$WORK/release" close \
	env=KRB5CCNAME >"$WORK/login.out" &
login=$!
for _ in $(seq 100); do grep -q "^KRB5CCNAME" "$WORK/login.out" && break; sleep 0.1; done
CC=$(sed -n 's/^KRB5CCNAME=FILE://p' "$WORK/login.out")
check "krb5: the login sets KRB5CCNAME to a file in krb5_ccache_dir" test -f "$CC"
check_eq "krb5: the ticket cache is alice's, mode 0600" "$ALICE_UID 600" "$(stat -c '%u %a' "$CC" 2>&1)"
check "krb5: its tickets are alice@AD.TEST's" grep -q "Default principal: alice@AD.TEST" \
	<(KRB5_CONFIG=$AD_KRB5_CONF klist -c "FILE:$CC" 2>&1)
check "krb5: alice gets a service ticket for nfs/ with it (kvno)" \
	setpriv --reuid="$ALICE_UID" --regid="$ALICE_UID" --clear-groups env KRB5_CONFIG="$AD_KRB5_CONF" \
	KRB5CCNAME="FILE:$CC" kvno nfs/nas1.ad.test
touch "$WORK/release"
wait "$login"
check_eq "krb5: close_session destroys the cache" "no" "$(test -e "$CC" && echo yes || echo no)"

# --- dird binds with the machine account (GSSAPI, signed and sealed on plain ldap://) ----------
dird_stop
write_ad_conf "keytab = $KT" "sasl_authid = NAS1\$@AD.TEST"
sed -i "s|^uri = .*|uri = ldap://$AD_HOST|; /^bind_dn/d; /^bind_password_file/d" "$DIR_CONF"
rm -rf "$WORK/cache"/*
dird_start || exit 1
dird_wait_refresh || exit 1
check_eq "GSSAPI with the machine keytab: users served" "ADTEST\\carol" \
	"$(in_ns "$WORK/nss" getent passwd 'ADTEST\carol' | cut -d: -f1)"
dird_stop

# --- leaving ----------------------------------------------------------------------------------
out=$(printf '%s\n' "$AD_ADMIN_PASSWORD" | "${CTL[@]}" ads leave 2>&1)
check "ads leave: done" grep -q "^left AD.TEST: the computer account NAS1 is deleted" <<<"$out"
check "ads leave without systemd: says the timer is not disabled, and what to do" \
	grep -q "^systemd does not run this host: dird-machine-password.timer is not disabled" <<<"$out"
check_eq "ads leave: the DC has no computer account" "" \
	"$(ldbsearch -H "$AD_DIR/dc/private/sam.ldb" '(sAMAccountName=NAS1$)' sAMAccountName 2>/dev/null | grep '^sAMAccountName')"
check_eq "ads leave: no AD.TEST key is left in the keytab" "" "$(klist -k "$KT" 2>/dev/null | grep AD.TEST)"
check_fails "ads test: fails after leaving" "${CTL[@]}" ads test
check_fails "ads rotate: refuses when not joined" "${CTL[@]}" ads rotate
finish
