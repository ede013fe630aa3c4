#!/bin/bash
# Red team: two streamed domains serving the same name.  Domain a's alice and dave (lower uids)
# win over domain b's, as a refresh settles it (fetch_user_wins).  A change b's stream then
# sends for its own alice or dave must not touch a's user of that name: b's stream found the name
# through the keys it kept for its own entry, and replaced or removed whichever user db held
# under it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE

dird_start || exit 1
within 30 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is alice 30001 && ok "b's alice is served while a has none" ||
	not_ok "b's alice is served while a has none" "$(uid_of alice)"

{ two_user_ldif alice 20001 a; two_user_ldif dave 20002 a; } | ldap ldapadd
within 10 uid_is alice 20001 && within 10 uid_is dave 20002 &&
	ok "a's alice and dave (lower uids) win once added" ||
	not_ok "a's alice and dave (lower uids) win once added" "$(uid_of alice) $(uid_of dave)"

# b's entries change: the change is b's, and b's users still lose.  bea's gecos is the marker
# that b's stream applied them.
printf 'dn: uid=alice,ou=people,ou=b,%s\nchangetype: modify\nreplace: gecos\ngecos: b changed\n\n' "$B" | ldap ldapmodify
printf 'dn: uid=dave,ou=people,ou=b,%s\nchangetype: delete\n\n' "$B" | ldap ldapmodify
printf 'dn: uid=bea,ou=people,ou=b,%s\nchangetype: modify\nreplace: gecos\ngecos: marker\n\n' "$B" | ldap ldapmodify
marker() { in_ns "$NSS" getent passwd bea | grep -q ':marker:'; }
within 10 marker || not_ok "b's stream applied its changes" "$(in_ns "$NSS" getent passwd bea)"
check_eq "b's alice modified: a's alice is still served" 20001 "$(uid_of alice)"
check_eq "b's dave deleted: a's dave is still served" 20002 "$(uid_of dave)"
finish
