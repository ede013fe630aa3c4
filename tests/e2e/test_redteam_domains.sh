#!/bin/bash
# Red team: two streamed domains serving the same name.  Domain a's alice and dave (lower uids)
# win over domain b's, as a refresh settles it (fetch_user_wins).  A change b's stream then
# sends for its own alice or dave must not touch a's user of that name: b's stream found the name
# through the keys it kept for its own entry, and replaced or removed whichever user db held
# under it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
B=dc=example,dc=test
user_ldif() { # NAME UID OU
	printf 'dn: uid=%s,ou=people,ou=%s,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: %s\ncn: %s\nuidNumber: %s\ngidNumber: 20000\nhomeDirectory: /home/%s\n\n' \
		"$1" "$3" "$B" "$1" "$1" "$2" "$1"
}
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n\n' "$B"
	printf 'dn: ou=system,%s\nobjectClass: organizationalUnit\nou: system\n\n' "$B"
	printf 'dn: cn=reader,ou=system,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n' "$B"
	for d in a b; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$d" "$B" "$d"
		printf 'dn: ou=people,ou=%s,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$d" "$B"
		printf 'dn: ou=groups,ou=%s,%s\nobjectClass: organizationalUnit\nou: groups\n\n' "$d" "$B"
	done
	user_ldif alice 30001 b
	user_ldif dave 30002 b
	user_ldif bea 30003 b
} >"$WORK/data.ldif"
SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd" "$WORK/data.ldif" || exit 1
mkdir -p "$WORK/cache" "$WORK/run"
printf 'readerpw\n' >"$WORK/bindpw"
chmod 600 "$WORK/bindpw"
{
	printf '[global]\ncache_dir = %s/cache\nrun_dir = %s/run\nnss_timeout = 2\nlog_level = debug\n' "$WORK" "$WORK"
	for d in a b; do
		printf '\n[domain/%s]\ntype = ldap\nuri = %s\nbase_dn = ou=%s,%s\nuser_base = ou=people,ou=%s,%s\ngroup_base = ou=groups,ou=%s,%s\nbind_dn = cn=reader,ou=system,%s\nbind_password_file = %s/bindpw\n' \
			"$d" "$SLAPD_URI" "$d" "$B" "$d" "$B" "$d" "$B" "$B" "$WORK"
	done
} >"$DIR_CONF"
write_nsswitch "$WORK/nss" "files dir"
NSS=$WORK/nss
add() { ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }
modify() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }
both_in_sync() {
	"${CTL[@]}" --json status 2>/dev/null | python3 -c 'import json,sys
sys.exit(0 if all(d["in_sync"] for d in json.load(sys.stdin)["domains"]) else 1)'
}
uid_of() { in_ns "$NSS" getent passwd "$1" | cut -d: -f3; }
uid_is() { [ "$(uid_of "$1")" = "$2" ]; }

dird_start || exit 1
within 30 both_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is alice 30001 && ok "b's alice is served while a has none" ||
	not_ok "b's alice is served while a has none" "$(uid_of alice)"

{ user_ldif alice 20001 a; user_ldif dave 20002 a; } | add
within 10 uid_is alice 20001 && within 10 uid_is dave 20002 &&
	ok "a's alice and dave (lower uids) win once added" ||
	not_ok "a's alice and dave (lower uids) win once added" "$(uid_of alice) $(uid_of dave)"

# b's entries change: the change is b's, and b's users still lose.
printf 'dn: uid=alice,ou=people,ou=b,%s\nchangetype: modify\nreplace: gecos\ngecos: b changed\n\n' "$B" | modify
printf 'dn: uid=dave,ou=people,ou=b,%s\nchangetype: delete\n\n' "$B" | modify
printf 'dn: uid=bea,ou=people,ou=b,%s\nchangetype: modify\nreplace: gecos\ngecos: marker\n\n' "$B" | modify
marker() { in_ns "$NSS" getent passwd bea | grep -q ':marker:'; }
within 10 marker || not_ok "b's stream applied its changes" "$(in_ns "$NSS" getent passwd bea)"
check_eq "b's alice modified: a's alice is still served" 20001 "$(uid_of alice)"
check_eq "b's dave deleted: a's dave is still served" 20002 "$(uid_of dave)"
finish
