#!/bin/bash
# Red team: a name or id two domains share, read by a miss.  Domain a (first in dird.conf) has
# alice 30009 and group crew 30201; domain b has alice 30001 and crew 30200.  A refresh (and a
# stream) serves b's: for one name, the smaller id (fetch_user_wins, fetch_group_wins).  A miss
# (enumerate = no: lookups alone fill the cache) took the first domain that had it: a's, and a
# lookup of the other entry's id put that one in the cache over it, so alice was one or the
# other depending on which lookup came last.  The miss must settle it as a refresh does, and a
# lookup of the loser's id must not replace the winner.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
two_user_ldif alice 30009 a | ldap ldapadd
for d in a:30201 b:30200; do
	printf 'dn: cn=crew,ou=groups,ou=%s,%s\nobjectClass: posixGroup\ncn: crew\ngidNumber: %s\nmemberUid: %s\n\n' \
		"${d%:*}" "$B" "${d#*:}" alice
done | ldap ldapadd || exit 1
group_of() { in_ns "$NSS" getent group "$1" | cut -d: -f1,3; }
name_of() { in_ns "$NSS" getent passwd "$1" | cut -d: -f1; }
sed -i 's/^log_level = debug$/log_level = debug\nenumerate = no/' "$DIR_CONF"

dird_start || exit 1
check_eq "a miss for alice serves b's (the smaller uid), as a refresh does" 30001 "$(uid_of alice)"
check_eq "a miss for uid 30009 (a's alice, which loses the name) finds nothing" "" "$(name_of 30009)"
check_eq "alice is still b's" 30001 "$(uid_of alice)"
check_eq "a miss for crew serves b's (the smaller gid)" crew:30200 "$(group_of crew)"
check_eq "a miss for gid 30201 (a's crew) finds nothing" "" "$(group_of 30201)"
check_eq "crew is still b's" crew:30200 "$(group_of crew)"
# b's own entry renamed: the new name, read by a miss, replaces the cached copy under its uid
check_eq "dave is cached" 30002 "$(uid_of dave)"
printf 'dn: uid=dave,ou=people,ou=b,%s\nchangetype: modrdn\nnewrdn: uid=zdave\ndeleteoldrdn: 1\n\n' "$B" | ldap ldapmodify
check_eq "dave renamed zdave in b: a miss for zdave serves it" 30002 "$(uid_of zdave)"

# The same answers from a refresh
dird_stop
rm -rf "$WORK/cache"
mkdir -p "$WORK/cache"
sed -i '/^enumerate = no$/d' "$DIR_CONF"
dird_start || exit 1
within 30 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
check_eq "refreshed: alice is b's" 30001 "$(uid_of alice)"
check_eq "refreshed: uid 30009 is nobody's" "" "$(name_of 30009)"
check_eq "refreshed: crew is b's" crew:30200 "$(group_of crew)"
check_eq "refreshed: gid 30201 is nobody's" "" "$(group_of 30201)"
finish
