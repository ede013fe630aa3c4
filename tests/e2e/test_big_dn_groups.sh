#!/bin/bash
# Big RFC 2307bis groups (groupOfNames listing users by DN) read by single lookups
# (enumerate = no) and by a refresh: a group lookup reads its users a hundred to a search, so a
# group of 8,000 comes whole and in time, one of 12,000 is cut at 10,000 (logged); a refresh
# reads both whole; the users' own lookups list their groups.  Real slapd, the real getent, id.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

python3 - "$WORK/data.ldif" <<'PY'
import sys
base = "dc=example,dc=test"
out = [f"dn: {base}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n"]
for ou in ("people", "groups", "system"):
    out.append(f"dn: ou={ou},{base}\nobjectClass: organizationalUnit\nou: {ou}\n")
out.append(f"dn: cn=reader,ou=system,{base}\nobjectClass: organizationalRole\n"
           f"objectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n")
for i in range(12000):
    out.append(f"dn: uid=b{i:05d},ou=people,{base}\nobjectClass: account\nobjectClass: posixAccount\n"
               f"uid: b{i:05d}\ncn: b{i:05d}\nuidNumber: {70000 + i}\ngidNumber: 69999\n"
               f"homeDirectory: /home/b{i:05d}\n")
def group(name, gid, n):
    members = "".join(f"member: uid=b{i:05d},ou=people,{base}\n" for i in range(n))
    return (f"dn: cn={name},ou=groups,{base}\nobjectClass: groupOfNames\nobjectClass: posixGroup\n"
            f"cn: {name}\ngidNumber: {gid}\n{members}")
out.append(group("people", 69999, 0) + f"member: cn=reader,ou=system,{base}\n")  # primary
out.append(group("eightk", 70000, 8000))
out.append(group("twelvek", 70001, 12000))
open(sys.argv[1], "w").write("\n".join(out))
PY
SLAPD_SCHEMA=rfc2307bis slapd_start "$WORK/slapd" "$WORK/data.ldif" || exit 1
write_nsswitch "$WORK/nss" "files dir"
members() { in_ns "$WORK/nss" getent group "$1" | cut -d: -f4 | tr , '\n' | grep -c .; }

for mode in no yes; do
	how=$([ $mode = yes ] && echo "refresh" || echo "lookup")
	dird_stop
	rm -rf "$WORK/cache" "$WORK/run"
	write_dird_conf "$DIR_CONF" "$SLAPD_URI" "enumerate = $mode"
	# a wide nss_timeout: under ASan the 8,000 reads take 2.5 s, on a loaded machine more
	sed -i 's/^page_size.*/&\nschema = rfc2307bis/; s/^nss_timeout.*/nss_timeout = 20/' "$DIR_CONF"
	dird_start || exit 1
	[ $mode = yes ] && dird_wait_refresh
	t0=$(now_ms)
	n=$(members eightk)
	t=$(( $(now_ms) - t0 ))
	check_eq "$how: a group of 8,000 member DNs comes whole" "8000" "$n"
	check "$how: ...at once ($t ms, bound 15 s)" test "$t" -lt 15000
	check_eq "$how: the user last in it lists it" "b07999 : people eightk twelvek" "$(in_ns "$WORK/nss" groups b07999)"
	if [ $mode = no ]; then
		check_eq "$how: a group of 12,000 is cut at 10,000" "10000" "$(members twelvek)"
		check "$how: ...and dird's log says so" grep -q "group twelvek has more than 10000 members to read; its member list is cut there" "$WORK/dird.log"
		check_eq "$how: a user past the cut still lists it" "b11999 : people twelvek" "$(in_ns "$WORK/nss" groups b11999)"
	else
		check_eq "$how: a group of 12,000 comes whole" "12000" "$(members twelvek)"
	fi
done
finish
