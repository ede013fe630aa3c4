# Starts a throwaway slapd (Debian's, mdb backend) on a loopback high port.
# Source this file; then: slapd_start DIR LDIF  -> sets SLAPD_URI, SLAPD_PID, SLAPD_BASE
#                         slapd_stop
#                         slapd_add  (the LDIF on stdin added, as the administrator)
#                         ldif_user NAME UID CN [OU]  (a posixAccount of gid 20000, home /home/NAME,
#                         under ou=OU, default people, as LDIF)
# SLAPD_MAXSIZE (bytes, default 1 GB): the mdb map size, for bench/run's millions of entries.
# SLAPD_SYNCPROV=1: the syncprov overlay (RFC 4533 content synchronization) on the database,
# with a session log (SLAPD_SESSIONLOG entries, default 1000; 0: none, so a resume is a present
# phase).
# SLAPD_GLOBAL, SLAPD_DB_EXTRA: lines added to the global section (serverID) and to the end of the
# database section (syncrepl); SLAPD_LISTEN_PORT: the port, when the caller chose it.

SLAPD_BASE="dc=example,dc=test"
SLAPD_ADMIN="cn=admin,$SLAPD_BASE"
SLAPD_ADMIN_PW="adminpw"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# SLAPD_SCHEMA=rfc2307bis: posixGroup is auxiliary (groupOfNames with member DNs can be one;
# namedObject is a structural class for those without), and the memberof overlay defines
# memberOf (slapadd does not run it: give the values).
slapd_start() {
	local dir=$1 ldif=$2 nis=/etc/ldap/schema/nis.schema bis= extra=
	mkdir -p "$dir/db"
	if [ "${SLAPD_SCHEMA:-}" = rfc2307bis ]; then
		nis=$dir/rfc2307bis.schema
		sed '/NAME .posixGroup./,/MUST/ s/SUP top STRUCTURAL/SUP top AUXILIARY/' \
			/etc/ldap/schema/nis.schema >"$nis"
		bis="moduleload memberof"
		extra="include /etc/ldap/schema/namedobject.schema"
	fi
	local sync= sync_overlay=
	if [ -n "${SLAPD_SYNCPROV:-}" ]; then
		sync="moduleload syncprov"
		sync_overlay="index entryUUID,entryCSN eq
overlay syncprov
syncprov-checkpoint 100 10"
		[ "${SLAPD_SESSIONLOG:-1000}" = 0 ] ||
			sync_overlay="$sync_overlay
syncprov-sessionlog ${SLAPD_SESSIONLOG:-1000}"
	fi
	cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include $nis
include /etc/ldap/schema/inetorgperson.schema
$extra
${SLAPD_GLOBAL:-}
# 389-DS and FreeIPA's account lock, for the PAM tests.
attributetype ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
# openssh-lpk (Debian ships no schema for it), for SSH keys from the directory.
attributetype ( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 1.3.6.1.4.1.24552.500.1.1.2.0 NAME 'ldapPublicKey' SUP top AUXILIARY
  MAY ( sshPublicKey \$ uid ) )
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
$bis
$sync
pidfile $dir/slapd.pid
# 500 entries per search, as Debian's default; paged searches may go on past it.
sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited
database mdb
maxsize ${SLAPD_MAXSIZE:-1073741824}
suffix "$SLAPD_BASE"
rootdn "$SLAPD_ADMIN"
rootpw $SLAPD_ADMIN_PW
directory $dir/db
# Locks accounts with pwdAccountLockedTime; no default policy otherwise.
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$SLAPD_BASE"
${bis:+overlay memberof}
index objectClass,uid,uidNumber,gidNumber,memberUid,cn eq
$sync_overlay
${SLAPD_DB_EXTRA:-}
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
CONF
	slapadd -q -f "$dir/slapd.conf" -l "$ldif" >"$dir/slapadd.log" 2>&1 || {
		cat "$dir/slapadd.log" >&2
		return 1
	}
	SLAPD_PORT=${SLAPD_LISTEN_PORT:-$(free_port)}
	SLAPD_URI="ldap://127.0.0.1:$SLAPD_PORT"
	SLAPD_DIR=$dir
	slapd_resume
}

# slapd_tls CERT KEY [CLIENT_CA] : after slapd_stop, serve TLS with that certificate on
# SLAPD_URI (StartTLS) and on SLAPD_LDAPS_URI (set here; a port of its own), and with CLIENT_CA
# demand a client certificate signed by it.  slapd_resume starts it so.
slapd_tls() {
	local cert=$1 key=$2 client_ca=${3:-}
	sed -i '/^TLS/d' "$SLAPD_DIR/slapd.conf"
	{
		echo "TLSCertificateFile $cert"
		echo "TLSCertificateKeyFile $key"
		if [ -n "$client_ca" ]; then
			echo "TLSCACertificateFile $client_ca"
			echo "TLSVerifyClient demand"
		fi
	} >"$SLAPD_DIR/tls.conf"
	sed -i "1r $SLAPD_DIR/tls.conf" "$SLAPD_DIR/slapd.conf"
	[ -n "${SLAPD_LDAPS_URI:-}" ] || SLAPD_LDAPS_URI="ldaps://127.0.0.1:$(free_port)"
}

# Starts slapd again on the same port and data, after slapd_stop.
slapd_resume() {
	slapd -h "$SLAPD_URI/${SLAPD_LDAPS_URI:+ $SLAPD_LDAPS_URI/}" -f "$SLAPD_DIR/slapd.conf" -d 0 \
		>>"$SLAPD_DIR/slapd.log" 2>&1 &
	SLAPD_PID=$!
	for _ in $(seq 100); do
		ldapsearch -x -LLL -H "$SLAPD_URI" -b "$SLAPD_BASE" -s base dn >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "slapd did not start:" >&2
	cat "$SLAPD_DIR/slapd.log" >&2
	return 1
}

slapd_add() {
	ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null
}

slapd_modify() {
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null
}

ldif_user() {
	cat <<LDIF
dn: uid=$1,ou=${4:-people},$SLAPD_BASE
objectClass: account
objectClass: posixAccount
uid: $1
cn: $3
uidNumber: $2
gidNumber: 20000
homeDirectory: /home/$1

LDIF
}

slapd_stop() {
	[ -n "${SLAPD_PID:-}" ] || return 0
	kill -CONT "$SLAPD_PID" 2>/dev/null # a frozen slapd cannot act on SIGTERM
	kill "$SLAPD_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SLAPD_PID" 2>/dev/null || break
		[ "$(ps -o stat= -p "$SLAPD_PID" 2>/dev/null | cut -c1)" = Z ] && break
		sleep 0.1
	done
	SLAPD_PID=
}
