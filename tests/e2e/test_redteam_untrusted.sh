#!/bin/bash
# Red team: LDAP data turned hostile while the stream is in sync, with `passwd: dir files`
# (libnss_dir answers first): alice's uid lowered below min_id, bob's uid made 0, carol renamed
# onto root, a group renamed onto a local group's name and another given gid 0.  Each must leave
# the cache at once, and the local names stay files'.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
write_nsswitch "$NSS" "dir files"
private_accounts || exit 1
dir_user() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1"; }
dir_group() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir group "$1"; }
no_dir_user() { ! dir_user "$1"; }
no_dir_group() { ! dir_group "$1"; }
LOCAL_USER=$(awk -F: '$3 > 0 && $3 < 1000 { print $1; exit }' "$WORK/passwd")
LOCAL_GROUP=$(awk -F: '$3 < 1000 && $1 != "root" { print $1; exit }' "$WORK/group")

dird_private || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
dir_user alice >/dev/null && dir_user bob >/dev/null && dir_user carol >/dev/null &&
	dir_group devs >/dev/null && dir_group team >/dev/null && ok "alice, bob, carol, devs and team are served" ||
	not_ok "alice, bob, carol, devs and team are served"
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: uidNumber\nuidNumber: 500\n\n' "$P" | ldap ldapmodify
printf 'dn: uid=bob,%s\nchangetype: modify\nreplace: uidNumber\nuidNumber: 0\n\n' "$P" | ldap ldapmodify
printf 'dn: uid=carol,%s\nchangetype: modrdn\nnewrdn: uid=%s\ndeleteoldrdn: 1\n\n' "$P" "$LOCAL_USER" | ldap ldapmodify
printf 'dn: cn=devs,%s\nchangetype: modrdn\nnewrdn: cn=%s\ndeleteoldrdn: 1\n\n' "$G" "$LOCAL_GROUP" | ldap ldapmodify
printf 'dn: cn=team,%s\nchangetype: modify\nreplace: gidNumber\ngidNumber: 0\n\n' "$G" | ldap ldapmodify
within 10 no_dir_user alice && ok "alice, below min_id now, is not served" ||
	not_ok "alice, below min_id now, is not served" "$(dir_user alice)"
within 10 no_dir_user bob && ok "bob, uid 0 now, is not served" || not_ok "bob, uid 0 now, is not served" "$(dir_user bob)"
within 10 no_dir_user carol && ok "carol, renamed $LOCAL_USER, is not served as carol" ||
	not_ok "carol, renamed $LOCAL_USER, is not served as carol" "$(dir_user carol)"
check_fails "nor as $LOCAL_USER" dir_user "$LOCAL_USER"
check_eq "$LOCAL_USER is files'" "$(grep "^$LOCAL_USER:" "$WORK/passwd" | cut -d: -f1,3)" \
	"$(in_ns "$NSS" "${ACCOUNTS[@]}" getent passwd "$LOCAL_USER" | cut -d: -f1,3)"
check_fails "uid 0 is not dir's" dir_user 0
within 10 no_dir_group devs && ok "devs, renamed $LOCAL_GROUP, is not served as devs" ||
	not_ok "devs, renamed $LOCAL_GROUP, is not served as devs" "$(dir_group devs)"
check_fails "nor as $LOCAL_GROUP" dir_group "$LOCAL_GROUP"
within 10 no_dir_group team && ok "team, gid 0 now, is not served" || not_ok "team, gid 0 now, is not served" "$(dir_group team)"
check_fails "gid 0 is not dir's" dir_group 0
finish
