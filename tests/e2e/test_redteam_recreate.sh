#!/bin/bash
# Red team: bob deleted and added again under another DN (ou=staff under user_base) with the same
# name and uid while dird is stopped, on a slapd without a session log.  The resume is a present
# phase: the new entry comes, and the old one is not listed present.  The new bob tied with the
# old copy the stream held (same name and uid, another DN: a rival, as a refresh settles it) and
# lost; its name counted as seen, so the old copy was kept for good, and deleting the new bob left
# it served.  A complete batch lists every entry the stream serves: a copy whose id it does not
# list is a leftover, and the new entry replaces it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
SLAPD_SESSIONLOG=0 streamed_generated 20 || exit 1

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
dird_stop
ldap ldapdelete "uid=bob,$P"
printf 'dn: ou=staff,%s\nobjectClass: organizationalUnit\nou: staff\n\ndn: uid=bob,ou=staff,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: bob\ncn: bob\nuidNumber: 20002\ngidNumber: 20000\nhomeDirectory: /home/bob\nloginShell: /bin/zsh\n\n' "$P" "$P" |
	ldap ldapadd
dird_start || exit 1
within 30 in_sync || not_ok "in sync after the restart" "$(tail -5 "$WORK/dird.log")"
within 10 shell_is bob /bin/zsh && ok "bob added again under another DN is served as he is now" ||
	not_ok "bob added again under another DN is served as he is now" "[$(in_ns "$NSS" getent passwd bob)]"
ldap ldapdelete "uid=bob,ou=staff,$P"
within 10 absent bob && ok "bob deleted: not served" ||
	not_ok "bob deleted: not served" "[$(in_ns "$NSS" getent passwd bob)]"
finish
