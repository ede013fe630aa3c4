#!/bin/bash
# PAM against a real Samba AD DC: the real libpam runs pam_dir stacks for AD users with a bind as
# the user over TLS and with Kerberos (verified with a host key from adcli join), for disabled,
# expired, locked out and must-change accounts, and changes a password through kpasswd.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/tls.sh"
. "$HERE/../lib/samba_dc.sh"
ad_enter_namespaces "$0" "$@"

WORK=$(mktemp -d /tmp/dir-e2e-XXXXXX)
chmod 755 "$WORK"
cleanup() { dird_stop; ad_dc_stop; rm -rf "$WORK"; }
trap cleanup EXIT

ad_dc_start "$WORK/ad" || exit 1
PW=$AD_USER_PASSWORD

export DIR_CONF=$WORK/dird.conf
mkdir -p "$WORK/cache" "$WORK/run"
printf '%s\n' "$PW" >"$WORK/bindpw"
chmod 600 "$WORK/bindpw"
# write_ad_conf [domain lines...]
write_ad_conf() {
	{
		cat <<CONF
[global]
cache_dir = $WORK/cache
run_dir = $WORK/run
nss_timeout = 5
log_level = debug
krb5_config = $AD_KRB5_CONF
krb5_ccache_dir = $WORK

[domain/adtest]
type = ad
realm = AD.TEST
workgroup = ADTEST
uri = ldaps://$AD_HOST
tls_ca_file = $AD_CA
bind_dn = svc_dird@ad.test
bind_password_file = $WORK/bindpw
CONF
		printf '%s\n' "$@"
	} >"$DIR_CONF"
	chmod 644 "$DIR_CONF"
}
write_ad_conf
write_nsswitch "$WORK/nss" "files dir"
dird_start || exit 1
dird_wait_refresh || exit 1

MOD=$BUILD/pam_dir/pam_dir.so
mkdir "$WORK/pam.d"
for f in "$HERE"/../../etc/pam.d/*; do
	sed "s|pam_dir\.so|$MOD|" "$f" >"$WORK/pam.d/$(basename "$f")"
done
cat >"$WORK/pam.d/bare" <<CONF
auth	required	$MOD
account	required	$MOD
session	required	$MOD
password	required	$MOD
CONF
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

# --- password changes go through kpasswd on AD ---------------------------------------------------
write_ad_conf "allow_password_change = yes"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/dird.log" && break; sleep 0.1; done
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

# --- Kerberos (auth = krb5), verified with the host key of a machine account -------------------
printf '%s' "$AD_ADMIN_PASSWORD" | adcli join --domain=ad.test --domain-controller="$AD_HOST" \
	--login-user=Administrator --stdin-password --host-fqdn=nas1.ad.test \
	--host-keytab="$WORK/krb5.keytab" --service-name=host --service-name=nfs \
	>"$WORK/adcli.log" 2>&1
check "adcli join wrote a host keytab" test -s "$WORK/krb5.keytab"
chmod 600 "$WORK/krb5.keytab"
write_ad_conf "auth = krb5" "krb5_keytab = $WORK/krb5.keytab"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do [ "$(grep -c "configuration reloaded" "$WORK/dird.log")" -ge 2 ] && break; sleep 0.1; done
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
finish
