#!/bin/bash
# Red team: a domain taken out of dird.conf by a reload (SIGHUP) while every domain streams.
# Its users must go: the domains left stream on (refresh_due_locked runs no full refresh when
# every domain streams), and each stream's read drops only its own domain's entries.
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
within 10 uid_is bea 30003 && ok "b's bea is served" || not_ok "b's bea is served" "$(uid_of bea)"
cp "$DIR_CONF" "$WORK/dird.conf.both"
python3 - "$DIR_CONF" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s[:s.index("[domain/b]")])
PY
cp "$DIR_CONF" "$WORK/dird.conf.a"
LOG_AT=$(wc -l <"$WORK/dird.log")
kill -HUP "$DIRD_PID"
one_domain() {
	"${CTL[@]}" --json status 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin)["domains"]
sys.exit(0 if len(d) == 1 and d[0]["in_sync"] else 1)'
}
within 30 one_domain && ok "the reload leaves domain a alone, in sync" ||
	not_ok "the reload leaves domain a alone, in sync" "$("${CTL[@]}" status)"
gone() { ! in_ns "$NSS" getent passwd bea; }
within 20 gone && ok "b's bea is no longer served once b is out of dird.conf" ||
	not_ok "b's bea is no longer served once b is out of dird.conf" "$(in_ns "$NSS" getent passwd bea)"
tail -n +"$((LOG_AT + 1))" "$WORK/dird.log" | grep -q "a: change stream: .*reading everything" &&
	not_ok "a's streams resume after the reload, without reading everything" \
		"$(tail -n +"$((LOG_AT + 1))" "$WORK/dird.log" | grep "change stream")" ||
	ok "a's streams resume after the reload, without reading everything"
dird_stop
dird_start || exit 1
within 30 one_domain || not_ok "in sync after a restart" "$(tail -5 "$WORK/dird.log")"
within 10 gone && ok "nor after a restart" || not_ok "nor after a restart" "$(in_ns "$NSS" getent passwd bea)"

# b back (a reload), then out of dird.conf while dird is stopped: every stream left resumes at
# start, and nothing else would drop b's users.
cp "$WORK/dird.conf.both" "$DIR_CONF"
kill -HUP "$DIRD_PID"
within 30 both_in_sync && within 10 uid_is bea 30003 && ok "b back: bea is served again" ||
	not_ok "b back: bea is served again" "$(uid_of bea)"
dird_stop
cp "$WORK/dird.conf.a" "$DIR_CONF"
dird_start || exit 1
within 30 one_domain || not_ok "in sync after a restart" "$(tail -5 "$WORK/dird.log")"
within 10 gone && ok "b taken out while dird was stopped: bea is not served after the start" ||
	not_ok "b taken out while dird was stopped: bea is not served after the start" "$(in_ns "$NSS" getent passwd bea)"
finish
