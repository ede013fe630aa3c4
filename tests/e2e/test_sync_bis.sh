#!/bin/bash
# Change streams of an RFC 2307bis domain (groups name their members by DN: groupOfNames'
# member, groupOfUniqueNames' uniqueMember, nested groups) against a real slapd with syncprov
# and the refint overlay on member (not on uniqueMember, whose values a rename leaves
# dangling): a user added and named in a group, a group naming a user before it exists, a rename,
# a membership removed, a nested group, a user leaving the filter and a user deleted each reach
# getent and id; a user added again under the DN of one deleted is in none of the groups refint
# took it out of; a restart resumes with what the groups name; and after all of it the cache
# holds what a full refresh of the same directory gives.  Bounds are wide (they prove nothing
# hangs, not how fast it is).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

B=dc=example,dc=test
P=ou=people,$B
G=ou=groups,$B
user() { # NAME UID
	printf 'dn: uid=%s,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: %s\ncn: %s\nuidNumber: %s\ngidNumber: 30000\nhomeDirectory: /home/%s\n\n' \
		"$1" "$P" "$1" "$1" "$2" "$1"
}
group() { # NAME GID CLASS ATTR DN...
	local name=$1 gid=$2 class=$3 attr=$4
	shift 4
	printf 'dn: cn=%s,%s\nobjectClass: %s\nobjectClass: posixGroup\ncn: %s\ngidNumber: %s\n' \
		"$name" "$G" "$class" "$name" "$gid"
	for dn in "$@"; do printf '%s: %s\n' "$attr" "$dn"; done
	echo
}
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$B"
	for ou in system policies people groups; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$B" "$ou"
	done
	printf 'dn: cn=default,ou=policies,%s\nobjectClass: organizationalRole\nobjectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\n\n' "$B"
	printf 'dn: cn=reader,ou=system,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n' "$B"
	user ann 30001
	user ben 30002
	user cal 30003
	group folk 30000 namedObject memberUid
	group devs 30010 groupOfNames member "uid=ann,$P" "uid=ben,$P"
	group eng 30011 groupOfNames member "cn=devs,$G" "uid=cal,$P"
	group legacy 30012 groupOfUniqueNames uniqueMember "uid=ann,$P" "uid=ben,$P"
} >"$WORK/data.ldif"

# refint rewrites member values when the entry they name is renamed or deleted; Debian's slapd
# ships it (/usr/lib/ldap/refint.so).
SLAPD_SCHEMA=rfc2307bis SLAPD_SYNCPROV=1 SLAPD_GLOBAL="moduleload /usr/lib/ldap/refint.so" \
	SLAPD_DB_EXTRA="overlay refint
refint_attributes member" slapd_start "$WORK/slapd" "$WORK/data.ldif" || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI" "enumerate = yes"
printf 'schema = rfc2307bis\nuser_filter = (&(objectClass=posixAccount)(!(description=left)))\n' >>"$DIR_CONF"
write_nsswitch "$WORK/nss" "files dir"
NSS=$WORK/nss
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")

modify() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }
status() { # FIELD: the domain's FIELD in dirctl status --json
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0][sys.argv[1]])' "$1" 2>/dev/null
}
members_are() { [ "$(in_ns "$NSS" getent group "$1")" = "$1:*:$2:$3" ]; }
groups_are() { [ "$(in_ns "$NSS" id -Gn "$1" 2>/dev/null | tr ' ' '\n' | sort | tr '\n' ' ')" = "$2" ]; }
absent() { ! in_ns "$NSS" getent passwd "$1"; }
in_sync() { [ "$(status in_sync)" = True ]; }
# expect GROUP GID MEMBERS WHAT: GROUP's members are MEMBERS within 10 s
expect() {
	if within 10 members_are "$1" "$2" "$3"; then
		ok "$4"
	else
		not_ok "$4" "$(in_ns "$NSS" getent group "$1"), not $1:*:$2:$3"
	fi
}
expect_ids() { # USER GROUPS WHAT
	if within 10 groups_are "$1" "$2"; then
		ok "$3"
	else
		not_ok "$3" "id: $(in_ns "$NSS" id -Gn "$1" 2>&1), not $2"
	fi
}
# The cache as NSS lists it: every group with its members, every user's groups.
view() {
	in_ns "$NSS" getent group | awk -F: '$3 >= 30000 && $3 < 31000' | sort
	for u in $(in_ns "$NSS" getent passwd | awk -F: '$3 >= 30000 && $3 < 31000 {print $1}' | sort); do
		echo "$u: $(in_ns "$NSS" id -Gn "$u" | tr ' ' '\n' | sort | tr '\n' ' ')"
	done
}

dird_start || exit 1
within 30 in_sync && ok "the rfc2307bis domain's stream is in sync" ||
	not_ok "the rfc2307bis domain's stream is in sync" "$(status changes_state)"
check_eq "dirctl status names the mechanism" "RFC 4533 sync" "$(status changes)"
check_fails "and gives no reason for not streaming" grep -q "not streamed" <(status changes_state)
check_fails "the first start runs no full refresh beside the stream's read" grep -q "refresh done" "$WORK/dird.log"
expect devs 30010 ann,ben "the first read resolves member DNs"
expect eng 30011 ann,ben,cal "and nested groups"
expect legacy 30012 ann,ben "and uniqueMember"
expect_ids ann "devs eng folk legacy " "id of a user in every kind of group"

{ user dan 30004 | sed '1a changetype: add'; } | modify
printf 'dn: cn=devs,%s\nchangetype: modify\nadd: member\nmember: uid=dan,%s\n' "$G" "$P" | modify
expect devs 30010 ann,ben,dan "a user added, then named in a group by DN, is its member"
expect eng 30011 ann,ben,cal,dan "and the nesting group's"
expect_ids dan "devs eng folk " "id of the added user lists both"

printf 'dn: cn=legacy,%s\nchangetype: modify\nadd: uniqueMember\nuniqueMember: uid=erin,%s\n' "$G" "$P" | modify
sleep 1 # the group's change alone: erin names no user yet
check_eq "a DN that is no user yet is skipped" "legacy:*:30012:ann,ben" "$(in_ns "$NSS" getent group legacy)"
{ user erin 30005 | sed '1a changetype: add'; } | modify
expect legacy 30012 ann,ben,erin "a user added after a group named it is its member"
expect_ids erin "folk legacy " "and id says so"

printf 'dn: uid=ben,%s\nchangetype: modrdn\nnewrdn: uid=benny\ndeleteoldrdn: 1\n' "$P" | modify
expect devs 30010 ann,benny,dan "a renamed user is its groups' member under its new name (refint rewrote member)"
expect eng 30011 ann,benny,cal,dan "and the nesting group's"
expect legacy 30012 ann,erin "without refint (uniqueMember) the old DN dangles: the user leaves the group"
expect_ids benny "devs eng folk " "id of the renamed user"

printf 'dn: cn=devs,%s\nchangetype: modify\ndelete: member\nmember: uid=ann,%s\n' "$G" "$P" | modify
expect devs 30010 benny,dan "a member DN removed leaves the group"
expect eng 30011 benny,cal,dan "and the nesting group"
expect_ids ann "folk legacy " "and the user's id"

{ group tops 30013 groupOfNames member "cn=eng,$G" | sed '1a changetype: add'; } | modify
expect tops 30013 benny,cal,dan "a new group nesting a group has its members"
printf 'dn: cn=devs,%s\nchangetype: modify\nadd: member\nmember: cn=tops,%s\n' "$G" "$G" | modify
expect devs 30010 benny,cal,dan "a cycle (devs -> tops -> eng -> devs) is tolerated"
expect_ids cal "devs eng folk tops " "id through the cycle"

printf 'dn: uid=cal,%s\nchangetype: modify\nadd: description\ndescription: left\n' "$P" | modify
within 10 absent cal && ok "a user leaving the filter is gone" || not_ok "a user leaving the filter is gone"
expect eng 30011 benny,dan "and leaves the groups naming it"
expect tops 30013 benny,dan "and those nesting them"

: >"$WORK/dird.log"
printf 'dn: uid=dan,%s\nchangetype: delete\n' "$P" | modify
within 10 absent dan && ok "a deleted user is gone" || not_ok "a deleted user is gone"
expect tops 30013 benny "and leaves its groups' member lists"
# refint took the deleted DN out of devs, telling no stream: a user added again under that DN
# is no member of it.
within 10 grep -q "reading again" "$WORK/dird.log" || not_ok "the groups naming a deleted user are read again"
{ user dan 30004 | sed '1a changetype: add'; } | modify
within 10 in_ns "$NSS" getent passwd dan || not_ok "a user added again is seen"
check_eq "a user added again under a DN refint dropped from its groups is in none of them" \
	"devs:*:30010:benny" "$(in_ns "$NSS" getent group devs)"

# A restart resumes: a group changed while dird is down names a user the stream put before.
dird_stop
printf 'dn: cn=legacy,%s\nchangetype: modify\nadd: uniqueMember\nuniqueMember: uid=benny,%s\n' "$G" "$P" | modify
: >"$WORK/dird.log"
dird_start || exit 1
expect legacy 30012 ann,benny,erin "after a restart a group's change resolves its member DNs"
check_eq "the restart read nothing whole (full_syncs)" 0 "$(status full_syncs)"

# The reference: a full refresh of the same directory gives the same cache.
within 30 in_sync || not_ok "in sync before the refresh" "$(status changes_state)"
view >"$WORK/streamed"
: >"$WORK/dird.log"
"${CTL[@]}" cache refresh >/dev/null
within 30 grep -q "refresh done" "$WORK/dird.log" || not_ok "the refresh ends" "$(tail -5 "$WORK/dird.log")"
view >"$WORK/refreshed"
if [ -s "$WORK/streamed" ] && cmp -s "$WORK/streamed" "$WORK/refreshed"; then
	ok "after the changes the streamed cache is what a full refresh gives ($(wc -l <"$WORK/streamed") lines)"
else
	not_ok "after the changes the streamed cache is what a full refresh gives" \
		"$(diff "$WORK/streamed" "$WORK/refreshed")"
fi

finish
