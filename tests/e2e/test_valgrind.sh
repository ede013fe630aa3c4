#!/bin/bash
# libnss_dir and pam_dir under valgrind memcheck: the real getent, id, a PAM login (auth,
# account, session) and API key logins (the key, SCRAM-SHA-512) through our modules, with zero
# errors and zero definite leaks.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
# Once, in the plain build: valgrind and AddressSanitizer do not mix.
[ -n "${DIR_SANITIZE:-}" ] && exit 0
e2e_start slapd

serve_directory 30 10 20 "state_dir = $WORK/state" || exit 1
mkdir "$WORK/pam.d"
printf 'auth required %s\naccount required %s\nsession required %s\n' "$BUILD/pam_dir/pam_dir.so" \
	"$BUILD/pam_dir/pam_dir.so" "$BUILD/pam_dir/pam_dir.so" >"$WORK/pam.d/bare"
printf 'auth required %s apikey allow_password_auth\n' "$BUILD/pam_dir/pam_dir.so" >"$WORK/pam.d/apikey"

VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite)
# vg NAME CMD...: CMD under memcheck in the namespace; passes when memcheck says nothing
vg() {
	local name=$1; shift
	local out rc
	out=$(in_ns "$WORK/nss" "${VG[@]}" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 99 ] && ! grep -q "==[0-9]*==" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "$(grep "==[0-9]*==" <<<"$out" | head -15)"
	fi
}
vg "getent passwd alice: no memcheck error" getent passwd alice
vg "getent passwd of a cache miss (asks dird): no memcheck error" getent passwd u00030
vg "getent group of a big group: no memcheck error" getent group biggroup
vg "getent passwd, the whole enumeration: no memcheck error" getent passwd
vg "id of a user in 20 groups: no memcheck error" id many
vg "an unknown name: no memcheck error" getent passwd nosuchuser
vg "a PAM login (auth, account, open, close): no memcheck error" \
	"$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare alice auth account open close <<<alicepw
vg "a wrong password: no memcheck error" \
	"$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare alice auth <<<wrong
KEY=$(in_ns "$WORK/nss" "$BUILD/dirctl/dirctl" apikey add --iterations 50000 alice 2>/dev/null)
vg "an API key login (the key itself): no memcheck error" \
	"$BUILD/tests/pam_run" --confdir "$WORK/pam.d" apikey alice auth <<<"$KEY"
vg "a wrong API key: no memcheck error" \
	"$BUILD/tests/pam_run" --confdir "$WORK/pam.d" apikey alice auth <<<"1-wrong"
out=$(in_ns "$WORK/nss" /usr/bin/python3 "$HERE/../tools/scram_client.py" "$KEY" -- "${VG[@]}" \
	"$BUILD/tests/pam_run" --interactive --confdir "$WORK/pam.d" apikey alice auth 2>&1)
check_eq "a SCRAM-SHA-512 login under memcheck: it works, memcheck says nothing" "auth: Success" \
	"$(grep -v "^message: \|^server signature" <<<"$out")"
finish
