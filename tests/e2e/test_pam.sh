#!/bin/bash
# PAM end to end: the real libpam runs the shipped etc/pam.d stacks (truenas, truenas-session,
# truenas-unix) and a bare pam_dir stack, in a private mount namespace with its own /etc/pam.d
# and a local user in its own /etc/passwd and /etc/shadow, against dird and a real slapd.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 20 5 3 "cache_credentials = yes" || exit 1

pam_stacks "$WORK/pam.d" max_sessions=2
local_user_files

NS=(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d --bind "$WORK/passwd" /etc/passwd
	--bind "$WORK/group" /etc/group --bind "$WORK/shadow" /etc/shadow)
# pam PASSWORD SERVICE USER STEP... : the output of pam_run
pam() {
	local pw=$1; shift
	echo "$pw" | "${NS[@]}" "$BUILD/tests/pam_run" "$@" 2>&1
}

# --- authentication through the shipped truenas stack ----------------------------------------
check_eq "directory user, right password: logged in" \
	"auth: Success
account: Success" "$(pam alicepw truenas alice auth account)"
check_eq "directory user, wrong password: refused" \
	"auth: Authentication failure" "$(pam wrong truenas alice auth)"
check_eq "local user, right password: pam_unix logs it in (pam_dir stands aside)" \
	"auth: Success
account: Success" "$(pam localpw truenas localuser auth account)"
check_eq "local user, wrong password: refused" \
	"auth: Authentication failure" "$(pam wrong truenas localuser auth)"
check_eq "unknown user: refused" "auth: Authentication failure" "$(pam x truenas nosuchuser auth)"
check_eq "local root with the directory's 'root' password: refused" \
	"auth: Authentication failure" "$(pam rootpw truenas root auth)"
check_eq "non-ASCII gecos user logs in" "auth: Success" "$(pam bobpw truenas bob auth)"

# --- exact answers of pam_dir alone --------------------------------------------------------
check_eq "bare: right password" "auth: Success" "$(pam alicepw bare alice auth)"
check_eq "bare: wrong password" "auth: Authentication failure" "$(pam alicepw2 bare alice auth)"
check_eq "bare: unknown user falls through (user unknown)" \
	"auth: User not known to the underlying authentication module" "$(pam x bare nosuchuser auth)"
check_eq "bare: local user is not ours (user unknown), even with the directory's password" \
	"auth: User not known to the underlying authentication module" "$(pam rootpw bare root auth)"
before=$(grep -c "pam auth for alice" "$WORK/dird.log")
check_eq "bare: empty password refused" "auth: Authentication failure" "$(pam "" bare alice auth)"
check_eq "the empty password never reached dird" "$before" "$(grep -c "pam auth for alice" "$WORK/dird.log")"
check_eq "bare: a user below min_id is not a directory user" \
	"auth: User not known to the underlying authentication module" "$(pam lowidpw bare lowid auth)"
check_eq "bare: a name with a filter in it is refused, not searched" \
	"auth: User not known to the underlying authentication module" "$(pam x bare 'ali*' auth)"

# --- dird's debug lines (log_level = debug): what each login and lookup did, and why ------------
check "debug: a right password's line names the path and the time" grep -Eq \
	"debug: pam auth for alice \(service bare\): ok, via LDAP bind as the user \(domain example\) \([0-9]+ ms\)" "$WORK/dird.log"
check "a wrong password's line says so, and by which path" grep -Eq \
	"info: pam auth for alice \(service bare\): wrong password, via LDAP bind as the user \(domain example\) \([0-9]+ ms\)" "$WORK/dird.log"
check "an unknown user's line: no domain has it" grep -Eq \
	"pam auth for nosuchuser \(service bare\): not a directory user: no domain has the user \([0-9]+ ms\)" "$WORK/dird.log"
"${NS[@]}" getent passwd nosuchname >/dev/null
check "a miss reaching dird: the request, the caller's uid, the domain's answer, the time" grep -Eq \
	"debug: lookup getpwnam nosuchname by uid 0: asked domain example: not found \([0-9]+ ms\)" "$WORK/dird.log"
in_ns "$WORK/nss" --as-nobody getent passwd lowid >/dev/null
check "a user below min_id: the line gives the rule that refused it" grep -Eq \
	"debug: lookup getpwnam lowid by uid 65534: asked domain example: not found: refused user lowid: uid 500 is below min_id [0-9]+ \([0-9]+ ms\)" "$WORK/dird.log"
"${NS[@]}" getent passwd lowid >/dev/null
check "asked again: the negative cache answers" grep -Eq \
	"debug: lookup getpwnam lowid by uid 0: not found \(the negative cache\) \([0-9]+ ms\)" "$WORK/dird.log"

# --- account states --------------------------------------------------------------------------
check_eq "expired account (shadowExpire)" \
	"auth: Success
message: Your account has expired; contact your administrator.
account: User account has expired" "$(pam expiredpw truenas expired auth account)"
check_eq "must change (shadowLastChange = 0)" \
	"auth: Success
message: You are required to change your password immediately (administrator enforced).
account: Authentication token is no longer valid; new one required" \
	"$(pam mustchangepw bare mustchange auth account)"
check_eq "password too old (shadowLastChange + shadowMax)" \
	"account: Authentication token is no longer valid; new one required" \
	"$(pam pwexpiredpw bare pwexpired auth account | tail -1)"
check_eq "disabled account (nsAccountLock)" \
	"auth: Success
message: Your account is disabled; contact your administrator.
account: Permission denied" "$(pam disabledpw truenas disabled auth account)"
check_eq "locked account (ppolicy pwdAccountLockedTime): the password no longer works" \
	"auth: Authentication failure" "$(pam lockedpw bare locked auth)"
check "locked account: dird's log says locked, not a wrong password" \
	grep -q "pam auth for locked (.*): refused: the account is locked in the directory (the password was not judged)" "$WORK/dird.log"
check_fails "locked account: the log does not say wrong password" grep -q "pam auth for locked (.*): wrong password" "$WORK/dird.log"
check_eq "locked account is refused by the account check too" \
	"account: Permission denied" "$(pam x bare locked account | tail -1)"
check_eq "password change for a directory user is refused with a message" \
	"message: Directory passwords cannot be changed on this host; ask your directory administrator.
chauthtok: Permission denied" "$(pam x bare alice chauthtok)"
check_eq "password change through the shipped stack: refused the same way" \
	"message: Directory passwords cannot be changed on this host; ask your directory administrator.
chauthtok: Permission denied" "$(pam bobpw truenas bob chauthtok)"
check_eq "truenas-session: no password accepted" \
	"auth: Authentication failure" "$(pam alicepw truenas-session alice auth)"
check_eq "truenas-session: account and session for a directory user" \
	"account: Success
open: Success
close: Success" "$(pam x truenas-session alice account open close)"
check_eq "truenas-unix: no password, account checked" \
	"auth: Success
account: Permission denied" "$(pam x truenas-unix disabled auth account | grep -v message)"

# --- password changes (allow_password_change) -------------------------------------------------
sed -i '/^page_size/a allow_password_change = yes' "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/dird.log" && break; sleep 0.1; done
check_eq "a wrong current password is refused" \
	"message: The current password is wrong.
chauthtok: Authentication token manipulation error" "$(pam bobpw2 bare bob chauthtok)"
check_eq "a retyped password that differs is refused" \
	"message: Sorry, passwords do not match.
chauthtok: Authentication token manipulation error" "$(printf 'bobpw\nnew1\nnew2\n' | "${NS[@]}" "$BUILD/tests/pam_run" bare bob chauthtok 2>&1)"
check_eq "bob changes his password through the shipped stack" "chauthtok: Success" \
	"$(printf 'bobpw\nbobnewpw\nbobnewpw\n' | "${NS[@]}" "$BUILD/tests/pam_run" truenas bob chauthtok 2>&1)"
check_eq "the new password works" "auth: Success" "$(pam bobnewpw bare bob auth)"
check_eq "the old one does not" "auth: Authentication failure" "$(pam bobpw bare bob auth)"
check_eq "a password an administrator reset: logged in, made to change it, then let in" \
	"auth: Success
message: You are required to change your password immediately (administrator enforced).
account: Authentication token is no longer valid; new one required
chauthtok-expired: Success
account: Success" \
	"$(printf 'resetmepw\nresetmepw\nresetnewpw\nresetnewpw\n' | "${NS[@]}" "$BUILD/tests/pam_run" bare resetme auth account chauthtok-expired account 2>&1)"
check_eq "and the next login is a plain one" "auth: Success
account: Success" "$(pam resetnewpw bare resetme auth account)"
pam x bare localuser chauthtok >/dev/null
check_fails "a local user's password change is not ours (dird is not asked)" \
	grep -q "chauthtok for localuser" "$WORK/dird.log"

mkdir "$WORK/rendered"
pam_modules "$WORK/modules" # pam render wants every module it names installed
RENDER=(in_ns "$WORK/nss" --bind "$WORK/modules" "$PAM_MODULE_DIR" "${CTL[@]}" pam render)
"${RENDER[@]}" --dir "$WORK/rendered" >/dev/null
check "dirctl pam render writes exactly the stacks shipped in etc/pam.d" \
	diff -r "$WORK/rendered" "$HERE/../../etc/pam.d"

# --- the STIG and 2FA stacks dirctl renders --------------------------------------------------------
mkdir "$WORK/stig.d" "$WORK/faillock"
SECRET=3132333435363738393031323334353637383930
printf 'HOTP/T30/6 carol - %s\nHOTP/T30/6 alice - %s\n' "$SECRET" "$SECRET" >"$WORK/users.oath"
chmod 600 "$WORK/users.oath"
"${RENDER[@]}" --stig --2fa --oath-users "$WORK/users.oath" --dir "$WORK/stig.d" >/dev/null
sed -i "s|pam_dir\.so|$MOD|" "$WORK/stig.d"/*
echo "dir = $WORK/faillock" >"$WORK/faillock.conf"
STIG=(in_ns "$WORK/nss" --bind "$WORK/stig.d" /etc/pam.d --bind "$WORK/faillock.conf" /etc/security/faillock.conf)
stig() { printf '%s\n' "$@" | "${STIG[@]}" "$BUILD/tests/pam_run" --show-delay truenas carol auth 2>&1; }
check_eq "2FA: the password and the one-time password: logged in" "auth: Success" \
	"$(stig carolpw "$(oathtool --totp -d 6 "$SECRET")" | grep -v delay)"
check_eq "2FA: the password and a wrong one-time password: refused" "auth: Authentication failure" \
	"$(stig carolpw 000000 | grep -v delay)"
delay=$(stig wrong | sed -n 's/^delay: //p')
# libpam randomizes the delay around what was asked (up to half of it either way).
check "STIG: a failure is delayed about 4 s (${delay} us)" \
	test "${delay:-0}" -ge 2000000 -a "${delay:-0}" -le 6000000
stig wrong >/dev/null
stig wrong >/dev/null
check_eq "STIG: after 3 failures the right password is refused too" "auth: Authentication failure" \
	"$(stig carolpw "$(oathtool --totp -d 6 "$SECRET")" | grep auth)"
check "STIG: pam_faillock tells the user the account is locked" grep -q "locked" <(stig carolpw 000000)
check_eq "STIG: faillock counts the directory user's failures" "3" \
	"$(faillock --dir "$WORK/faillock" --user carol | grep -c ' V$')"
check "STIG: at most 10 sessions per user" grep -q "max_sessions=10" "$WORK/stig.d/common-session-dir"
check_eq "STIG: other users are not locked" "auth: Success" \
	"$(printf 'alicepw\n%s\n' "$(oathtool --totp -d 6 "$SECRET")" | "${STIG[@]}" "$BUILD/tests/pam_run" truenas alice auth 2>&1)"

# --- access rules ------------------------------------------------------------------------------
sed -i '/^page_size/a access_groups = devs, team\naccess_filter = (!(uid=bob))' "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/dird.log" && break; sleep 0.1; done
check_eq "access_groups: a member may log in" "account: Success" "$(pam x bare alice account)"
check_eq "access_groups: a user in none of them may not" \
	"message: You are not allowed to log in to this host.
account: Permission denied" "$(pam outsiderpw bare outsider account)"
check_eq "access_filter: a member the filter leaves out may not" \
	"message: You are not allowed to log in to this host.
account: Permission denied" "$(pam x bare bob account)"
check_eq "access rules leave local users alone" "account: Success" "$(pam x truenas localuser account)"

# --- sessions --------------------------------------------------------------------------------
pam x --tty s1 bare alice open wait="$WORK/release" close >"$WORK/s1" &
S1=$!
pam x --tty s2 bare alice open wait="$WORK/release" close >"$WORK/s2" &
S2=$!
for _ in $(seq 100); do [ "$(grep -c open "$WORK/s1" "$WORK/s2" | grep -c ':1')" = 2 ] && break; sleep 0.1; done
check_eq "two sessions are listed" "2" "$("${CTL[@]}" sessions --json |
	python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin) if s["user"]=="alice" and s["service"]=="bare"))')"
check_eq "the registry is root's alone" "700" "$(stat -c %a "$WORK/run/sessions")"
check_eq "max_sessions=2: a third session is refused" \
	"message: Too many logins for 'alice' (at most 2).
open: Permission denied" "$(pam x bare alice open)"
check_eq "other users are not limited by alice's sessions" "open: Success" "$(pam x bare carol open)"
pkill -9 -f "pam_run --tty s2 bare alice" 2>/dev/null
wait "$S2" 2>/dev/null
check_eq "sessions of processes that died do not count" "1" "$("${CTL[@]}" sessions --json |
	python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin) if s["user"]=="alice"))')"
check_eq "after one died, a new session is allowed" "open: Success" "$(pam x bare alice open)"
touch "$WORK/release"
wait "$S1"
check_eq "closing a session removes it" "open: Success
wait=$WORK/release: Success
close: Success" "$(cat "$WORK/s1")"
check_eq "no live session is left" "0" "$("${CTL[@]}" sessions --json |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# --- sessions of one long-lived process (a web middleware), by the id it opened ----------------
live() { "${CTL[@]}" sessions --json | python3 -c 'import json,sys; print(*sorted(s["id"] for s in json.load(sys.stdin)))'; }
printf 'session\trequired\t%s\n' "$MOD" >"$WORK/pam.d/mw"
printf 'session\trequired\t%s max_session_age=2\n' "$MOD" >"$WORK/pam.d/aged"
step() { # step N: let the middleware go on to mark N, and wait for it
	touch "$WORK/go$(($1 - 1))"
	for _ in $(seq 100); do [ -e "$WORK/mark$1" ] && return; sleep 0.1; done
}
"${NS[@]}" "$BUILD/tests/pam_sessions" mw alice open open open mark="$WORK/mark1" wait="$WORK/go1" \
	close=2 mark="$WORK/mark2" wait="$WORK/go2" end=1 mark="$WORK/mark3" wait="$WORK/go3" \
	open closenew mark="$WORK/mark4" wait="$WORK/go4" end=4 closenew mark="$WORK/mark5" wait="$WORK/go5" \
	>"$WORK/mw.out" 2>&1 &
MW=$!
step 1
sid() { sed -n "s/^open $1: Success DIR_SESSION_ID=//p" "$WORK/mw.out"; }
check_eq "one process, three sessions: three ids (kept in the PAM environment too)" \
	"$(printf '%s\n' "$(sid 1)" "$(sid 2)" "$(sid 3)" | sort | xargs)" "$(live)"
step 2
check_eq "closing the second removes that one, not another of the same user and process" \
	"$(printf '%s\n' "$(sid 1)" "$(sid 3)" | sort | xargs)" "$(live)"
step 3
check_eq "a handle ended without close_session (pam_end) ends its session" "$(sid 3)" "$(live)"
step 4
check_eq "a close from a handle that opened nothing, with two sessions that fit: neither is removed" \
	"$(printf '%s\n' "$(sid 3)" "$(sid 4)" | sort | xargs)" "$(live)"
step 5
check_eq "...with one that fits: that one is" "" "$(live)"
touch "$WORK/go5"
wait "$MW"
"${NS[@]}" "$BUILD/tests/pam_sessions" aged alice open mark="$WORK/aged" wait="$WORK/aged.go" >/dev/null 2>&1 &
AGED=$!
for _ in $(seq 100); do [ -e "$WORK/aged" ] && break; sleep 0.1; done
check_eq "max_session_age=2: the session counts at first" "1" "$(live | wc -w)"
sleep 2.5
check_eq "...and no longer after 2 s, though its process lives on" "0" "$(live | wc -w)"
touch "$WORK/aged.go"
wait "$AGED"
# max_sessions counts the account (its uid), not the name it logged in with
echo "localalias:x:4242:4242:Local User:/tmp:/bin/sh" >>"$WORK/passwd"
"${NS[@]}" "$BUILD/tests/pam_sessions" bare localuser open open mark="$WORK/two" wait="$WORK/two.go" >"$WORK/two.out" 2>&1 &
TWO=$!
for _ in $(seq 100); do [ -e "$WORK/two" ] && break; sleep 0.1; done
check_eq "max_sessions=2, two sessions as localuser: a third as localalias (the same uid) is refused" \
	"open 1: Permission denied DIR_SESSION_ID=" "$("${NS[@]}" "$BUILD/tests/pam_sessions" bare localalias open 2>&1)"
touch "$WORK/two.go"
wait "$TWO"
sed -i '/^localalias:/d' "$WORK/passwd"
echo "longgecos:x:4243:4243:$(head -c 6000 /dev/zero | tr '\0' g):/tmp:/bin/sh" >>"$WORK/passwd"
check_eq "a user whose passwd line is over 4 KiB (a long gecos) opens a session" "open 1: Success" \
	"$("${NS[@]}" "$BUILD/tests/pam_sessions" bare longgecos open end=1 2>&1 | head -1 | cut -d' ' -f1-3)"
sed -i '/^longgecos:/d' "$WORK/passwd"

# --- who may ask, and when dird or the directory is down -------------------------------------
check_eq "the PAM socket is root's alone" "600 root" "$(stat -c '%a %U' "$WORK/run/pam.sock")"
check_eq "an unprivileged caller cannot check passwords" \
	"auth: Authentication service cannot retrieve authentication info" \
	"$(echo alicepw | in_ns "$WORK/nss" --as-nobody "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare alice auth 2>&1)"
check_eq "cached credentials are root's alone" "600" "$(stat -c %a "$WORK/cache/credentials.tdb")"
check_fails "the cache holds no password in clear" grep -q -e alicepw -e bobpw "$WORK/cache/credentials.tdb"
slapd_stop
check_eq "directory down: a user who logged in before logs in with the cached password" \
	"auth: Success" "$(pam alicepw bare alice auth)"
check "dird says it was offline" grep -q "pam auth for alice (service bare): ok (offline, cached credentials)" "$WORK/dird.log"
check_eq "directory down: a wrong password is refused" \
	"auth: Authentication failure" "$(pam alicepw2 bare alice auth)"
check_eq "directory down: a user who never logged in cannot be checked" \
	"auth: Authentication service cannot retrieve authentication info" "$(pam outsiderpw bare outsider auth)"
check_eq "directory down: the shipped stack logs the cached user in" "auth: Success" \
	"$(pam alicepw truenas alice auth)"
check_eq "directory down: access_filter cannot be checked, so the account is refused" \
	"account: Authentication service cannot retrieve authentication info" "$(pam x bare alice account)"
sed -i '/^access_filter/d' "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 100); do [ "$(grep -c "configuration reloaded" "$WORK/dird.log")" = 2 ] && break; sleep 0.1; done
check_eq "directory down: the account check answers from the cache" "account: Success" \
	"$(pam x bare alice account)"
check_eq "directory down: access_groups still apply, from the cache" "account: Permission denied" \
	"$(pam x bare outsider account | tail -1)"
check_eq "directory down: local users still log in" "auth: Success" "$(pam localpw truenas localuser auth)"
dird_stop
start=$(date +%s%N)
out=$(pam alicepw bare alice auth)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "dird stopped: unavailable" "auth: Authentication service cannot retrieve authentication info" "$out"
check "dird stopped: answered in under 2 s (${ms} ms)" test "$ms" -lt 2000
check_eq "dird stopped: local users still log in" "auth: Success
account: Success" "$(pam localpw truenas localuser auth account)"
if grep -q -e alicepw -e bobpw -e expiredpw "$WORK/dird.log"; then
	not_ok "no password in dird's log" "found one"
else
	ok "no password in dird's log"
fi
finish
