#!/bin/bash
# Red team: a SIGHUP while the worker reads again what clashes' winners left.  Two streamed
# domains: a's alice (20001) and ann (20050) win their names over b's alice (30001) and ann
# (30050).  Both of a's are deleted at once: the worker reads b's entries of their names and
# ids one by one, each read held 3 s (DIRD_TEST_PAUSE_AT=lookup-asked), and a SIGHUP comes
# during the first.  The reload must not drop those still queued: b's alice and ann are both
# served once it is over (one of them stayed absent for good: every domain in sync, no refresh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
sed -i 's/^nss_timeout = .*/nss_timeout = 10/' "$DIR_CONF" # the 3 s pause: domains stay online
{ two_user_ldif alice 20001 a; two_user_ldif ann 30050 b; } | ldap ldapadd
pauses() { grep -c "test hook: pausing" "$WORK/dird.log"; }
dird_start env DIRD_TEST_PAUSE_AT=lookup-asked DIRD_TEST_PAUSE_SECONDS=3 || exit 1
within 60 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
sleep 6 # the start's own lookups over
within 10 uid_is alice 20001 && uid_is ann 20050 && ok "a's alice and ann win their names" ||
	not_ok "a's alice and ann win their names" "$(uid_of alice) $(uid_of ann)"
before=$(pauses)
printf 'uid=alice,ou=people,ou=a,%s\nuid=ann,ou=people,ou=a,%s\n' "$B" "$B" | ldap ldapdelete
within 10 eval '[ "$(pauses)" -gt "$before" ]' && ok "both deleted: the worker reads b's entries" ||
	not_ok "both deleted: the worker reads b's entries" "$(tail -5 "$WORK/dird.log")"
kill -HUP "$DIRD_PID"
within 20 grep -q "configuration reloaded" "$WORK/dird.log" || not_ok "the reload comes"
within 30 all_in_sync || not_ok "both streams in sync after the reload" "$(tail -5 "$WORK/dird.log")"
within 30 eval 'uid_is alice 30001 && uid_is ann 30050' && ok "b's alice and ann are both served after the reload" ||
	not_ok "b's alice and ann are both served after the reload" "alice [$(uid_of alice)] ann [$(uid_of ann)]"
finish
