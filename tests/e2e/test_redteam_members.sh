#!/bin/bash
# Red team: a directory group that names a local account as a member.  A refresh drops local
# members (fetch_drop_local_members: sudo and others read gr_mem, and a local account's groups
# are /etc/group's to give); a change stream must too, for a group modified to name root and for
# a group added naming it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
members() { in_ns "$NSS" getent group "$1" | cut -d: -f4; }
has_member() { members "$1" | tr , '\n' | grep -qx "$2"; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
printf 'dn: cn=devs,%s\nchangetype: modify\nadd: memberUid\nmemberUid: root\nmemberUid: bob\n' "$G" | ldap ldapmodify
printf 'dn: cn=wheel2,%s\nchangetype: add\nobjectClass: posixGroup\ncn: wheel2\ngidNumber: 20400\nmemberUid: root\nmemberUid: alice\n' "$G" | ldap ldapmodify
within 10 has_member devs bob && within 10 has_member wheel2 alice &&
	ok "the changed and the added group are served" ||
	not_ok "the changed and the added group are served" "$(members devs) / $(members wheel2)"
check_fails "the changed group does not list the local root" has_member devs root
check_fails "the added group does not list the local root" has_member wheel2 root
finish
