#!/bin/bash
# dirctl test: each step against a real slapd, and for each kind of mistake the step that fails,
# the cause it names and a non-zero exit; it needs no dird.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

slapd_generated 600 5 3 || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
cp "$DIR_CONF" "$WORK/good.conf"
# t [SED]: dirctl test on the good configuration changed by SED; output in $out, exit code in $RC
t() {
	cp "$WORK/good.conf" "$DIR_CONF"
	[ -n "${1:-}" ] && sed -i "$1" "$DIR_CONF"
	"$BUILD/dirctl/dirctl" test >"$WORK/out" 2>&1
	RC=$?
	out=$(cat "$WORK/out")
}

t
check_eq "a good configuration: every step ok, exit 0" "0" "$RC"
for s in resolve connect tls bind "read base" "find users" "find groups" "user groups"; do
	check "a good configuration: step '$s' ok" grep -Eq "^  $s +ok " <<<"$out"
done
check "it counts users past the server's size limit of 500 (paged)" grep -q "612 usable" <<<"$out"
check "it names a skipped entry and why" grep -q "skipped 1, e.g. user lowid: uid 500 is below min_id 1000" <<<"$out"
check "it reads one user's groups" grep -q "alice: uid 20001, primary gid 20000, in 1 other group" <<<"$out"

# expect NAME SED STEP CAUSE: that mistake fails at STEP, names CAUSE and exits 1
expect() {
	t "$2"
	check_eq "$1: exit 1" "1" "$RC"
	check "$1: fails at $3" grep -q "result: FAILED at $3" <<<"$out"
	check "$1: says '$4'" grep -q "cause: .*$4" <<<"$out"
}
expect "nothing listens" "s|^uri = .*|uri = ldap://127.0.0.1:1|" connect "check the server, the port in uri, and firewalls"
expect "a host that does not resolve" "s|^uri = .*|uri = ldap://no-such-host.invalid|" resolve "does not resolve"
expect "a wrong password" "s|^bind_dn = .*|bind_dn = cn=nobody,ou=system,dc=example,dc=test|" bind "check bind_dn and the password"
expect "a wrong base_dn" "s|^base_dn = .*|base_dn = dc=nowhere,dc=test|" "read base" "check base_dn"
expect "a user_filter that matches nothing" "/^page_size/a user_filter = (objectClass=inetOrgPerson)" "find users" "check user_base, user_filter"
expect "users without the mapped id attribute" "/^page_size/a uid_attr = employeeNumber" "find users" "check the attribute names"
expect "groups in the wrong place" "s|^group_base = .*|group_base = ou=system,dc=example,dc=test|" "find groups" "check group_base, group_filter"
t "s|^uri = .*|uri = ldap://127.0.0.1:1 $SLAPD_URI|"
check_eq "a dead uri first, a good one after: ok" "0" "$RC"
check "the dead one is still shown" grep -q "connect      FAIL" <<<"$out"
t
out=$("$BUILD/dirctl/dirctl" domain info 2>&1)
check "domain info names the server" grep -q "server:       $SLAPD_URI" <<<"$out"
check "domain info names the port" grep -q "port:         $SLAPD_PORT" <<<"$out"
cp "$WORK/good.conf" "$DIR_CONF"
sed -i "s|^uri = .*|uri = ldap://127.0.0.1:1|" "$DIR_CONF"
out=$("$BUILD/dirctl/dirctl" domain info 2>&1)
check_eq "domain info of an unreachable domain: exit 4" "4" "$?"
check "and points at dirctl test" grep -q "dirctl test example says why" <<<"$out"
t
out=$("$BUILD/dirctl/dirctl" test nosuchdomain 2>&1)
check_eq "an unknown domain is a usage error" "2" "$?"
check "and says so" grep -q "no domain nosuchdomain" <<<"$out"
finish
