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

# --json: what monitoring reads; the same steps, a failure with its cause
out=$("$BUILD/dirctl/dirctl" --json test 2>&1)
check_eq "test --json on a good configuration: exit 0" "0" "$?"
check "test --json: the steps as JSON, each ok" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["tests"][0]
assert d["result"] == "ok" and t["domain"] == "example" and t["result"] == "ok", d
steps = [s["step"] for s in t["steps"] if s["ok"]]
assert steps == ["resolve", "connect", "tls", "bind", "read base", "find users", "find groups", "user groups"], steps
assert any("skipped 1" in n for n in t["notes"]), t["notes"]' "$out"
sed -i "s|^bind_dn = .*|bind_dn = cn=nobody,ou=system,dc=example,dc=test|" "$DIR_CONF"
out=$("$BUILD/dirctl/dirctl" test --json 2>&1)
check_eq "test --json with a wrong password: exit 1" "1" "$?"
check "test --json: the failed step and its cause" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["tests"][0]
assert d["result"] == "FAILED" and t["failed_at"] == "bind", d
assert "refused the password" in t["steps"][-1]["cause"], t' "$out"

# expect NAME SED STEP CAUSE: that mistake fails at STEP, names CAUSE and exits 1
expect() {
	t "$2"
	check_eq "$1: exit 1" "1" "$RC"
	check "$1: fails at $3" grep -q "result: FAILED at $3" <<<"$out"
	check "$1: says '$4'" grep -q "cause: .*$4" <<<"$out"
}
expect "nothing listens" "s|^uri = .*|uri = ldap://127.0.0.1:1|" connect "check the server, the port in uri, and firewalls"
expect "a host that does not resolve" "s|^uri = .*|uri = ldap://no-such-host.invalid|" resolve "does not resolve"
expect "a wrong bind_dn" "s|^bind_dn = .*|bind_dn = cn=nobody,ou=system,dc=example,dc=test|" bind "the server refused the password: check bind_dn and the password"
printf 'wrongpw\n' >"$WORK/badpw"
chmod 600 "$WORK/badpw"
expect "a wrong password" "s|^bind_password_file = .*|bind_password_file = $WORK/badpw|" bind "the server refused the password"
# Each bind failure names its own cause, not the password's.
chmod 644 "$WORK/bindpw"
expect "a password file readable by others" "" bind "bind_password_file cannot be used (no password was sent): .*mode 0644.*chmod 600"
check "a password file readable by others: the password is not blamed" \
	bash -c '! grep -q "check bind_dn and the password" "$1"' _ "$WORK/out"
chmod 600 "$WORK/bindpw"
: >"$WORK/emptypw"
chmod 600 "$WORK/emptypw"
expect "an empty password file" "s|^bind_password_file = .*|bind_password_file = $WORK/emptypw|" bind "bind_password_file cannot be used .*emptypw is empty"
# A frozen server: the kernel takes the connection, nothing answers the bind.
kill -STOP "$SLAPD_PID"
start=$(date +%s)
expect "a frozen server" "/^page_size/a timeout = 2" bind "did not answer the bind within timeout (2 s): it is hung"
kill -CONT "$SLAPD_PID"
check "a frozen server: dirctl test gives up within its timeout" test $(($(date +%s) - start)) -lt 10
check "a frozen server: the password is not blamed" \
	bash -c '! grep -q "check bind_dn and the password" "$1"' _ "$WORK/out"
# A uri that is not one is refused when the file is read, with file:line.
t "s|^uri = .*|uri = ldap://127.0.0.1:389x|"
check_eq "a bad uri: exit 1" "1" "$RC"
line=$(grep -n '^uri = ' "$DIR_CONF" | cut -d: -f1)
check "a bad uri: named with file:line" grep -q "^dirctl: $DIR_CONF:$line: uri: 'ldap://127.0.0.1:389x' is not a valid LDAP uri" <<<"$out"
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
# dirctl config check: the file as dird reads it, without dird
cp "$WORK/good.conf" "$DIR_CONF"
out=$("$BUILD/dirctl/dirctl" config check 2>&1)
check_eq "config check of a good file: exit 0" "0" "$?"
check "config check of a good file: says ok" grep -q "^$DIR_CONF: ok (1 domain, 0 realms)" <<<"$out"
sed "s|^base_dn = |bsae_dn = |" "$WORK/good.conf" >"$WORK/typo.conf"
out=$("$BUILD/dirctl/dirctl" config check "$WORK/typo.conf" 2>&1)
check_eq "config check FILE with a misspelt key: exit 1" "1" "$?"
line=$(grep -n '^bsae_dn' "$WORK/typo.conf" | cut -d: -f1)
check "a misspelt key: file:line and did you mean" grep -q "^dirctl: $WORK/typo.conf:$line: unknown key 'bsae_dn' in \[domain/example\]: did you mean base_dn?" <<<"$out"
cp "$WORK/good.conf" "$WORK/twice.conf"
echo "base_dn = dc=other,dc=test" >>"$WORK/twice.conf"
out=$("$BUILD/dirctl/dirctl" config check "$WORK/twice.conf" 2>&1)
check "a repeated key is refused, with both lines" grep -q "twice.conf:$(wc -l <"$WORK/twice.conf"): base_dn is given twice in \[domain/example\] (first on line $(grep -n '^base_dn' "$WORK/good.conf" | cut -d: -f1)): keep one" <<<"$out"
"$BUILD/dird/dird" -f -c "$WORK/twice.conf" >"$WORK/dird-twice.log" 2>&1
check_eq "dird refuses it too: exit 1" "1" "$?"
check "dird says the same" grep -q "base_dn is given twice" "$WORK/dird-twice.log"
# What is no dird.conf is said at once (a FIFO hung config check and dird for ever, /dev/zero
# was read for ever, a NUL byte cut the line silently)
mkfifo "$WORK/fifo.conf"
printf "[global]\nlog_level = info\0 = debug\n" >"$WORK/nul.conf"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '\n' >"$WORK/big.conf"
for f in "$WORK/fifo.conf:not a regular file" "/dev/zero:not a regular file" \
	"$WORK:not a regular file" "$WORK/big.conf:larger than 1 MiB" "$WORK/nul.conf:2: NUL byte in line"; do
	out=$(timeout 10 "$BUILD/dirctl/dirctl" config check "${f%%:*}" 2>&1); rc=$?
	check_eq "config check ${f%%:*}: exit 1" "1" "$rc"
	check "...says ${f#*:}" grep -qF "${f#*:}" <<<"$out"
done
timeout 10 "$BUILD/dird/dird" -f -c "$WORK/fifo.conf" >"$WORK/dird-fifo.log" 2>&1
check_eq "dird -c FIFO: exit 1 at once" "1" "$?"
chmod 644 "$WORK/bindpw"
out=$("$BUILD/dirctl/dirctl" config check 2>&1)
check "config check: a password file readable by others, as dird refuses it" grep -q "bind_password_file: .*mode 0644); chmod 600 it" <<<"$out"
chmod 600 "$WORK/bindpw"
version=$(sed -n "s/^  version : '\(.*\)',/\1/p" "$HERE/../../meson.build")
check_eq "dird --version" "dird $version" "$("$BUILD/dird/dird" --version)"
check_eq "dirctl --version" "dirctl $version" "$("$BUILD/dirctl/dirctl" --version)"
t
out=$("$BUILD/dirctl/dirctl" test nosuchdomain 2>&1)
check_eq "an unknown domain is a usage error" "2" "$?"
check "and says so" grep -q "no domain nosuchdomain" <<<"$out"
finish
