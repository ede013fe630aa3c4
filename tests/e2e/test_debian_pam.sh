#!/bin/bash
# Logins on a stock Debian host: `dirctl enable` has pam-auth-update turn on the dir profile
# (etc/pam-configs/dir, which libpam-dir ships), so pam_dir is in /etc/pam.d/common-*, which
# Debian's sshd, login, su and sudo include.  A real sshd with Debian's own /etc/pam.d/sshd then
# logs a directory user in with its password; passwd through common-password changes it; a
# local user logs in as before; `dirctl disable` gives common-* back byte for byte.  All of it
# in a network and mount namespace whose /etc/pam.d, /var/lib/pam, /usr/share/pam-configs and
# debconf database are copies of the host's: the host's are never touched.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
NS_PID=
SSHD_PID=
cleanup() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	[ -n "$NS_PID" ] && kill "$NS_PID" 2>/dev/null
	dird_stop
	slapd_stop
	rm -rf "$WORK"
}
trap cleanup EXIT

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 --big-group 5 --many-groups 3
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
export DIR_CONF=$WORK/dird.conf
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
echo "allow_password_change = yes" >>"$DIR_CONF"
write_nsswitch "$WORK/nss" "files dir"
dird_start && dird_wait_refresh || exit 1

# The namespace's copies: the host's PAM configuration as pam-auth-update keeps it, our profile
# beside the host's, the module folder with the pam_dir.so built here, a local user.
cp -a /etc/pam.d "$WORK/pam.d"
cp -a /etc/pam.d "$WORK/pam.d.orig"
cp -a /var/lib/pam "$WORK/var-lib-pam"
cp -a /usr/share/pam-configs "$WORK/pam-configs"
cp "$HERE/../../etc/pam-configs/dir" "$WORK/pam-configs/dir"
cp -a /var/cache/debconf "$WORK/debconf"
pam_modules "$WORK/modules"
local_user_files
cp "$WORK/nss" "$WORK/nsswitch.conf"

unshare -n -m --propagation private sh -c '
	W=$1 MODDIR=$2
	ip link set lo up &&
	mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd &&
	mount --bind "$W/pam.d" /etc/pam.d && mount --bind "$W/var-lib-pam" /var/lib/pam &&
	mount --bind "$W/pam-configs" /usr/share/pam-configs &&
	mount --bind "$W/debconf" /var/cache/debconf && mount --bind "$W/modules" "$MODDIR" &&
	mount --bind "$W/nss" /etc/nsswitch.conf && mount --bind "$W/passwd" /etc/passwd &&
	mount --bind "$W/group" /etc/group && mount --bind "$W/shadow" /etc/shadow &&
	touch "$W/ns-ready" && exec sleep 100000' ns "$WORK" "$PAM_MODULE_DIR" &
NS_PID=$!
for _ in $(seq 100); do [ -e "$WORK/ns-ready" ] && break; sleep 0.05; done
in_test_ns() {
	nsenter -t "$NS_PID" -n -m -- env LD_LIBRARY_PATH="$BUILD/nss_dir" LD_PRELOAD="$SAN_PRELOAD" \
		ASAN_OPTIONS="${HOST_ASAN_OPTIONS:-${ASAN_OPTIONS:-}}" DIR_CONF="$DIR_CONF" "$@"
}
ctl() { nsenter -t "$NS_PID" -n -m -- "$BUILD/dirctl/dirctl" -c "$DIR_CONF" "$@"; }
names_pam_dir() { grep -l '^[^#]*pam_dir\.so' "$WORK"/pam.d/common-{auth,account,session,password} 2>/dev/null | wc -l; }

out=$(ctl enable --dry-run --nsswitch "$WORK/nsswitch.conf" 2>&1)
check "enable --dry-run says what pam-auth-update would do" grep -q "would get pam_dir (pam-auth-update --package --enable dir)" <<<"$out"
check "...and changes no PAM file" diff -r "$WORK/pam.d.orig" "$WORK/pam.d"
out=$(ctl enable --nsswitch "$WORK/nsswitch.conf" 2>&1); rc=$?
check_eq "dirctl enable on Debian: exit 0" "0" "$rc"
check "...says pam_dir is in common-*" grep -q "pam_dir added (pam-auth-update profile dir)" <<<"$out"
check_eq "...all four common-* name pam_dir" "4" "$(names_pam_dir)"
check_eq "...as the profile's lines, after pam_unix" \
	"auth	[success=2 default=ignore]	pam_unix.so nullok
auth	[success=1 default=ignore]	pam_dir.so use_first_pass" \
	"$(grep -E '^auth.*(pam_unix|pam_dir)' "$WORK/pam.d/common-auth")"
check_fails "...and the TrueNAS services are not installed (not asked for)" test -e "$WORK/pam.d/truenas"
check "...nor is common-session-noninteractive changed (cron, su -c: no login sessions)" \
	cmp "$WORK/pam.d.orig/common-session-noninteractive" "$WORK/pam.d/common-session-noninteractive"
check "twice changes nothing" grep -q "common-\*: already enabled" <(ctl enable --nsswitch "$WORK/nsswitch.conf" 2>&1)

# A real sshd, Debian's /etc/pam.d/sshd (which includes common-*), password logins.
PORT=2222
mkdir -p "$WORK/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key"
cat >"$WORK/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1:$PORT
HostKey $WORK/ssh/host_key
PidFile $WORK/ssh/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
LogLevel VERBOSE
CONF
# (nsenter and env exec it: $! is sshd's pid)
nsenter -t "$NS_PID" -n -m -- env LD_LIBRARY_PATH="$BUILD/nss_dir" LD_PRELOAD="$SAN_PRELOAD" \
	ASAN_OPTIONS="${HOST_ASAN_OPTIONS:-${ASAN_OPTIONS:-}}" DIR_CONF="$DIR_CONF" \
	/usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config" 2>>"$WORK/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do
	nsenter -t "$NS_PID" -n -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && break
	sleep 0.05
done
printf '#!/bin/sh\ncat "%s"\n' "$WORK/ssh/password" >"$WORK/ssh/askpass"
chmod 755 "$WORK/ssh/askpass"
# login USER PASSWORD: what `id -u` says over ssh, logging in with that password
login() {
	printf '%s\n' "$2" >"$WORK/ssh/password"
	nsenter -t "$NS_PID" -n -m -- env SSH_ASKPASS="$WORK/ssh/askpass" SSH_ASKPASS_REQUIRE=force \
		setsid -w ssh -F /dev/null -p "$PORT" -o PreferredAuthentications=password \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
		"$1@127.0.0.1" 'echo "logged in as $(id -u)"' </dev/null 2>/dev/null
}
check_eq "a directory user logs in over ssh with its directory password" "logged in as 20001" \
	"$(login alice alicepw)"
check "...through pam_dir (dird checked the password)" grep -q "pam auth for alice" "$WORK/dird.log"
check_fails "a wrong password does not" login alice wrongpw
check_eq "a local user logs in with its local password" "logged in as 4242" "$(login localuser localpw)"
check_fails "...and not with a wrong one" login localuser alicepw
check_fails "a locked account (ppolicy) does not log in, right password or not" login locked lockedpw

# passwd through Debian's common-password: pam_unix leaves a directory user to pam_dir.
out=$(printf 'bobpw\nnewbobpw\n' | in_test_ns "$BUILD/tests/pam_run" passwd bob chauthtok 2>&1)
check_eq "passwd (common-password) changes a directory user's password" "chauthtok: Success" "$out"
check_eq "...and the new one logs in over ssh" "logged in as 20002" "$(login bob newbobpw)"
check_fails "...the old one no more" login bob bobpw

# The profile on and dird down, or pam_dir.so gone (a source install's `ninja uninstall`, a
# package removed by hand): local logins and root's own stack go on as without dir.
dird_stop
check_eq "dird stopped: a local user logs in over ssh" "logged in as 4242" "$(login localuser localpw)"
check_eq "...root's account and session phases pass (login, sudo)" \
	"account: Success open: Success" \
	"$(in_test_ns "$BUILD/tests/pam_run" login root account open 2>&1 | grep -E '^(account|open):' | tr '\n' ' ' | sed 's/ $//')"
rm "$WORK/modules/pam_dir.so"
check_eq "pam_dir.so missing: a local user logs in over ssh" "logged in as 4242" \
	"$(login localuser localpw)"
check_eq "...root's account and session phases pass (login, sudo)" \
	"account: Success open: Success" \
	"$(in_test_ns "$BUILD/tests/pam_run" login root account open 2>&1 | grep -E '^(account|open):' | tr '\n' ' ' | sed 's/ $//')"
ln -sf "$BUILD/pam_dir/pam_dir.so" "$WORK/modules/pam_dir.so"
dird_start && dird_wait_refresh || exit 1

# disable gives common-* back as they were, and directory users no longer log in.
out=$(ctl disable --nsswitch "$WORK/nsswitch.conf" 2>&1); rc=$?
check_eq "dirctl disable: exit 0" "0" "$rc"
check "...says pam_dir is out" grep -q "pam_dir taken out (pam-auth-update --disable dir)" <<<"$out"
check "...and common-* are what they were, byte for byte" diff -r "$WORK/pam.d.orig" "$WORK/pam.d"
check_fails "a directory user no longer logs in" login alice alicepw
check_eq "a local user still does" "logged in as 4242" "$(login localuser localpw)"

# A common-auth changed by hand (a line in pam-auth-update's block): pam-auth-update keeps it,
# and dirctl says so and fails.
sed -i '/the "Primary" block/a auth\toptional\tpam_warn.so' "$WORK/pam.d/common-auth"
cp -a "$WORK/pam.d" "$WORK/pam.d.edited"
out=$(ctl enable --nsswitch "$WORK/nsswitch.conf" 2>&1); rc=$?
check_eq "common-* changed by hand: enable exits 1" "1" "$rc"
check "...and says why and what to do" grep -q "they were changed by hand, and it keeps such changes" <<<"$out"
check "...and nothing changed" diff -r "$WORK/pam.d.edited" "$WORK/pam.d"
cp "$WORK/pam.d.orig/common-auth" "$WORK/pam.d/common-auth"

# --truenas installs the TrueNAS services too; removing libpam-dir (its prerm) takes pam_dir out.
ctl enable --truenas --nsswitch "$WORK/nsswitch.conf" >/dev/null 2>&1
check_eq "enable --truenas: common-* name pam_dir" "4" "$(names_pam_dir)"
check "...and the TrueNAS services are there" test -e "$WORK/pam.d/truenas"
nsenter -t "$NS_PID" -n -m -- sh "$HERE/../../debian/libpam-dir.prerm" remove >/dev/null 2>&1
check_eq "the package's prerm on remove takes pam_dir out of common-*" "0" "$(names_pam_dir)"
finish
