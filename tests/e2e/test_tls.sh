#!/bin/bash
# TLS to the directory: ldaps:// and StartTLS with a CA the test makes, certificates that must
# be refused (another host name, an unknown CA) with a message that says so, tls_reqcert, and a
# client certificate; dird against a real slapd, the real getent through libnss_dir.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd tls

mkdir "$WORK/pki"
P=$WORK/pki
tls_ca "$P" ca
tls_ca "$P" otherca
tls_cert "$P" ca server "IP:127.0.0.1,DNS:localhost"
tls_cert "$P" ca wrongname "DNS:ldap.elsewhere.test"
tls_cert "$P" otherca stranger "IP:127.0.0.1,DNS:localhost"
tls_cert "$P" ca client "DNS:client.test"

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 --big-group 5 --many-groups 3
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
# serve CERT [CLIENT_CA]: restart slapd with that certificate
serve() {
	slapd_stop
	slapd_tls "$P/$1.crt" "$P/$1.key" "${2:-}"
	slapd_resume
}
serve server
write_nsswitch "$WORK/nss" "files dir"
# conf URI [domain lines...]: a fresh cache and dird with that configuration
conf() {
	dird_stop
	rm -rf "$WORK/cache" "$WORK/run"
	local uri=$1; shift
	write_dird_conf "$DIR_CONF" "$uri"
	printf '%s\n' "$@" >>"$DIR_CONF"
	dird_start
}
lookup() { in_ns "$WORK/nss" getent passwd alice; }
status() { "${CTL[@]}" --json status | python3 -c 'import json,sys; d=json.load(sys.stdin)["domains"][0]; print(d["state"]); print(d.get("last_error",""))'; }
wait_state() {
	for _ in $(seq 100); do
		[ "$(status | sed -n 1p)" != unknown ] && return 0
		sleep 0.05
	done
}

ALICE="alice:*:20001:20000:Alice Example:/home/alice:/bin/bash"
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt"
dird_wait_refresh
check_eq "ldaps:// with tls_ca_file: served" "$ALICE" "$(lookup)"
conf "$SLAPD_URI" "tls = starttls" "tls_ca_file = $P/ca.crt"
dird_wait_refresh
check_eq "StartTLS with tls_ca_file: served" "$ALICE" "$(lookup)"

conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/otherca.crt"
wait_state
check_fails "a CA we do not trust: nothing served" lookup
check_eq "a CA we do not trust: dirctl status says so" "offline" "$(status | sed -n 1p)"
check "the error names the CA as the cause" grep -q "not signed by a CA in tls_ca_file" <(status)
conf "$SLAPD_LDAPS_URI"
wait_state
check "no tls_ca_file: the system's CAs do not know ours either" grep -q "not signed by a CA" <(status)

serve wrongname
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt"
wait_state
check_fails "a certificate for another host name: nothing served" lookup
check "the error names the host name as the cause" grep -q "certificate is for another host name" <(status)
out=$("${CTL[@]}" test 2>&1)
check "dirctl test fails at the TLS step" grep -q "result: FAILED at tls" <<<"$out"
check "dirctl test names the certificate's names" grep -q "ldap.elsewhere.test, not 127.0.0.1" <<<"$out"
conf "$SLAPD_URI" "tls = starttls" "tls_ca_file = $P/ca.crt"
wait_state
check "StartTLS refuses it too (so StartTLS really checks the certificate)" \
	grep -q "certificate is for another host name" <(status)
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt" "tls_reqcert = never"
dird_wait_refresh
check_eq "tls_reqcert = never accepts it (an explicit choice)" "$ALICE" "$(lookup)"

serve stranger
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt"
wait_state
check "a certificate from an unknown CA: refused, CA named" grep -q "not signed by a CA" <(status)

serve server "$P/ca.crt"
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt"
wait_state
check_eq "a server that wants a client certificate refuses us without one" "offline" "$(status | sed -n 1p)"
chmod 644 "$P/client.key"
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt" "tls_cert_file = $P/client.crt" \
	"tls_key_file = $P/client.key" 2>/dev/null
check "a client key others can read: dird refuses to start, and says why" \
	grep -q "tls_key_file: $P/client.key: readable by group or others" "$WORK/dird.log"
chmod 600 "$P/client.key"
conf "$SLAPD_LDAPS_URI" "tls_ca_file = $P/ca.crt" "tls_cert_file = $P/client.crt" \
	"tls_key_file = $P/client.key"
dird_wait_refresh
check_eq "with tls_cert_file and tls_key_file: served" "$ALICE" "$(lookup)"

# A password check over TLS through the real PAM stack.
mkdir "$WORK/pam.d"
printf 'auth required %s\n' "$BUILD/pam_dir/pam_dir.so" >"$WORK/pam.d/bare"
pam_check() { echo alicepw | in_ns "$WORK/nss" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare alice auth 2>&1; }
check_eq "PAM: a password is checked over ldaps://" "auth: Success" "$(pam_check)"

# Each password check is a connection of its own; its TLS context, with the client certificate
# and key loaded, is the domain's, made once.  libldap 2.5 (GnuTLS) leaks about 22 KB of every
# context it makes: one per connection grew dird by ~4.4 MB over 200 checks.  Under the
# sanitizers (whose quarantine grows the RSS anyway) LeakSanitizer at dird's exit checks it.
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$DIRD_PID/status"; }
if [ -n "${DIR_SANITIZE:-}" ]; then
	# A dird whose LeakSanitizer writes, to a file of its own, the bytes it suppressed.
	dird_stop
	mkdir -m 1777 "$WORK/lsan"
	dird_start env "LSAN_OPTIONS=${LSAN_OPTIONS/print_suppressions=0/print_suppressions=1}" \
		"ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$WORK/lsan/report"
	dird_wait_refresh
fi
for _ in $(seq 20); do pam_check >/dev/null; done
before=$(rss_kb)
ok=0
for _ in $(seq 200); do [ "$(pam_check)" = "auth: Success" ] && ok=$((ok + 1)); done
after=$(rss_kb)
echo "# dird VmRSS over 200 password checks with a client certificate: $before -> $after KiB"
check_eq "PAM: 200 more password checks with a client certificate succeed" 200 "$ok"
if [ -z "${DIR_SANITIZE:-}" ]; then
	check "and dird grows by less than 2 MB over them" [ $((after - before)) -lt 2048 ]
else
	dird_stop
	suppressed=$(cat "$WORK"/lsan/report.* 2>/dev/null |
		awk '$3 ~ /^lib(gnutls|tasn1|gmp)/ { n += $2 } END { print n + 0 }')
	echo "# LeakSanitizer suppressed in GnuTLS, libtasn1 and libgmp at dird's exit: $suppressed B"
	check "and what libldap leaks of a context is one context's, not 220's (under 200 KB)" \
		[ "$suppressed" -lt 204800 ]
	# Anything else it found counts as a report (finish).
	for f in "$WORK"/lsan/report.*; do
		grep -q "ERROR:" "$f" 2>/dev/null && cp "$f" "$WORK/sanitizer/"
	done
	dird_start
	dird_wait_refresh
fi

# A reload makes the contexts anew from the new settings: without the client certificate the
# server refuses us, with it back it serves again.
reload() {
	local n
	n=$(grep -c "configuration reloaded" "$WORK/dird.log")
	write_dird_conf "$DIR_CONF" "$SLAPD_LDAPS_URI"
	printf '%s\n' "$@" >>"$DIR_CONF"
	kill -HUP "$DIRD_PID"
	for _ in $(seq 100); do
		[ "$(grep -c "configuration reloaded" "$WORK/dird.log")" -gt "$n" ] && return 0
		sleep 0.05
	done
}
reload "tls_ca_file = $P/ca.crt"
check_fails "reloaded without tls_cert_file: the password check cannot reach the server" \
	grep -q "auth: Success" <(pam_check)
reload "tls_ca_file = $P/ca.crt" "tls_cert_file = $P/client.crt" "tls_key_file = $P/client.key"
check_eq "reloaded with it again: the password is checked" "auth: Success" "$(pam_check)"
finish
