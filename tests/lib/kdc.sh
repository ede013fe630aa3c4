# Starts a throwaway MIT KDC on a loopback high port, with its own kdc.conf and krb5.conf.
# Source this file; then: kdc_start DIR REALM -> sets KDC_PID, KDC_PORT, KRB5_CONFIG (exported:
# every Kerberos tool after it uses this realm), KDC_DIR; kadmind runs too (KADMIND_PID,
# KDC_ADMIN_PORT), for kpasswd (KDC_KPASSWD_PORT)
#                         kdc_addprinc NAME PASSWORD [kadmin options]
#                         kdc_host_start DIR KEYTAB [NAME PASSWORD]...  (kdc_start DIR EXAMPLE.TEST,
#                         a principal NAME for each PASSWORD, host/localhost's key in KEYTAB)
#                         kdc_keytab PRINCIPAL FILE   (a new principal with a random key, in FILE)
#                         kdc_ktadd PRINCIPAL FILE    (a new random key, so the next kvno, in FILE)
#                         kdc_admin QUERY             (kadmin.local -q QUERY; "double" quotes only)
#                         kdc_stop
#                         slapd_gssapi DIR LDIF (after kdc_start: slapd with its own ldap/localhost
#                         key, letting only host/localhost, through GSSAPI, read below the base)
# Needs free_port and slapd_start (slapd.sh).

kdc_start() {
	local dir=$1 realm=$2
	mkdir -p "$dir"
	KDC_DIR=$dir
	KDC_REALM=$realm
	KDC_PORT=$(free_port)
	KDC_ADMIN_PORT=$(free_port)
	KDC_KPASSWD_PORT=$(free_port)
	local kadmin_port=$KDC_ADMIN_PORT kpasswd_port=$KDC_KPASSWD_PORT
	cat >"$dir/kdc.conf" <<CONF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$KDC_PORT
	kdc_tcp_listen = 127.0.0.1:$KDC_PORT
[realms]
	$realm = {
		database_name = $dir/principal
		key_stash_file = $dir/stash
		acl_file = $dir/kadm5.acl
		kadmind_listen = 127.0.0.1:$kadmin_port
		kpasswd_listen = 127.0.0.1:$kpasswd_port
		default_principal_flags = +preauth
		max_renewable_life = 7d
	}
[logging]
	kdc = FILE:$dir/kdc.log
	admin_server = FILE:$dir/kadmind.log
CONF
	cat >"$dir/krb5.conf" <<CONF
[libdefaults]
	default_realm = $realm
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
[realms]
	$realm = {
		kdc = 127.0.0.1:$KDC_PORT
		admin_server = 127.0.0.1:$kadmin_port
		kpasswd_server = 127.0.0.1:$kpasswd_port
	}
CONF
	: >"$dir/kadm5.acl"
	export KRB5_CONFIG=$dir/krb5.conf
	export KRB5_KDC_PROFILE=$dir/kdc.conf
	kdb5_util -r "$realm" create -s -P masterpw >"$dir/create.log" 2>&1 || {
		cat "$dir/create.log" >&2
		return 1
	}
	krb5kdc -n >>"$dir/kdc.out" 2>&1 &
	KDC_PID=$!
	kadmind -nofork >>"$dir/kadmind.out" 2>&1 &
	KADMIND_PID=$!
	for _ in $(seq 100); do
		grep -q "commencing operation" "$dir/kdc.log" 2>/dev/null &&
			grep -q "starting" "$dir/kadmind.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "krb5kdc or kadmind did not start:" >&2
	cat "$dir/kdc.out" "$dir/kdc.log" "$dir/kadmind.out" "$dir/kadmind.log" >&2
	return 1
}

kdc_host_start() {
	kdc_start "$1" EXAMPLE.TEST || return 1
	local keytab=$2
	shift 2
	while [ $# -ge 2 ]; do
		kdc_addprinc "$1" "$2"
		shift 2
	done
	kdc_keytab host/localhost "$keytab"
}

kdc_admin() {
	KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf kadmin.local -r "$KDC_REALM" -q "$1" >>"$KDC_DIR/kadmin.log" 2>&1
}

kdc_addprinc() {
	local name=$1 pw=$2; shift 2
	kdc_admin "addprinc -pw \"$pw\" $* $name"
}

kdc_ktadd() {
	kdc_admin "ktadd -k $2 $1"
}

kdc_keytab() {
	kdc_admin "addprinc -randkey $1" && kdc_ktadd "$1" "$2"
}

kdc_stop() {
	[ -n "${KDC_PID:-}" ] || return 0
	kill "$KDC_PID" "$KADMIND_PID" 2>/dev/null
	wait "$KDC_PID" "$KADMIND_PID" 2>/dev/null
	KDC_PID= KADMIND_PID=
}

slapd_gssapi() {
	local dir=$1 ldif=$2
	kdc_keytab ldap/localhost "$KDC_DIR/ldap.keytab"
	KRB5_KTNAME=$KDC_DIR/ldap.keytab slapd_start "$dir" "$ldif" || return 1
	slapd_stop
	# host/localhost is the reader entry; anyone else reads only the base entry
	sed -i '1a authz-regexp "uid=host/localhost(,cn=[^,]*)?,cn=gssapi,cn=auth" "cn=reader,ou=system,dc=example,dc=test"\nsasl-host localhost\nsasl-realm '"$KDC_REALM"'' \
		"$SLAPD_DIR/slapd.conf"
	sed -i 's/^access to \* by \* read/access to dn.base="dc=example,dc=test" by * read\naccess to * by dn.exact="cn=reader,ou=system,dc=example,dc=test" read by * none/' \
		"$SLAPD_DIR/slapd.conf"
	KRB5_KTNAME=$KDC_DIR/ldap.keytab slapd_resume
}
