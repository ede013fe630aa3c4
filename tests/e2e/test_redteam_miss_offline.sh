#!/bin/bash
# Red team: a miss for an expired entry while the winner's domain is offline.  Domain a (first
# in dird.conf) has alice 30009, domain b (reached through a proxy) alice 30001, which wins the
# name (for one name, the smaller id).  enumerate = no, entry_ttl = 4: b's alice is cached by a
# miss, expires, and the proxy goes.  The next lookup of alice asks a (found: its 30009) and b
# (offline): a's loser must not replace the winner's copy, which is served as it is, as when no
# domain can be asked; else alice flips to 30009 and back once b answers again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
B_PORT=$(free_port)
b_proxy_start || exit 1
b_through_proxy
two_user_ldif alice 30009 a | ldap ldapadd
for d in a:30201 b:30200; do
	printf 'dn: cn=crew,ou=groups,ou=%s,%s\nobjectClass: posixGroup\ncn: crew\ngidNumber: %s\nmemberUid: alice\n\n' \
		"${d%:*}" "$B" "${d#*:}"
done | ldap ldapadd || exit 1
group_of() { in_ns "$NSS" getent group "$1" | cut -d: -f1,3; }
sed -i 's/^log_level = debug$/log_level = debug\nenumerate = no\nentry_ttl = 4/' "$DIR_CONF"

dird_start || exit 1
check_eq "a miss for alice serves b's (the smaller uid)" 30001 "$(uid_of alice)"
check_eq "a miss for crew serves b's (the smaller gid)" crew:30200 "$(group_of crew)"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
sleep 4 # both expire (3/4 of entry_ttl)
check_eq "b offline, alice expired: b's copy is still served" 30001 "$(uid_of alice)"
check_eq "b offline, crew expired: b's copy is still served" crew:30200 "$(group_of crew)"
check_eq "b offline: asked again, alice is still b's" 30001 "$(uid_of alice)"
check_eq "b offline: uid 30009 (a's alice, which loses the name) finds nothing" "" \
	"$(in_ns "$NSS" getent passwd 30009 | cut -d: -f1)"
b_proxy_start || exit 1
sleep 4
within 20 uid_is alice 30001 && ok "b back: alice is b's" || not_ok "b back: alice is b's" "$(uid_of alice)"
finish
