#!/bin/bash
# A reload that changes the identity a change stream binds as: the server shows each identity
# what its ACLs allow, so what the stream stored under the old one is not what the new one sees.
# Here slapd hides one user from cn=reader; bound as the admin after a SIGHUP, dird serves that
# user within a bound (a stream that kept its position was sent no entry unchanged since, and the
# user stayed missing while the stream was in sync: no full refresh runs then).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

P=ou=people,dc=example,dc=test
SLAPD_DB_EXTRA="access to dn.exact=\"uid=u00005,$P\" by dn.exact=\"$SLAPD_ADMIN\" read by * none" \
	SLAPD_SYNCPROV=1 slapd_generated 20 0 0 || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
write_nsswitch "$WORK/nss" "files dir"
NSS=$WORK/nss
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")

in_sync() { "${CTL[@]}" --json status 2>/dev/null |
	python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["domains"][0]["in_sync"])'; }
served() { in_ns "$NSS" getent passwd "$1" >/dev/null; }
# in the enumeration (getent passwd), which no lookup by name fills
listed() { in_ns "$NSS" getent passwd | grep -q "^$1:"; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
served u00004 && ok "bound as cn=reader, the users it may read are served" ||
	not_ok "bound as cn=reader, the users it may read are served"
check_fails "and the one its ACL hides is not" listed u00005

printf '%s\n' "$SLAPD_ADMIN_PW" >"$WORK/adminpw"
chmod 600 "$WORK/adminpw"
sed -i "s|^bind_dn = .*|bind_dn = $SLAPD_ADMIN|; s|^bind_password_file = .*|bind_password_file = $WORK/adminpw|" \
	"$DIR_CONF"
: >"$WORK/dird.log"
kill -HUP "$DIRD_PID"
within 10 grep -q "configuration reloaded" "$WORK/dird.log" || not_ok "SIGHUP reloads"
within 30 listed u00005 && ok "bound as the admin after a reload, the hidden user is listed within 30 s" ||
	not_ok "bound as the admin after a reload, the hidden user is listed within 30 s" \
		"$(grep -i "stream\|reading" "$WORK/dird.log" | tail -5)"
served u00004 && ok "and the others stay" || not_ok "and the others stay"
finish
