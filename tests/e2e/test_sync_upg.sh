#!/bin/bash
# A change stream and an entry that is a user and a group at once (rfc2307bis makes posixGroup
# auxiliary: a user's private group in the user's own entry), with members by name so the
# domain streams.  The groups' stream speaks only of the group: the entry leaving the group
# filter takes the group away and leaves the user, and a resume through a present phase keeps
# both.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
B=dc=example,dc=test
cat >"$WORK/data.ldif" <<LDIF
dn: $B
objectClass: dcObject
objectClass: organization
o: example
dc: example

dn: ou=people,$B
objectClass: organizationalUnit
ou: people

dn: ou=system,$B
objectClass: organizationalUnit
ou: system

dn: cn=reader,ou=system,$B
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: readerpw

dn: uid=upg,ou=people,$B
objectClass: account
objectClass: posixAccount
objectClass: posixGroup
uid: upg
cn: upg
uidNumber: 30001
gidNumber: 30001
homeDirectory: /home/upg
memberUid: upg

dn: uid=both,ou=people,$B
objectClass: account
objectClass: posixAccount
objectClass: posixGroup
uid: both
cn: both
uidNumber: 30002
gidNumber: 30002
homeDirectory: /home/both
memberUid: both
LDIF
SLAPD_SCHEMA=rfc2307bis SLAPD_SYNCPROV=1 SLAPD_SESSIONLOG=0 slapd_start "$WORK/slapd" "$WORK/data.ldif" || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
sed -i "s|^group_base = .*|group_base = ou=people,$B|" "$DIR_CONF"
write_nsswitch "$WORK/nss" "files dir"
NSS=$WORK/nss
modify() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }
in_sync() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["domains"][0]["in_sync"] else 1)'
}
user() { in_ns "$NSS" getent passwd "$1"; }
group() { in_ns "$NSS" getent group "$1"; }
no_group() { ! group "$1"; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
user upg >/dev/null && group upg >/dev/null && ok "the entry is served as a user and as a group" ||
	not_ok "the entry is served as a user and as a group"

# Leaving the group filter, the entry stays a user.
printf 'dn: uid=upg,ou=people,%s\nchangetype: modify\ndelete: objectClass\nobjectClass: posixGroup\n-\ndelete: memberUid\n' "$B" | modify
within 10 no_group upg && ok "the entry leaving the group filter takes the group away within 10 s" ||
	not_ok "the entry leaving the group filter takes the group away within 10 s" "$(group upg)"
user upg >/dev/null && ok "and leaves the user" || not_ok "and leaves the user"

# A resume through a present phase (no session log): the groups' stream lists the group as
# present, and the group stays.
dird_stop
printf 'dn: uid=upg,ou=people,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/zsh\n' "$B" | modify
: >"$WORK/dird.log"
dird_start || exit 1
within 30 in_sync || not_ok "in sync after the restart" "$(tail -5 "$WORK/dird.log")"
grep -q "example/groups resumed through a present phase" "$WORK/dird.log" &&
	ok "the groups resumed through a present phase" ||
	not_ok "the groups resumed through a present phase" "$(grep stream "$WORK/dird.log")"
group both >/dev/null && user both >/dev/null && ok "after it the other entry is still a group and a user" ||
	not_ok "after it the other entry is still a group and a user" "$(group both; user both)"
user upg | grep -q ':/bin/zsh$' && ok "and the change made meanwhile is served" ||
	not_ok "and the change made meanwhile is served" "$(user upg)"
finish
