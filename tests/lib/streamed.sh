# Shared by the tests of change streams against one slapd with syncprov (test_redteam_*.sh,
# test_sync_old_keys.sh, test_sync_damaged.sh).
# Sourced after common.sh, it runs e2e_start slapd.  NSS is $WORK/nss, naming "files dir".
#   streamed_generated USERS [dird.conf global lines]: gen_ldif.py's users on a slapd with
#                 syncprov (SLAPD_SESSIONLOG as slapd.sh reads it), DIR_CONF naming it
#   two_domains   domains a and b of one slapd (ou=a and ou=b, each with people and groups),
#                 b holding alice 30001, dave 30002 and bea 30003, a ann 20050; DIR_CONF
#                 naming both
#   ldap CMD      ldapadd, ldapmodify, ldapdelete... as the administrator (LDIF on stdin)
#   in_sync       the first domain's stream is in sync; all_in_sync: every domain's
#   private_accounts  $WORK/passwd and $WORK/group, copies of the host's (and .orig copies of
#                 them) for dird_private; ACCOUNTS binds them in in_ns for the helpers below
#   local_restore  $WORK/passwd and $WORK/group as private_accounts made them, in place (the
#                 bind mounts keep the inode)
#   uid_of NAME, uid_is NAME UID, shell_is NAME SHELL, absent NAME: through getent and NSS
#   gid_of NAME: through getent group
#   P, G          gen_ldif.py's people and groups
e2e_start slapd
P=ou=people,$SLAPD_BASE
G=ou=groups,$SLAPD_BASE
NSS=$WORK/nss
write_nsswitch "$NSS" "files dir"

streamed_generated() {
	local users=$1
	shift
	SLAPD_SYNCPROV=1 slapd_generated "$users" 0 0 &&
		write_dird_conf "$DIR_CONF" "$SLAPD_URI" "$(printf '%s\n' "$@")"
}

ldap() { "$@" -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }

# domains_in_sync EXPR: a Python expression of d, the domains in dirctl status --json, is true
domains_in_sync() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c "import json,sys; d = json.load(sys.stdin)['domains']; sys.exit(0 if $1 else 1)"
}
in_sync() { domains_in_sync 'd[0]["in_sync"]'; }
all_in_sync() { domains_in_sync 'all(x["in_sync"] for x in d)'; }

ACCOUNTS=()
private_accounts() {
	cp /etc/passwd /etc/group "$WORK/" &&
		chmod 644 "$WORK/passwd" "$WORK/group" &&
		cp "$WORK/passwd" "$WORK/passwd.orig" &&
		cp "$WORK/group" "$WORK/group.orig" || return 1
	ACCOUNTS=(--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)
}
local_restore() {
	cat "$WORK/passwd.orig" >"$WORK/passwd" && cat "$WORK/group.orig" >"$WORK/group"
}

uid_of() { in_ns "$NSS" "${ACCOUNTS[@]}" getent passwd "$1" | cut -d: -f3; }
uid_is() { [ "$(uid_of "$1")" = "$2" ]; }
gid_of() { in_ns "$NSS" "${ACCOUNTS[@]}" getent group "$1" | cut -d: -f3; }
shell_is() { in_ns "$NSS" "${ACCOUNTS[@]}" getent passwd "$1" | grep -q ":$2\$"; }
absent() { ! in_ns "$NSS" "${ACCOUNTS[@]}" getent passwd "$1" >/dev/null; }

# two_user_ldif NAME UID OU: a user of domain OU (a or b)
two_user_ldif() {
	printf 'dn: uid=%s,ou=people,ou=%s,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: %s\ncn: %s\nuidNumber: %s\ngidNumber: 20000\nhomeDirectory: /home/%s\n\n' \
		"$1" "$3" "$SLAPD_BASE" "$1" "$1" "$2" "$1"
}

two_domains() {
	local b=$SLAPD_BASE d
	{
		printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n\n' "$b"
		printf 'dn: ou=system,%s\nobjectClass: organizationalUnit\nou: system\n\n' "$b"
		printf 'dn: cn=reader,ou=system,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n' "$b"
		for d in a b; do
			printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$d" "$b" "$d"
			printf 'dn: ou=people,ou=%s,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$d" "$b"
			printf 'dn: ou=groups,ou=%s,%s\nobjectClass: organizationalUnit\nou: groups\n\n' "$d" "$b"
		done
		two_user_ldif alice 30001 b
		two_user_ldif dave 30002 b
		two_user_ldif bea 30003 b
		two_user_ldif ann 20050 a
	} >"$WORK/data.ldif"
	SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd" "$WORK/data.ldif" || return 1
	mkdir -p "$WORK/cache" "$WORK/run"
	printf 'readerpw\n' >"$WORK/bindpw"
	chmod 600 "$WORK/bindpw"
	{
		printf '[global]\ncache_dir = %s/cache\nrun_dir = %s/run\nnss_timeout = 2\nlog_level = debug\n' "$WORK" "$WORK"
		for d in a b; do
			printf '\n[domain/%s]\ntype = ldap\nuri = %s\nbase_dn = ou=%s,%s\nuser_base = ou=people,ou=%s,%s\ngroup_base = ou=groups,ou=%s,%s\nbind_dn = cn=reader,ou=system,%s\nbind_password_file = %s/bindpw\n' \
				"$d" "$SLAPD_URI" "$d" "$b" "$d" "$b" "$d" "$b" "$b" "$WORK"
		done
	} >"$DIR_CONF"
}

# b_proxy_start [ARGS]: a proxy (tests/lib/tcp_proxy.py ARGS) on B_PORT to slapd, PROXY_PID;
# b_through_proxy: domain b of two_domains' dird.conf reached through it
b_proxy_start() {
	/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/tcp_proxy.py" "$B_PORT" "${SLAPD_URI##*:}" "$@" &
	PROXY_PID=$!
	E2E_PIDS+=("$PROXY_PID")
	within 5 ldapsearch -x -LLL -H "ldap://127.0.0.1:$B_PORT" -b "$SLAPD_BASE" -s base dn >/dev/null
}
b_through_proxy() {
	python3 - "$DIR_CONF" "ldap://127.0.0.1:$B_PORT" <<'PY'
import sys
p, uri = sys.argv[1], sys.argv[2]
s = open(p).read()
i = s.index("[domain/b]")
open(p, "w").write(s[:i] + s[i:].replace("uri = ", "uri = %s\n#" % uri, 1))
PY
}
