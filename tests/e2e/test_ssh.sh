#!/bin/bash
# SSH public keys from the directory: dird keeps sshPublicKey (openssh-lpk) in its cache with the
# user; `dirctl ssh-keys` prints them for a real sshd's AuthorizedKeysCommand, run as nobody, in a
# network and mount namespace of the test's own, set up by `dirctl enable --ssh`.  A directory
# user logs in with a key from the directory (also with the directory down, and after dird
# restarts then), a key removed there stops working once the change reaches the cache, and a
# local user's ~/.ssh/authorized_keys still works.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
NS_PID=
SSHD_PID=
cleanup_first() {
	[ -z "$SSHD_PID" ] || kill "$SSHD_PID" 2>/dev/null
	[ -z "$NS_PID" ] || kill "$NS_PID" 2>/dev/null
}

serve_directory 20 5 5 || exit 1
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
keys() { nobody "${CTL[@]}" ssh-keys "$1"; }

# Keys: two of alice's, one of bob's (beside a value that is no key), one of a local user's.
mkdir -m 700 "$WORK/keys"
for k in alice1 alice2 bob local other; do
	ssh-keygen -q -t ed25519 -N '' -C "$k@test" -f "$WORK/keys/$k"
done
pub() { cat "$WORK/keys/$1.pub"; }
ldap_modify() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }
ldap_modify <<LDIF
dn: uid=alice,ou=people,dc=example,dc=test
changetype: modify
add: objectClass
objectClass: ldapPublicKey
-
add: sshPublicKey
sshPublicKey: $(pub alice1)
sshPublicKey: from="127.0.0.0/8" $(pub alice2)

dn: uid=bob,ou=people,dc=example,dc=test
changetype: modify
add: objectClass
objectClass: ldapPublicKey
-
add: sshPublicKey
sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5d
sshPublicKey: $(pub bob)
LDIF
# u00001 may write his own keys (a common ACL) and writes one value of 100,000 junk lines, and
# 70 good ones: dird keeps 64 keys and says so in a few lines, not a line for each.
python3 - "$(pub other)" <<'PY' | ldap_modify
import base64, sys
value = "x\n" * 100000 + (sys.argv[1] + "\n") * 70
print("dn: uid=u00001,ou=people,dc=example,dc=test\nchangetype: modify\nadd: objectClass\n"
      "objectClass: ldapPublicKey\n-\nadd: sshPublicKey\nsshPublicKey:: "
      + base64.b64encode(value.encode()).decode())
PY
"${CTL[@]}" cache refresh >/dev/null

check_eq "of 100,000 junk lines and 70 keys in one value, 64 keys are kept" "64" "$(keys u00001 | wc -l)"
check "and dird's log names a few of them, not each" test "$(grep -c 'user u00001:' "$WORK/dird.log")" -le 5
check "...and counts the rest" grep -q "user u00001: skipped 99997 more malformed lines of sshPublicKey" "$WORK/dird.log"
check_eq "dirctl ssh-keys, as nobody, prints the user's keys from the directory" \
	"$(pub alice1)
from=\"127.0.0.0/8\" $(pub alice2)" "$(keys alice)"
check_eq "a malformed value is left out" "$(pub bob)" "$(keys bob)"
check "and dird's log says so" grep -q "user bob: skipped a value of sshPublicKey: the key is cut short" \
	"$WORK/dird.log"
check_eq "a user without keys: no output" "" "$(keys carol)"
out=$(keys nosuchuser); rc=$?
check_eq "an unknown user: no output, status 0" "0:" "$rc:$out"
out=$(keys root); rc=$?
check_eq "a local user: no output, status 0 (sshd reads ~/.ssh/authorized_keys)" "0:" "$rc:$out"
sed 's/^\[global\]/[global]\nno_such_key = 1/' "$DIR_CONF" >"$WORK/typo.conf"
chmod 644 "$WORK/typo.conf"
check_eq "a dird.conf dird would refuse (dird keeps its last one) does not stop the keys" \
	"$(pub bob)" "$(nobody "$BUILD/dirctl/dirctl" -c "$WORK/typo.conf" ssh-keys bob 2>/dev/null)"
check "the keys are in the tdb cache with the user" grep -q "$(pub alice1 | cut -d' ' -f2)" \
	<("${CTL[@]}" --json user alice)
# Milliseconds: the median of 20 runs as nobody, each bounded.
times=()
for _ in $(seq 20); do
	t0=$(date +%s%N)
	keys alice >/dev/null
	times+=($(( ($(date +%s%N) - t0) / 1000 )))
done
median_us=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 10p)
echo "# dirctl ssh-keys alice: median ${median_us} us over 20 runs"
check "dirctl ssh-keys answers at once (median ${median_us} us, bound 1 s)" test "$median_us" -lt 1000000

# A network and mount namespace: loopback only, its own /run (for /run/sshd), dirctl on a
# root-owned path (sshd refuses a command under /tmp), an nsswitch.conf naming dir, and a
# local user with an authorized_keys file.
cp /etc/passwd "$WORK/passwd"
echo "localuser:x:4242:4242:Local User:$WORK/home/localuser:/bin/sh" >>"$WORK/passwd"
mkdir -p "$WORK/home/localuser/.ssh"
pub local >"$WORK/home/localuser/.ssh/authorized_keys"
chown -R 4242:4242 "$WORK/home/localuser"
chmod 700 "$WORK/home/localuser/.ssh"
unshare -n -m --propagation private sh -c '
	ip link set lo up &&
	mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd &&
	mount -t tmpfs -o mode=0755 tmpfs /mnt && cp "$1" /mnt/dirctl &&
	mount --bind "$2" /etc/nsswitch.conf && mount --bind "$3" /etc/passwd &&
	touch "$4/ns-ready" && exec sleep 100000' ns "$BUILD/dirctl/dirctl" "$WORK/nss" "$WORK/passwd" "$WORK" &
NS_PID=$!
for _ in $(seq 100); do [ -e "$WORK/ns-ready" ] && break; sleep 0.05; done
in_test_ns() { nsenter -t "$NS_PID" -n -m -- "$@"; }

PORT=2222
mkdir -p "$WORK/ssh/sshd_config.d"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key"
cat >"$WORK/ssh/sshd_config" <<CONF
Include $WORK/ssh/sshd_config.d/*.conf
ListenAddress 127.0.0.1:$PORT
HostKey $WORK/ssh/host_key
PidFile $WORK/ssh/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
LogLevel VERBOSE
CONF
cp "$WORK/nss" "$WORK/nsswitch.conf"
enable_ssh() {
	in_test_ns /mnt/dirctl -c "$DIR_CONF" "$@" --no-pam --nsswitch "$WORK/nsswitch.conf" --ssh \
		--sshd-config "$WORK/ssh/sshd_config"
}
out=$(enable_ssh enable 2>&1); rc=$?
check_eq "dirctl enable --ssh writes the drop-in, checked by sshd -T" "0" "$rc"
check_eq "with these lines" "AuthorizedKeysCommand /mnt/dirctl -c $DIR_CONF ssh-keys %u
AuthorizedKeysCommandUser nobody" "$(grep -v '^#' "$WORK/ssh/sshd_config.d/dir.conf")"
check "twice changes nothing" grep -q "dir.conf: already enabled" <(enable_ssh enable 2>&1)

# sshd, in front, logging to a file (nsenter and env exec it: $! is sshd's pid); the client in
# the same namespace.
nsenter -t "$NS_PID" -n -m -- env LD_LIBRARY_PATH="$BUILD/nss_dir" LD_PRELOAD="$SAN_PRELOAD" \
	ASAN_OPTIONS="${HOST_ASAN_OPTIONS:-${ASAN_OPTIONS:-}}" DIR_CONF="$DIR_CONF" \
	/usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config" 2>>"$WORK/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do
	in_test_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && break
	sleep 0.05
done
login() {
	in_test_ns ssh -F /dev/null -i "$WORK/keys/$2" -p "$PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		"$1@127.0.0.1" 'echo "logged in as $(id -u)"' 2>/dev/null
}
check_eq "a directory user logs in with a key from the directory" "logged in as 20001" "$(login alice alice1)"
check_eq "and with the other one (from=\"127.0.0.0/8\" allows it)" "logged in as 20001" "$(login alice alice2)"
check_eq "bob's valid key works" "logged in as 20002" "$(login bob bob)"
check_fails "a key the directory does not hold does not" login alice other
check_fails "nor another user's key" login carol alice1
check_eq "a local user's ~/.ssh/authorized_keys still works" "logged in as 4242" "$(login localuser local)"

# A key removed in the directory: the cache still has it until the change reaches it.
ldap_modify <<LDIF
dn: uid=alice,ou=people,dc=example,dc=test
changetype: modify
delete: sshPublicKey
sshPublicKey: $(pub alice1)
LDIF
check_eq "a key removed in the directory works while the cache holds it" "logged in as 20001" \
	"$(login alice alice1)"
"${CTL[@]}" cache refresh >/dev/null
check_fails "and stops working once the change reaches the cache (dirctl cache refresh)" login alice alice1
check_eq "the key left still works" "logged in as 20001" "$(login alice alice2)"

# The directory down; then dird restarted with it down: the keys come from the tdb cache.
slapd_stop
check_eq "with the directory down, keys still work" "logged in as 20001" "$(login alice alice2)"
dird_stop
out=$(keys alice 2>/dev/null); rc=$?
check_eq "with dird stopped, dirctl ssh-keys fails (3) and prints nothing" "3:" "$rc:$out"
check_eq "the local user logs in all the same" "logged in as 4242" "$(login localuser local)"
dird_start
check_eq "dird restarted with the directory down: the keys from the cache" "logged in as 20001" \
	"$(login alice alice2)"

# dirctl disable --ssh takes the drop-in away; a sshd_config that never reads it is refused.
check "dirctl disable --ssh removes it" grep -q "dir.conf: removed" <(enable_ssh disable 2>&1)
check_fails "it is gone" test -e "$WORK/ssh/sshd_config.d/dir.conf"
sed -i '/^Include/d' "$WORK/ssh/sshd_config"
out=$(enable_ssh enable 2>&1); rc=$?
check_eq "enable --ssh fails when sshd would not take the lines" "1" "$rc"
check "and says why" grep -q "does $WORK/ssh/sshd_config include sshd_config.d/\*.conf" <<<"$out"
check_fails "and leaves no drop-in behind" test -e "$WORK/ssh/sshd_config.d/dir.conf"
# An sshd_config that has sshd ask another command for keys (SSSD's, after the Include): the
# drop-in, read first, would silently take its place.
sed -i "1iInclude $WORK/ssh/sshd_config.d/*.conf" "$WORK/ssh/sshd_config"
echo "AuthorizedKeysCommand /usr/bin/sss_ssh_authorizedkeys %u
AuthorizedKeysCommandUser nobody" >>"$WORK/ssh/sshd_config"
out=$(enable_ssh enable 2>&1); rc=$?
check_eq "enable --ssh fails when sshd runs another AuthorizedKeysCommand already" "1" "$rc"
check "and names it" grep -q "sshd already runs '/usr/bin/sss_ssh_authorizedkeys %u'" <<<"$out"
check_fails "and writes no drop-in" test -e "$WORK/ssh/sshd_config.d/dir.conf"
finish
