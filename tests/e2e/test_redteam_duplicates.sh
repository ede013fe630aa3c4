#!/bin/bash
# Red team: two entries of one domain share a name (uid=twin under ou=people and under
# ou=more,ou=people).  The lower uid is served, as a refresh settles it; once that entry is
# deleted the other, still in the directory, must be served.  A stream dropped the loser of a
# clash and never put it again while it did not change, and with every domain in sync no full
# refresh runs (refresh_interval passes without one), so the name was answered NOTFOUND for
# good.  Now a batch that removes an entry of a kind whose clashes dropped one makes the stream
# read that kind again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
twin() { # UID OU-PREFIX
	printf 'dn: uid=twin,%s%s\nobjectClass: account\nobjectClass: posixAccount\nuid: twin\ncn: twin\nuidNumber: %s\ngidNumber: 20000\nhomeDirectory: /home/twin\n\n' "$2" "$P" "$1"
}

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
{ printf 'dn: ou=more,%s\nobjectClass: organizationalUnit\nou: more\n\n' "$P"; twin 20601 ""; twin 20602 "ou=more,"; } | ldap ldapadd
within 10 uid_is twin 20601 && ok "the lower uid of the two twins is served" ||
	not_ok "the lower uid of the two twins is served" "$(uid_of twin)"
ldap ldapdelete "uid=twin,$P"
within 15 uid_is twin 20602 && ok "the served twin deleted, the other is served" ||
	not_ok "the served twin deleted, the other is served" "[$(uid_of twin)]"
finish
