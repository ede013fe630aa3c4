#!/bin/bash
# Plain ldap:// is "this host" only by the address connected to, never by the text of the uri.
# In network and mount namespaces of its own, the name 127.0.0.1.example (a private /etc/hosts)
# is 10.54.0.2, an address of a veth pair; a proxy there keeps a copy of every byte dird sends
# on to slapd.  Over it: dird refuses its own simple bind (the error names the fix) unless
# allow_insecure_bind = yes, a user's password is never sent (PAM refuses), and dirctl test says
# which host the connection goes to.  Over real loopback, passwords are checked as before.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DIR_TEST_IN_NETNS:-}" ]; then
	exec unshare --net --mount --propagation private env DIR_TEST_IN_NETNS=1 bash "$0" "$@"
fi
. "$HERE/../lib/common.sh"
e2e_start slapd
PROXY=
cleanup_first() { [ -z "$PROXY" ] || kill "$PROXY" 2>/dev/null; }

ip link set lo up
ip link add dirpl0 type veth peer name dirpl1 || exit 1
ip addr add 10.54.0.1/24 dev dirpl0
ip addr add 10.54.0.2/24 dev dirpl1
ip link set dirpl0 up
ip link set dirpl1 up
printf '127.0.0.1 localhost\n10.54.0.2 127.0.0.1.example\n' >"$WORK/hosts"
write_nsswitch "$WORK/nsswitch.host" "files"
chmod 644 "$WORK/hosts" "$WORK/nsswitch.host"
mount --bind "$WORK/hosts" /etc/hosts && mount --bind "$WORK/nsswitch.host" /etc/nsswitch.conf || exit 1

slapd_generated 5 5 2 || exit 1
PORT=$(free_port)
/usr/bin/python3 "$HERE/../lib/tcp_proxy.py" "$PORT" "$SLAPD_PORT" --listen 10.54.0.2 --capture "$WORK/wire" &
PROXY=$!
for _ in $(seq 50); do ldapsearch -x -H "ldap://10.54.0.2:$PORT" -b "" -s base >/dev/null 2>&1 && break; sleep 0.1; done
check_eq "127.0.0.1.example is another host's address" "10.54.0.2" "$(getent hosts 127.0.0.1.example | cut -d' ' -f1)"
AWAY="ldap://127.0.0.1.example:$PORT"

write_nsswitch "$WORK/nss" "files dir"
pam_stacks "$WORK/pam.d"
pam() { echo "$1" | in_ns "$WORK/nss" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare "$2" auth 2>&1; }
sent() { grep -c -a -- "$1" "$WORK/wire" 2>/dev/null || true; }
last_error() { "${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["last_error"])'; }
# restart URI [SED]: dird with a fresh cache (its dird.conf changed by SED), once its first
# refresh has ended
restart() {
	dird_stop
	rm -rf "$WORK/cache" "$WORK/run"
	write_dird_conf "$DIR_CONF" "$1"
	[ -n "${2:-}" ] && sed -i "$2" "$DIR_CONF"
	dird_start || exit 1
	for _ in $(seq 100); do
		"${CTL[@]}" --json status 2>/dev/null | grep -q '"state": "\(online\|offline\)"' && break
		sleep 0.1
	done
}

# --- users' passwords (dird binds anonymously) ---------------------------------------------------
restart "$AWAY" "/^bind_/d"
check_eq "anonymous searches over plain ldap:// to another host serve users" "20001" \
	"$(in_ns "$WORK/nss" getent passwd alice | cut -d: -f3)"
check_eq "a user's password is not sent there: PAM refuses" \
	"auth: Authentication service cannot retrieve authentication info" "$(pam alicepw alice)"
check_eq "... it never went over the wire" "0" "$(sent alicepw)"
check "... dird says why" grep -q \
	"refusing to send a user's password in clear text to $AWAY (10.54.0.2), another host: set tls = starttls or use an ldaps:// uri" \
	"$WORK/dird.log"

# --- dird's own bind ---------------------------------------------------------------------------
restart "$AWAY"
check "a simple bind to another host over plain ldap://: refused, and the error names the fix" \
	grep -q "refusing to send the password of cn=reader,ou=system,dc=example,dc=test in clear text to 10.54.0.2, another host: set tls = starttls or use an ldaps:// uri (or, to take that risk, allow_insecure_bind = yes)" \
	<<<"$(last_error)"
check_eq "... the bind password never went over the wire" "0" "$(sent readerpw)"
check_fails "... and nothing is served" in_ns "$WORK/nss" getent passwd alice
"${CTL[@]}" test >"$WORK/test.out" 2>&1
check_eq "dirctl test fails there" "1" "$?"
check "... its tls step says where the connection goes" grep -q \
	"tls .*not used (plain, to 10.54.0.2, another host: no user's password is sent over it; set tls = starttls or use ldaps://)" \
	"$WORK/test.out"
check "... and the bind step why it fails" grep -q \
	"cause: the bind password would go in clear text: set tls = starttls or use ldaps://" "$WORK/test.out"
check_eq "... dirctl test sent no password either" "0" "$(sent readerpw)"

restart "$AWAY" '$a allow_insecure_bind = yes'
check_eq "with allow_insecure_bind = yes dird binds, in clear text" "20001" \
	"$(in_ns "$WORK/nss" getent passwd alice | cut -d: -f3)"
check "... the bind password did go over the wire" test "$(sent readerpw)" -gt 0
check "... and dirctl test says so" grep -q "but bind_dn's is (allow_insecure_bind = yes)" <("${CTL[@]}" test 2>&1)


# --- real loopback --------------------------------------------------------------------------------
restart "$SLAPD_URI"
check_eq "over loopback a user's password is checked" "auth: Success" "$(pam alicepw alice)"
check "dirctl test: passwords go only to this host" grep -q \
	"tls .*not used (plain, to 127.0.0.1 on this host: passwords go only to this host)" <("${CTL[@]}" test 2>&1)
finish
