#!/bin/bash
# Red team: an entry deleted and added again under the same DN with a new entryUUID, while the
# stream holds it under the old one.  It must replace the old copy, not lose to it as a rival of
# the same name and uid (and leave the old copy served for good: the old id never comes again).
# First a cache_dir whose positions are another server's (copied from another host, or uri
# pointed at another slapd while dird was stopped): "old" and "new" were loaded from one LDIF
# (other entryUUIDs), carol is deleted on new, alice has /bin/zsh on old only; new refuses old's
# position and is read whole.  Then bob deleted and added again on one server without a session
# log (slapd's default: a resume is a present phase), while dird is stopped and while it runs.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 || exit 1
SLAPD_SESSIONLOG=0 SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd-new" "$WORK/data/data.ldif" || exit 1
NEW_URI=$SLAPD_URI NEW_PID=$SLAPD_PID
cleanup_first() { kill "$NEW_PID" 2>/dev/null; }
ldapdelete -x -H "$NEW_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" "uid=carol,$P" || exit 1
SLAPD_SESSIONLOG=0 SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd-old" "$WORK/data/data.ldif" || exit 1
OLD_URI=$SLAPD_URI
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/zsh\n' "$P" |
	ldapmodify -x -H "$OLD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null
write_dird_conf "$DIR_CONF" "$OLD_URI"

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync on old" "$(tail -5 "$WORK/dird.log")"
within 10 shell_is alice /bin/zsh && ! absent carol && ok "old's alice (zsh) and carol are served" ||
	not_ok "old's alice (zsh) and carol are served"
dird_stop
sed -i "s|^uri = .*|uri = $NEW_URI|" "$DIR_CONF"
dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync on new" "$(tail -5 "$WORK/dird.log")"
within 20 absent carol && ok "on new, carol (deleted there) is not served" ||
	not_ok "on new, carol (deleted there) is not served" "$(grep -i stream "$WORK/dird.log" | tail -4)"
within 10 shell_is alice /bin/bash && ok "on new, alice has new's shell" ||
	not_ok "on new, alice has new's shell" "$(in_ns "$NSS" getent passwd alice)"

# The same server: bob deleted and added again (a new entryUUID, the same DN and uid) while dird
# is stopped.  The resume is a present phase: the new entry, and the old one not present.
dird_stop
bob_ldif() {
	printf 'dn: uid=bob,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: bob\ncn: bob\nuidNumber: %s\ngidNumber: 20000\nhomeDirectory: /home/bob\nloginShell: %s\n\n' "$P" "$1" "$2"
}
SLAPD_URI=$NEW_URI
ldap ldapdelete "uid=bob,$P"
bob_ldif 20002 /bin/zsh | ldap ldapadd
dird_start || exit 1
within 30 in_sync || not_ok "in sync after the restart" "$(tail -5 "$WORK/dird.log")"
within 10 shell_is bob /bin/zsh && ok "bob added again while dird was stopped is served as he is now" ||
	not_ok "bob added again while dird was stopped is served as he is now" "[$(in_ns "$NSS" getent passwd bob)]"
# And while dird runs, with a lower uid (a name clash the new entry wins by the refresh's rule too).
ldap ldapdelete "uid=bob,$P"
bob_ldif 20102 /bin/dash | ldap ldapadd
within 10 shell_is bob /bin/dash && ok "bob added again while dird runs is served as he is now" ||
	not_ok "bob added again while dird runs is served as he is now" "[$(in_ns "$NSS" getent passwd bob)]"
finish
