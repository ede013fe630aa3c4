#!/bin/bash
# Red team: a streamed domain with sync_groups (members by name): only devs' members are served.
# A member added to devs while the stream is in sync is served (the users are read again), one
# taken out goes, and one added back comes back; a user of no sync group is never served.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
printf 'sync_groups = devs\n' >>"$DIR_CONF"
served() { in_ns "$NSS" getent passwd "$1" >/dev/null; }
devs() { printf 'dn: cn=devs,%s\nchangetype: modify\n%s: memberUid\nmemberUid: %s\n\n' "$G" "$1" "$2" | ldap ldapmodify; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
within 10 served alice && served carol && ! served bob && ok "devs' alice and carol are served, bob is not" ||
	not_ok "devs' alice and carol are served, bob is not"
devs add bob
within 15 served bob && ok "bob added to devs is served" || not_ok "bob added to devs is served" "$("${CTL[@]}" status | grep changes)"
devs delete carol
within 10 absent carol && ok "carol taken out of devs goes" || not_ok "carol taken out of devs goes"
devs add carol
within 15 served carol && ok "carol added back is served" || not_ok "carol added back is served"
check_fails "outsider, in no sync group, is not served" served outsider
within 30 in_sync && ok "the stream is in sync at the end" || not_ok "the stream is in sync at the end"
finish
