#!/bin/bash
# Local users with Kerberos: a home realm (a real MIT KDC, and a rogue one for the same realm),
# no directory at all, local accounts in a namespace's own /etc/passwd, group and shadow, dird
# in the same namespace, the host keytab installed with dirctl keytab, the shipped truenas PAM
# stack through the real libpam.  A local user with a principal logs in with the KDC's password
# and owns a ticket cache that works for kvno; one without falls through to pam_unix; root and
# system accounts never log in that way; a rogue KDC logs nobody in.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd kdc

# The rogue KDC first: the same realm and kuser's password, but host keys of its own.
kdc_host_start "$WORK/rogue" "$WORK/rogue.keytab" kuser kuserpw || exit 1
E2E_PIDS+=("$KDC_PID" "$KADMIND_PID")
ROGUE_PORT=$KDC_PORT KDC_PID=

kdc_start "$WORK/kdc" EXAMPLE.TEST || exit 1
kdc_addprinc kuser kuserpw
kdc_addprinc both bothkrbpw
kdc_addprinc root rootkrbpw
kdc_addprinc daemon2 daemonkrbpw
kdc_addprinc nobody nobodykrbpw
kdc_addprinc old oldpw -pwexpire 2020-01-01
kdc_keytab host/localhost "$WORK/nas.keytab"
kdc_keytab nfs/localhost "$WORK/nas.keytab"
unset KRB5_CONFIG

# Local accounts: kuser has no local password (Kerberos only), both has one of each, plain has
# only a local one, daemon2 is a system account (uid 999), old's Kerberos password has expired.
cp /etc/passwd /etc/group "$WORK/"
cp /etc/shadow "$WORK/shadow"
chmod 600 "$WORK/shadow"
hash() { python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$1"; }
add_local() { # NAME UID SHADOW-PASSWORD
	echo "$1:x:$2:$2:Local $1:/tmp:/bin/sh" >>"$WORK/passwd"
	echo "$1:x:$2:" >>"$WORK/group"
	echo "$1:$3:19000:0:99999:7:::" >>"$WORK/shadow"
}
add_local kuser 4301 '!'
add_local both 4302 "$(hash bothlocalpw)"
add_local plain 4303 "$(hash plainpw)"
add_local daemon2 999 '!'
add_local old 4304 '!'
sed -i "s|^root:[^:]*:|root:$(hash rootlocalpw):|" "$WORK/shadow"

mkdir -p "$WORK/cache" "$WORK/run" "$WORK/state"
mkdir -m 1777 "$WORK/tickets"
cat >"$DIR_CONF" <<CONF
[global]
cache_dir = $WORK/cache
run_dir = $WORK/run
state_dir = $WORK/state
log_level = debug
krb5_config = $WORK/krb5.conf
krb5_ccache_dir = $WORK/tickets

[kerberos]
keytab = $WORK/host.keytab

[realm/EXAMPLE.TEST]
kdc = 127.0.0.1:$KDC_PORT
local_users = yes
CONF
chmod 644 "$DIR_CONF"
"${CTL[@]}" krb5conf --write >/dev/null
"${CTL[@]}" keytab add nas "$WORK/nas.keytab" >/dev/null
write_nsswitch "$WORK/nss" "files"
# dird sees the same local accounts as the PAM stack
LOCAL=(unshare -m --propagation private sh -c 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && exec "$@"' sh "$WORK/passwd" "$WORK/group")
dird_start "${LOCAL[@]}" || exit 1

pam_stacks "$WORK/pam.d"
NS=(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d --bind "$WORK/passwd" /etc/passwd
	--bind "$WORK/group" /etc/group --bind "$WORK/shadow" /etc/shadow)
pam() {
	local pw=$1; shift
	echo "$pw" | "${NS[@]}" "$BUILD/tests/pam_run" "$@" 2>&1
}

pam_modules "$WORK/modules" # pam render wants every module it names installed
mkdir "$WORK/rendered"
in_ns "$WORK/nss" --bind "$WORK/modules" "$PAM_MODULE_DIR" "${CTL[@]}" pam render --dir "$WORK/rendered" >/dev/null
check "dirctl pam render: pam_dir checks passwords, with no domain but a realm of local users" \
	cmp "$HERE/../../etc/pam.d/common-auth-dir" "$WORK/rendered/common-auth-dir"

# --- a local user with a principal -----------------------------------------------------------
check_eq "kuser (no local password) logs in through the truenas stack with the KDC's password" \
	"auth: Success
account: Success" "$(pam kuserpw truenas kuser auth account)"
check_eq "a wrong password: refused" "auth: Authentication failure" "$(pam wrong truenas kuser auth)"
pam kuserpw truenas kuser auth setcred account open env=KRB5CCNAME wait="$WORK/release" close \
	env=KRB5CCNAME >"$WORK/login.out" &
LOGIN=$!
for _ in $(seq 100); do grep -q "^KRB5CCNAME" "$WORK/login.out" && break; sleep 0.1; done
CC=$(sed -n 's/^KRB5CCNAME=FILE://p' "$WORK/login.out")
case "$CC" in "$WORK/tickets/krb5cc_4301_"*) ok "the login sets KRB5CCNAME to kuser's ticket cache";;
	*) not_ok "the login sets KRB5CCNAME to kuser's ticket cache" "got [$CC]";; esac
check_eq "the cache belongs to kuser, mode 0600" "4301 4301 600" "$(stat -c '%u %g %a' "$CC")"
check_eq "it holds kuser's TGT" "kuser@EXAMPLE.TEST" \
	"$(klist -c "$CC" 2>/dev/null | sed -n 's/^Default principal: //p')"
check "as kuser, kvno nfs/localhost works without kinit" \
	setpriv --reuid=4301 --regid=4301 --clear-groups env KRB5_CONFIG="$WORK/krb5.conf" \
	KRB5CCNAME="FILE:$CC" kvno nfs/localhost
check "the session is registered with it" grep -q "\"ccache\":\"$CC\"" <("${CTL[@]}" --json sessions | tr -d ' \n')
touch "$WORK/release"
wait "$LOGIN"
check_eq "close_session removes the cache" "close: Success
KRB5CCNAME unset" "$(tail -2 "$WORK/login.out")"
rm -f "$WORK/release"

# --- both passwords, no principal, root, system accounts ----------------------------------------
check_eq "both: the local password logs in (pam_unix)..." "auth: Success
setcred: Success
KRB5CCNAME unset" "$(pam bothlocalpw truenas both auth setcred env=KRB5CCNAME)"
out=$(pam bothkrbpw truenas both auth setcred env=KRB5CCNAME)
check "...and the Kerberos one, with tickets" grep -q "^KRB5CCNAME=FILE:$WORK/tickets/krb5cc_4302_" <<<"$out"
check_eq "plain (no principal): its local password logs in" "auth: Success" "$(pam plainpw truenas plain auth)"
check_eq "plain: pam_dir says user unknown, so the stack falls through to pam_unix" \
	"auth: User not known to the underlying authentication module" "$(pam plainpw bare plain auth)"
check_eq "plain: a wrong password is refused" "auth: Authentication failure" "$(pam wrong truenas plain auth)"
check_eq "root with a principal: its Kerberos password does not log in" \
	"auth: Authentication failure" "$(pam rootkrbpw truenas root auth)"
check_eq "root: its local password still does" "auth: Success" "$(pam rootlocalpw truenas root auth)"
check_eq "a system account (uid 999) with a principal: not through pam_dir" \
	"auth: User not known to the underlying authentication module" "$(pam daemonkrbpw bare daemon2 auth)"
check_eq "nobody (uid 65534, a system account above 1000) with a principal: not through pam_dir" \
	"auth: User not known to the underlying authentication module" "$(pam nobodykrbpw bare nobody auth)"
check_eq "...nor through the truenas stack" "auth: Authentication failure" "$(pam nobodykrbpw truenas nobody auth)"
check "dird was never asked about root or the system accounts" \
	test -z "$(grep -E "pam auth for (root|daemon2|nobody) " "$WORK/dird.log")"
out=$(pam oldpw truenas old auth)
check_eq "an expired Kerberos password: refused" "auth: Authentication failure" "$(tail -1 <<<"$out")"
check "with what to do" grep -q "message: Your Kerberos password has expired; change it with kpasswd" <<<"$out"

# --- a rogue KDC --------------------------------------------------------------------------------
sed -i "s/127.0.0.1:$KDC_PORT/127.0.0.1:$ROGUE_PORT/" "$WORK/krb5.conf"
check_eq "a rogue KDC that knows kuser's password: refused" \
	"auth: Authentication failure" "$(pam kuserpw truenas kuser auth)"
check "dird says why" grep -q "\[realm/EXAMPLE.TEST\]: refusing kuser's login: the KDC's answer cannot be verified with $WORK/host.keytab" "$WORK/dird.log"
check_eq "no ticket cache was made for it" "" "$(ls "$WORK/tickets" | grep 4301)"
sed -i "s/127.0.0.1:$ROGUE_PORT/127.0.0.1:$KDC_PORT/" "$WORK/krb5.conf"
check_eq "the real KDC again: kuser logs in" "auth: Success" "$(pam kuserpw truenas kuser auth)"

# --- without local_users, and without dird --------------------------------------------------------
sed -i 's/^local_users = yes/local_users = no/' "$DIR_CONF"
asks=$(grep -c "pam auth for kuser" "$WORK/dird.log")
check_eq "local_users = no: kuser's Kerberos password does not log in" \
	"auth: Authentication failure" "$(pam kuserpw truenas kuser auth)"
check_eq "and dird is not asked" "$asks" "$(grep -c "pam auth for kuser" "$WORK/dird.log")"
sed -i 's/^local_users = no/local_users = yes/' "$DIR_CONF"
dird_stop
check_eq "dird exits cleanly (under the sanitizers: without a report)" 0 "$DIRD_RC"
check_eq "dird down: kuser is told the service is unavailable" \
	"auth: Authentication service cannot retrieve authentication info" "$(pam kuserpw bare kuser auth)"
check_eq "dird down: local passwords still log in" "auth: Success" "$(pam plainpw truenas plain auth)"
check_eq "dird down: root too" "auth: Success" "$(pam rootlocalpw truenas root auth)"
if grep -q -e kuserpw -e bothkrbpw -e rootkrbpw "$WORK/dird.log"; then
	not_ok "no password in dird's log" "found one"
else
	ok "no password in dird's log"
fi
finish
