#!/bin/bash
# dird binds with SASL/GSSAPI: a real MIT KDC, slapd with its own service key, dird with a
# keytab and no password.  dird gets its own ticket and gets a new one before it expires.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd kdc

kdc_host_start "$WORK/kdc" "$WORK/dird.keytab" || exit 1
# Tickets of one minute: every connection must find its ticket about to expire and get another.
KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf kadmin.local -r EXAMPLE.TEST -q "modprinc -maxlife 1min host/localhost" \
	>>"$KDC_DIR/kadmin.log" 2>&1
chmod 600 "$WORK/dird.keytab"

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 --big-group 5 --many-groups 3
# slapd knows its key, and maps dird's principal to the reader entry.
slapd_gssapi "$WORK/slapd" "$WORK/data/data.ldif" || exit 1

write_dird_conf "$DIR_CONF" "ldap://localhost:$SLAPD_PORT" "krb5_config = $WORK/kdc/krb5.conf"
sed -i '/^bind_dn/d; /^bind_password_file/d' "$DIR_CONF"
cat >>"$DIR_CONF" <<CONF
keytab = $WORK/dird.keytab
sasl_authid = host/localhost@EXAMPLE.TEST
CONF
write_nsswitch "$WORK/nss" "files dir"
check "anonymous reads get nothing here (so a served user proves the GSSAPI bind)" \
	test -z "$(ldapsearch -x -LLL -H "$SLAPD_URI" -b ou=people,dc=example,dc=test uid=alice uid 2>/dev/null)"
dird_start || exit 1
dird_wait_refresh || exit 1
check_eq "users are served through a GSSAPI bind" "alice:*:20001:20000:Alice Example:/home/alice:/bin/bash" \
	"$(in_ns "$WORK/nss" getent passwd alice)"
check "dird got its own ticket from the keytab" grep -q "got a Kerberos ticket for host/localhost@EXAMPLE.TEST" "$WORK/dird.log"
"$BUILD/dirctl/dirctl" cache refresh >/dev/null
check "a ticket about to expire is replaced before the next connection" \
	test "$(grep -c "got a Kerberos ticket" "$WORK/dird.log")" -ge 2
check_eq "served after the renewal too" "20002" "$(in_ns "$WORK/nss" getent passwd bob | cut -d: -f3)"
out=$("$BUILD/dirctl/dirctl" test 2>&1)
check "dirctl test binds with GSSAPI too" grep -q "result: ok" <<<"$out"
chmod 644 "$WORK/dird.keytab"
mv "$WORK/dird.keytab" "$WORK/other.keytab"
"$BUILD/dirctl/dirctl" cache refresh >/dev/null 2>&1
check "without the keytab: the refresh fails and says why" \
	grep -q "GSSAPI\|dird.keytab" <("$BUILD/dirctl/dirctl" status)
finish
