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
e2e_start slapd
SLAPD_SESSIONLOG=0 SLAPD_SYNCPROV=1 slapd_generated 20 0 0 || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
write_nsswitch "$WORK/nss" "files dir"
P=ou=people,dc=example,dc=test
ldap() { "$@" -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }
in_sync() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["domains"][0]["in_sync"] else 1)'
}
shell_is() { in_ns "$WORK/nss" getent passwd "$1" | grep -q ":$2\$"; }
absent() { ! in_ns "$WORK/nss" getent passwd "$1"; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
dird_stop
ldap ldapdelete "uid=bob,$P"
printf 'dn: ou=staff,%s\nobjectClass: organizationalUnit\nou: staff\n\ndn: uid=bob,ou=staff,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: bob\ncn: bob\nuidNumber: 20002\ngidNumber: 20000\nhomeDirectory: /home/bob\nloginShell: /bin/zsh\n\n' "$P" "$P" |
	ldap ldapadd
dird_start || exit 1
within 30 in_sync || not_ok "in sync after the restart" "$(tail -5 "$WORK/dird.log")"
within 10 shell_is bob /bin/zsh && ok "bob added again under another DN is served as he is now" ||
	not_ok "bob added again under another DN is served as he is now" "[$(in_ns "$WORK/nss" getent passwd bob)]"
ldap ldapdelete "uid=bob,ou=staff,$P"
within 10 absent bob && ok "bob deleted: not served" ||
	not_ok "bob deleted: not served" "[$(in_ns "$WORK/nss" getent passwd bob)]"
finish
