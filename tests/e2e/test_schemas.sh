#!/bin/bash
# Directory layouts: RFC 2307bis (member DNs, three levels of nesting and a cycle, memberOf),
# attribute mapping, filters and scopes, sync_groups, and a tree that mixes every kind of group
# (memberUid, member, uniqueMember, nesting, member DNs to skip) read with the defaults; through
# a full refresh and through single lookups (enumerate = no); real slapd, the real getent, id
# and groups.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

python3 "$HERE/../lib/gen_schemas_ldif.py" "$WORK/data.ldif"
SLAPD_SCHEMA=rfc2307bis slapd_start "$WORK/slapd" "$WORK/data.ldif" || exit 1
write_nsswitch "$WORK/nss" "files dir"

# conf ENUMERATE: two domains on the one server
conf() {
	dird_stop
	rm -rf "$WORK/cache" "$WORK/run"
	write_dird_conf "$DIR_CONF" "$SLAPD_URI" "enumerate = $1"
	sed -i '/^\[domain\/example\]/,$d' "$DIR_CONF"
	cat >>"$DIR_CONF" <<CONF
[domain/bis]
uri = $SLAPD_URI
base_dn = ou=bis,dc=example,dc=test
bind_dn = cn=reader,ou=system,dc=example,dc=test
bind_password_file = $WORK/bindpw
schema = rfc2307bis
group_filter = (objectClass=groupOfNames)
sync_groups = top, solo

[domain/custom]
uri = $SLAPD_URI
base_dn = ou=custom,dc=example,dc=test
user_base = ou=staff,ou=custom,dc=example,dc=test
user_scope = one
group_base = ou=teams,ou=custom,dc=example,dc=test
bind_dn = cn=reader,ou=system,dc=example,dc=test
bind_password_file = $WORK/bindpw
schema = rfc2307bis
user_filter = (objectClass=inetOrgPerson)
group_filter = (objectClass=groupOfNames)
user_name_attr = cn
uid_attr = employeeNumber
gid_attr = departmentNumber
gecos_attr = displayName
email_attr = mail
# an attribute that holds no DN, as a careless administrator may name: its values are skipped
member_attr = member, description

[domain/mixed]
uri = $SLAPD_URI
base_dn = ou=mixed,dc=example,dc=test
user_base = ou=people,ou=mixed,dc=example,dc=test
group_base = ou=groups,ou=mixed,dc=example,dc=test
bind_dn = cn=reader,ou=system,dc=example,dc=test
bind_password_file = $WORK/bindpw
schema = rfc2307bis
CONF
	dird_start
	[ "$1" = yes ] && dird_wait_refresh
}
g() { in_ns "$WORK/nss" getent group "$1"; }
ids() { in_ns "$WORK/nss" id -Gn "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }
grps() { in_ns "$WORK/nss" groups "$1" | cut -d: -f2 | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
# skipped [DOMAIN]: the member DNs dirctl status counts as skipped in DOMAIN (mixed)
skipped() {
	"${CTL[@]}" --json status | python3 -c 'import json,sys; print([d for d in json.load(sys.stdin)["domains"] if d["name"]==sys.argv[1]][0]["skipped_members"])' "${1:-mixed}"
}
# What the mixed tree says (tests/lib/gen_schemas_ldif.py), as getent group prints it.
MIXED_GROUPS="all:*:61003:mia,noa,oli,pat,quinn
devs:*:61001:mia,noa
eng:*:61002:mia,noa,quinn
folk:*:61010:
legacy:*:61000:mia,oli
ops:*:61004:oli,pat
stray:*:61005:noa"

for mode in yes no; do
	how=$([ $mode = yes ] && echo "refresh" || echo "lookup")
	conf $mode
	check_eq "$how: three levels of nesting reach the top group" "top:*:41000:ann,ben,cal,eve" "$(g top)"
	check_eq "$how: a cycle (mid <-> leaf) is tolerated" "mid:*:41001:ben,cal,eve" "$(g mid)"
	check_eq "$how: the other side of the cycle" "leaf:*:41002:ben,cal,eve" "$(g leaf)"
	check_eq "$how: id of a user three levels down" "leaf mid people top " "$(ids cal)"
	check_eq "$how: id of a user the server lists with memberOf" "leaf mid people top " "$(ids eve)"
	check_eq "$how: id of a user in one flat group" "people solo " "$(ids dee)"
	check_fails "$how: sync_groups: a user in none of them is not served" in_ns "$WORK/nss" getent passwd fay
	check_eq "$how: mapped attributes (cn, employeeNumber, departmentNumber, displayName)" \
		"zed:*:50001:50000:Zed Example:/home/zed:/bin/sh" "$(in_ns "$WORK/nss" getent passwd zed)"
	check_eq "$how: a mapped group with member DNs" "crew:*:50010:yan,zed" "$(g crew)"
	check_eq "$how: a value of a member attribute that is no DN is counted as skipped" "1" "$(skipped custom)"
	check_fails "$how: user_scope = one leaves out a user one level deeper" in_ns "$WORK/nss" getent passwd old
	check_fails "$how: the uid attribute is not the name here" in_ns "$WORK/nss" getent passwd x1
	check_eq "$how: a uid two users have: the smaller name is served" "ann" \
		"$(in_ns "$WORK/nss" getent passwd 40001 | cut -d: -f1)"
	check_eq "$how: a gid two groups have: the smaller name is served" "solo" \
		"$(in_ns "$WORK/nss" getent group 41003 | cut -d: -f1)"
	# The mixed tree, with the defaults of schema = rfc2307bis.
	check_eq "$how: mixed: posixGroup with memberUid" "legacy:*:61000:mia,oli" "$(g legacy)"
	check_eq "$how: mixed: groupOfNames, users in sub-OUs" "devs:*:61001:mia,noa" "$(g devs)"
	check_eq "$how: mixed: a nested group and a user" "eng:*:61002:mia,noa,quinn" "$(g eng)"
	check_eq "$how: mixed: three deep, itself as a member, and memberUid on the same entry" \
		"all:*:61003:mia,noa,oli,pat,quinn" "$(g all)"
	check_eq "$how: mixed: groupOfUniqueNames (a value with the optional UID is not followed)" \
		"ops:*:61004:oli,pat" "$(g ops)"
	check_eq "$how: mixed: DNs in another branch, of another kind of entry and of nothing are skipped" \
		"stray:*:61005:noa" "$(g stray)"
	check_eq "$how: mixed: by gid" "all:*:61003:mia,noa,oli,pat,quinn" "$(g 61003)"
	check_eq "$how: mixed: they are counted in dirctl status" "4" "$(skipped)"
	check_eq "$how: mixed: id of a user in every kind of group" "all devs eng folk legacy " "$(ids mia)"
	check_eq "$how: mixed: id of a user in memberUid, member and uniqueMember groups" \
		"all folk legacy ops " "$(ids oli)"
	check_eq "$how: mixed: id of a user in a groupOfUniqueNames" "all folk ops " "$(ids pat)"
	check_eq "$how: mixed: id of a user listed beside skipped DNs" "all devs eng folk stray " "$(ids noa)"
	check_eq "$how: mixed: groups agrees with id" "all eng folk " "$(grps quinn)"
	check_fails "$how: mixed: a user outside user_base is not served" in_ns "$WORK/nss" getent passwd xavi
done
check_eq "email_attr is kept in the cache record" "zed@example.test" \
	"$("${CTL[@]}" --json user zed | python3 -c 'import json,sys; print(json.load(sys.stdin)["email"])')"
conf yes # here, not in $(...): a dird started in a subshell would outlive the test
check_eq "getent passwd lists only what sync_groups and the scope allow" \
	"ann ben cal dee eve yan zed" \
	"$(in_ns "$WORK/nss" getent passwd | awk -F: '$3 >= 40000 && $3 < 60000 {print $1}' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "mixed: enumeration lists the groups as the tree has them" "$MIXED_GROUPS" \
	"$(in_ns "$WORK/nss" getent group | awk -F: '$3 >= 61000 && $3 < 62000' | sort)"
check_eq "mixed: enumeration lists the users under user_base" "mia noa oli pat quinn" \
	"$(in_ns "$WORK/nss" getent passwd | awk -F: '$3 >= 60000 && $3 < 61000 {print $1}' | sort | tr '\n' ' ' | sed 's/ $//')"
check "mixed: dirctl status says why members were skipped" grep -q "4 member DNs of groups are no user or group here" \
	<("${CTL[@]}" status)
check "mixed: dird's log names a skipped DN" grep -q "group stray: member uid=xavi,ou=elsewhere,ou=mixed,dc=example,dc=test is not a user or group served here" \
	"$WORK/dird.log"
check_fails "of two users with one uid, the other one is not served" in_ns "$WORK/nss" getent passwd ann2
check "dird's log names both" grep -q "users ann (uid 40001) and ann2 (uid 40001) share a name or uid; ann is served" "$WORK/dird.log"
check "dirctl status warns" grep -q "warning: 2 entries share a name or id" <("${CTL[@]}" status)
check_eq "dirctl status --json counts them" "2" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; print([d for d in json.load(sys.stdin)["domains"] if d["name"]=="bis"][0]["duplicates"])')"
mkdir "$WORK/pam.d"
printf 'auth required %s\n' "$BUILD/pam_dir/pam_dir.so" >"$WORK/pam.d/bare"
pam() { echo "$2" | in_ns "$WORK/nss" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare "$1" auth 2>&1; }
check_eq "PAM: a user of the 2307bis domain logs in" "auth: Success" "$(pam ann annpw)"
check_eq "PAM: a user sync_groups leaves out is not a directory user" \
	"auth: User not known to the underlying authentication module" "$(pam fay faypw)"
finish
