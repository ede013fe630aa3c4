#!/bin/bash
# What a directory entry must not get from its own values: a home_template path out of the
# template's directory (a name holding '/' or "..", or "."), and a group it names in memberOf
# outside group_base.  A real slapd (RFC 2307bis, memberOf given), through a full refresh and
# through single lookups (enumerate = no), with the real getent and id; and an entry with more
# attribute descriptions than dird asks for (cn;lang-...) is still read whole.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

BASE=dc=example,dc=test
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$BASE"
	for ou in people groups elsewhere system policies; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$BASE" "$ou"
	done
	printf 'dn: cn=default,ou=policies,%s\nobjectClass: organizationalRole\nobjectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\n\n' "$BASE"
	printf 'dn: cn=reader,ou=system,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n' "$BASE"
	# person NAME UID [MEMBEROF_DN...]: no homeDirectory of use (home_attr names none), so the
	# template makes it
	person() {
		local name=$1 uid=$2 dn
		shift 2
		printf 'dn: uid=%s,ou=people,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: %s\ncn: %s\nuidNumber: %s\ngidNumber: 40000\nhomeDirectory: /unused\n' \
			"$name" "$BASE" "$name" "$name" "$uid"
		for dn in "$@"; do printf 'memberOf: %s\n' "$dn"; done
		echo
	}
	person plain 40001 "cn=team,ou=groups,$BASE" "cn=wheel,ou=elsewhere,$BASE" \
		"ou=trap\\,ou=groups,$BASE"
	person ../../root 40002
	person ops/../../etc 40003
	person .. 40004
	person . 40005
	person dots..inside 40006
	# More attribute descriptions than dird asks for attributes (cn in 30 languages, which a
	# request for cn returns too), stored before the ids
	printf 'dn: uid=polyglot,ou=people,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: polyglot\n' "$BASE"
	for i in $(seq 30); do printf 'cn;lang-x%s: Poly %s\n' "$i" "$i"; done
	printf 'cn: polyglot\nuidNumber: 40007\ngidNumber: 40000\nhomeDirectory: /unused\n\n'
	# group DN CN GID [LINE]: groupOfNames with a posixGroup gid, plain its member
	group() {
		printf 'dn: %s\nobjectClass: groupOfNames\nobjectClass: posixGroup\ncn: %s\ngidNumber: %s\nmember: uid=plain,ou=people,%s\n%s\n' \
			"$1" "$2" "$3" "$BASE" "${4:+$4
}"
	}
	group "cn=team,ou=groups,$BASE" team 40000
	group "cn=wheel,ou=elsewhere,$BASE" wheel 40100
	# right under the base: only the text of its RDN ends in ou=groups
	group "ou=trap\\,ou=groups,$BASE" trap 40101 "ou: trap,ou=groups"
} >"$WORK/data.ldif"
SLAPD_SCHEMA=rfc2307bis slapd_start "$WORK/slapd" "$WORK/data.ldif" || exit 1

write_nsswitch "$WORK/nss" "files dir"
pw() { in_ns "$WORK/nss" getent passwd "$1"; }

for mode in yes no; do
	how=$([ $mode = yes ] && echo refresh || echo lookup)
	dird_stop
	rm -rf "$WORK/cache" "$WORK/run"
	write_dird_conf "$DIR_CONF" "$SLAPD_URI" "enumerate = $mode"
	cat >>"$DIR_CONF" <<CONF
schema = rfc2307bis
home_attr = nohome
home_template = /home/%U
CONF
	dird_start || exit 1
	[ $mode = yes ] && { dird_wait_refresh || exit 1; }

	check_eq "$how: home_template makes a home for a plain name" "/home/plain" "$(pw plain | cut -d: -f6)"
	for name in ../../root ops/../../etc .. . dots..inside; do
		check_fails "$how: '$name' is refused (a name with / or .., or '.', never goes into home_template)" pw "$name"
	done
	check_fails "$how: ... and not found by its uid either" pw 40002
	check_eq "$how: a user whose entry holds cn in 30 languages is served" "polyglot:40007" \
		"$(pw polyglot | cut -d: -f1,3)"
	check_eq "$how: memberOf outside group_base is not a group of ours" "40000" \
		"$(in_ns "$WORK/nss" id -G plain)"
done
check "dird's log says why" grep -q "refused user ../../root: the name would take home_template /home/%U out of its directory" \
	"$WORK/dird.log"
dird_stop
rm -rf "$WORK/cache" "$WORK/run"
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
printf 'schema = rfc2307bis\nhome_attr = nohome\n' >>"$DIR_CONF"
dird_start && dird_wait_refresh || exit 1
check_eq "dirctl status counts the five refused users" "5" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["refused"])')"
finish
