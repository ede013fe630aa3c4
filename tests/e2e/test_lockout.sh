#!/bin/bash
# No configuration error locks a local user out: root logs in and opens sessions through every
# stack dirctl renders (default, --stig, --2fa) and the shipped truenas-api-key service, driven
# through the real libpam, with dird.conf fine, with a typo in it (log_level = infoo), without
# it, and with a run_dir that cannot be written; dird is not running at all.  And pam render
# refuses a profile it cannot keep (checked in test_enable.sh too).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"

make_workdir
trap 'rm -rf "$WORK"' EXIT
write_dird_conf "$WORK/good.conf" "ldap://127.0.0.1:1" "state_dir = $WORK/state"
{ cat "$WORK/good.conf"; echo "[global]"; echo "log_level = infoo"; } >"$WORK/typo.conf"
touch "$WORK/notadir"
sed "s|^run_dir = .*|run_dir = $WORK/notadir/run|" "$WORK/good.conf" >"$WORK/norun.conf"
write_nsswitch "$WORK/nss" files
pam_modules "$WORK/modules"

# root's password, an API key and a one-time password secret, in the namespace's own files
cp /etc/shadow "$WORK/shadow"
chmod 600 "$WORK/shadow"
HASH=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("rootpw", crypt.mksalt(crypt.METHOD_SHA512)))')
sed -i "s|^root:[^:]*:|root:$HASH:|" "$WORK/shadow"
SECRET=3132333435363738393031323334353637383930
# Counter-based (HOTP): a time-based code works once per 30 s, and root logs in many times here.
printf 'HOTP root - %s\n' "$SECRET" >"$WORK/users.oath"
echo 0 >"$WORK/counter"
chmod 600 "$WORK/users.oath"
mkdir "$WORK/faillock"
echo "dir = $WORK/faillock" >"$WORK/faillock.conf"
run() { # run CONF CMD...: CMD in the namespace, with that dird.conf
	DIR_CONF=$1 in_ns "$WORK/nss" --bind "$WORK/modules" "$PAM_MODULE_DIR" --bind "$WORK/shadow" /etc/shadow \
		--bind "$WORK/faillock.conf" /etc/security/faillock.conf "${@:2}"
}
KEY=$(run "$WORK/good.conf" "$BUILD/dirctl/dirctl" apikey add --iterations 50000 root 2>/dev/null)
check "root has an API key" test -n "$KEY"

for profile in "" --stig "--2fa --oath-users $WORK/users.oath" "--stig --2fa --oath-users $WORK/users.oath"; do
	P=$WORK/pam.d-$(echo "$profile" | tr -dc 'a-z')
	mkdir "$P"
	# shellcheck disable=SC2086
	run "$WORK/good.conf" "$BUILD/dirctl/dirctl" pam render $profile --dir "$P" >/dev/null
	name=${profile%% --oath*}
	name=${name:-default}
	for conf in good typo missing norun; do
		what="${name}, dird.conf $conf"
		pam() { # pam SERVICE STEP...: the answers are root's password and the next one-time password
			local n
			n=$(cat "$WORK/counter")
			echo $((n + 1)) >"$WORK/counter"
			printf '%s\n' "$ANSWER" "$(oathtool -d 6 -c "$n" "$SECRET")" |
				run "$WORK/$conf.conf" unshare -m sh -c 'mount --bind "$0" /etc/pam.d && exec "$@"' "$P" \
				"$BUILD/tests/pam_run" "$@" 2>&1 | grep -v '^message'
		}
		ANSWER=rootpw
		check_eq "$what: root logs in to truenas and opens a session" "auth: Success
account: Success
open: Success
close: Success" "$(pam truenas root auth account open close)"
		check_eq "$what: truenas-session for root" "account: Success
open: Success
close: Success" "$(pam truenas-session root account open close)"
		check_eq "$what: truenas-unix for root" "auth: Success
account: Success
open: Success
close: Success" "$(pam truenas-unix root auth account open close)"
		[ "$conf" = missing ] && continue # no dird.conf: no state_dir, so no key store to find
		ANSWER=$KEY
		check_eq "$what: root's API key through truenas-api-key" "auth: Success
account: Success
open: Success
close: Success" "$(pam truenas-api-key root auth account open close)"
	done
done
check_eq "no failure was counted against root" "0" "$(faillock --dir "$WORK/faillock" --user root | grep -c " V$")"

# STIG's max_sessions=10 never shuts root out (pam_limits' maxlogins spares uid 0 too): a
# long-lived process (the web UI's middleware) holds ten of root's sessions, and root still
# logs in with a session; a local user with ten gets no eleventh.
printf 'worker:x:4321:4321::/nonexistent:/usr/sbin/nologin\n' | cat /etc/passwd - >"$WORK/passwd"
run_sessions() { # run_sessions USER STEP...: pam_sessions through the STIG truenas-session
	run "$WORK/good.conf" unshare -m sh -c 'mount --bind "$0" /etc/pam.d && mount --bind "$1" /etc/passwd &&
		shift && exec "$@"' "$WORK/pam.d-stig" "$WORK/passwd" "$BUILD/tests/pam_sessions" truenas-session "$@"
}
for who in root worker; do
	run_sessions "$who" $(printf 'open %.0s' $(seq 10)) mark="$WORK/$who.ten" wait="$WORK/$who.go" \
		>"$WORK/$who.sessions" 2>&1 &
	HOLDER=$!
	for _ in $(seq 300); do [ -e "$WORK/$who.ten" ] && break; sleep 0.1; done
	check_eq "STIG: one process holds ten sessions of $who" "10" "$(grep -c ': Success' "$WORK/$who.sessions")"
	if [ "$who" = root ]; then
		ANSWER=rootpw P=$WORK/pam.d-stig conf=good
		check_eq "STIG: ... and root still logs in to truenas with a session" "auth: Success
account: Success
open: Success
close: Success" "$(pam truenas root auth account open close)"
	else
		check_eq "STIG: ... and $who gets no eleventh" "open 1: Permission denied DIR_SESSION_ID=" \
			"$(run_sessions "$who" open 2>&1)"
	fi
	touch "$WORK/$who.go"
	wait "$HOLDER"
done
finish
