#!/bin/bash
# Red team: two streamed domains serving the same name, the winner of the clash going.  Domain
# b's alice (uid 30001) is served until a's alice (20001, the lower uid) wins it, as a refresh
# settles it (fetch_user_wins); once a's alice is deleted, b's, still in b's directory, must be
# served again at once, with b's groups.  Likewise b's ann (30050), added while a's (20050) holds
# the name, is served once a's goes, and leaves once deleted from b.  A stream sends nothing
# for an entry that did not change, every domain is in sync (libnss_dir answers a miss itself),
# and no full refresh runs: the loser stayed absent until one did.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
ids_of() { in_ns "$NSS" id -G "$1" | tr ' ' '\n' | sort -n | tr '\n' ' '; }
has_bteam() { ids_of alice | grep -qw 30100; }

printf 'dn: cn=bteam,ou=groups,ou=b,%s\nobjectClass: posixGroup\ncn: bteam\ngidNumber: 30100\nmemberUid: alice\n\n' "$B" | ldap ldapadd
dird_start || exit 1
within 30 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is alice 30001 && ok "b's alice is served while a has none" ||
	not_ok "b's alice is served while a has none" "$(uid_of alice)"

two_user_ldif alice 20001 a | ldap ldapadd
within 10 uid_is alice 20001 && ok "a's alice (the lower uid) wins once added" ||
	not_ok "a's alice (the lower uid) wins once added" "$(uid_of alice)"
two_user_ldif ann 30050 b | ldap ldapadd
printf 'dn: uid=bea,ou=people,ou=b,%s\nchangetype: modify\nreplace: gecos\ngecos: marker\n\n' "$B" | ldap ldapmodify
marker() { in_ns "$NSS" getent passwd bea | grep -q ':marker:'; }
within 10 marker || not_ok "b's stream applied its changes" "$(in_ns "$NSS" getent passwd bea)"
check_eq "b's ann, added while a's holds the name, loses" 20050 "$(uid_of ann)"

refreshes=$(grep -c "refresh done" "$WORK/dird.log")
ldap ldapdelete "uid=alice,ou=people,ou=a,$B"
within 3 uid_is alice 30001 && ok "a's alice deleted: b's alice is served again within 3 s" ||
	not_ok "a's alice deleted: b's alice is served again within 3 s" "[$(uid_of alice)]"
within 3 has_bteam && ok "b's alice has b's group" || not_ok "b's alice has b's group" "$(ids_of alice)"
check_eq "getpwuid 30001 is b's alice" alice "$(in_ns "$NSS" getent passwd 30001 | cut -d: -f1)"
check "getpwuid 20001 (a's alice) is gone" absent 20001

ldap ldapdelete "uid=ann,ou=people,ou=a,$B"
within 3 uid_is ann 30050 && ok "a's ann deleted: b's ann is served within 3 s" ||
	not_ok "a's ann deleted: b's ann is served within 3 s" "[$(uid_of ann)]"
ldap ldapdelete "uid=ann,ou=people,ou=b,$B"
within 5 absent ann && ok "b's ann deleted from b: no ann is served" ||
	not_ok "b's ann deleted from b: no ann is served" "[$(uid_of ann)]"
check_eq "no full refresh ran" "$refreshes" "$(grep -c "refresh done" "$WORK/dird.log")"
finish
