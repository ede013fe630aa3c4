#!/bin/bash
# API keys: dirctl apikey makes them; the real libpam runs the shipped truenas-api-key stack (and
# bare pam_dir apikey stacks) with an independent SCRAM-SHA-512 client (tests/tools/
# scram_client.py: hashlib and hmac) answering the conversation, for a directory user (slapd,
# dird) and a local one; the STIG stack counts API key failures toward pam_faillock.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 5 2 1 "state_dir = $WORK/state" || exit 1

MOD=$BUILD/pam_dir/pam_dir.so
mkdir "$WORK/pam.d" "$WORK/stig.d" "$WORK/faillock"
sed "s|pam_dir\.so|$MOD|" "$HERE/../../etc/pam.d/truenas-api-key" >"$WORK/pam.d/truenas-api-key"
for f in common-account-dir common-session-dir; do
	sed "s|pam_dir\.so|$MOD|" "$HERE/../../etc/pam.d/$f" >"$WORK/pam.d/$f"
done
printf 'auth\trequired\t%s apikey\n' "$MOD" >"$WORK/pam.d/scram-only"
printf 'auth\trequired\t%s apikey allow_password_auth\n' "$MOD" >"$WORK/pam.d/raw"
local_user_files
NS=(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d --bind "$WORK/passwd" /etc/passwd
	--bind "$WORK/group" /etc/group)
# apikey_add USER [options]: the key dirctl prints (it resolves USER through our NSS module)
apikey_add() { "${NS[@]}" "${CTL[@]}" apikey add --iterations 50000 "$@" 2>/dev/null; }
# scram SERVICE USER KEY [client options]: the SCRAM client through pam_run
scram() {
	local service=$1 user=$2 key=$3
	shift 3
	"${NS[@]}" /usr/bin/python3 "$HERE/../tools/scram_client.py" "$@" "$key" -- \
		"$BUILD/tests/pam_run" --interactive "$service" "$user" auth 2>&1
}
# raw SERVICE USER TEXT: the first answer is TEXT
raw() { printf '%s\n' "$3" | "${NS[@]}" "$BUILD/tests/pam_run" "$1" "$2" auth 2>&1; }

# --- keys -----------------------------------------------------------------------------------------
ALICE=$(apikey_add alice --name backup)
check "apikey add prints <id>-<64 letters and digits> once" grep -qE '^1-[A-Za-z0-9]{64}$' <<<"$ALICE"
LOCAL=$(apikey_add localuser)
SECRET_PART=${ALICE#*-}
check_fails "the secret is nowhere in the store" grep -rq "$SECRET_PART" "$WORK/state"
check_eq "the store is root's alone" "700 600" \
	"$(stat -c %a "$WORK/state") $(stat -c %a "$WORK/state/apikeys.tdb")"
"${NS[@]}" "${CTL[@]}" apikey add nosuchuser >/dev/null 2>&1
check_eq "apikey add for an unknown user: exit 5" 5 "$?"
"${NS[@]}" "${CTL[@]}" apikey add --iterations 10 alice >/dev/null 2>&1
check_eq "iterations below 50,000 are refused" 2 "$?"
"${NS[@]}" "${CTL[@]}" apikey add --expires tomorrow alice >/dev/null 2>&1
check_eq "a date that is not one is refused" 2 "$?"
for day in 2026-02-31 2027-02-29 2026-04-31T10:00:00 2026-01-01T24:00:00; do
	"${NS[@]}" "${CTL[@]}" apikey add --expires "$day" alice >/dev/null 2>&1
	check_eq "an impossible date is refused, not made another day: $day" 2 "$?"
done
EXPIRED=$(apikey_add alice --expires 2020-01-01)
REVOKED=$(apikey_add alice)
"${CTL[@]}" apikey revoke "${REVOKED%%-*}" >/dev/null
check_eq "apikey list: ids, users, names, states; no secrets" \
	"1 alice backup active
2 localuser - active
3 alice - expired
4 alice - revoked" "$("${CTL[@]}" apikey list | awk 'NR > 1 {print $1, $2, $3, $6}')"
check_eq "apikey list USER --json" "1 3 4" \
	"$("${CTL[@]}" --json apikey list alice | python3 -c 'import json,sys; print(*[k["id"] for k in json.load(sys.stdin)])')"
"${CTL[@]}" apikey revoke 99 >/dev/null 2>&1
check_eq "revoking an unknown key: exit 5" 5 "$?"

# --- SCRAM-SHA-512 through the shipped stack ---------------------------------------------------
out=$(scram truenas-api-key alice "$ALICE" --save-final "$WORK/final")
check_eq "SCRAM: the right key logs a directory user in" "auth: Success" "$(grep '^auth:' <<<"$out")"
check "SCRAM: server-final comes as a message, and its signature is right" \
	grep -qx "server signature: ok" <<<"$out"
check_eq "SCRAM: a local user's key" "auth: Success" "$(scram truenas-api-key localuser "$LOCAL" | grep '^auth:')"
check_eq "SCRAM: a wrong key" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "1-$(printf 'x%.0s' $(seq 64))" | grep '^auth:')"
check_eq "SCRAM: a wrong proof" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --wrong-proof | grep '^auth:')"
check_eq "SCRAM: a replayed client-final" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --final "$(cat "$WORK/final")" | grep '^auth:')"
check_eq "SCRAM: another user's key" "auth: Authentication failure" \
	"$(scram truenas-api-key localuser "$ALICE" | grep '^auth:')"
check_eq "SCRAM: an unknown key id" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "77-$SECRET_PART" | grep '^auth:')"
check_eq "SCRAM: an expired key" "auth: User credentials expired" \
	"$(scram truenas-api-key alice "$EXPIRED" | grep '^auth:')"
check_eq "SCRAM: a revoked key" "auth: User credentials expired" \
	"$(scram truenas-api-key alice "$REVOKED" | grep '^auth:')"
check_eq "SCRAM: an unknown user: a failure like any other through the shipped stack" \
	"auth: Authentication failure" "$(scram truenas-api-key nosuchuser "$ALICE" | grep '^auth:')"
check_eq "SCRAM: an unknown user, pam_dir alone: a failure like a wrong key's, not 'user unknown'" \
	"auth: Authentication failure" "$(scram scram-only nosuchuser "$ALICE" | grep '^auth:')"
check_eq "SCRAM: a truncated client-first (not SCRAM, and not a key)" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --first 'n,,n=1' | grep '^auth:')"
check_eq "SCRAM: an oversized client-first" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --first "n,,n=1,r=$(head -c 6000 /dev/zero | tr '\0' a)" | grep '^auth:')"
check_eq "SCRAM: a malformed client-final" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --final 'c=biws,r=x' | grep '^auth:')"
check_eq "SCRAM: a truncated client-final" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --final "$(head -c 40 "$WORK/final")" | grep '^auth:')"
check_eq "SCRAM: channel binding asked for, none in the PAM environment" "auth: Authentication failure" \
	"$(scram truenas-api-key alice "$ALICE" --cbind-flag p --cbind-data QUJD | grep '^auth:')"
CB=$(printf 'certificate hash' | base64)
check_eq "SCRAM: channel binding (tls-server-end-point) that matches" "auth: Success" \
	"$("${NS[@]}" /usr/bin/python3 "$HERE/../tools/scram_client.py" --cbind-flag p --cbind-data "$CB" "$ALICE" -- \
		"$BUILD/tests/pam_run" --interactive truenas-api-key alice \
		"putenv=SCRAM_CHANNEL_BINDING=$CB" auth 2>&1 | grep '^auth:')"
check_eq "SCRAM: channel binding that does not match" "auth: Authentication failure" \
	"$("${NS[@]}" /usr/bin/python3 "$HERE/../tools/scram_client.py" --cbind-flag p --cbind-data "$(printf other | base64)" "$ALICE" -- \
		"$BUILD/tests/pam_run" --interactive truenas-api-key alice \
		"putenv=SCRAM_CHANNEL_BINDING=$CB" auth 2>&1 | grep '^auth:')"

# --- the raw key --------------------------------------------------------------------------------
check_eq "raw key: the right one (shipped stack: allow_password_auth)" "auth: Success" \
	"$(raw truenas-api-key alice "$ALICE")"
check_eq "raw key: PAM_USER user:<id> with the secret alone" "auth: Success" \
	"$(raw truenas-api-key "alice:1" "$SECRET_PART")"
# the secret with its last character changed (to x, or to y when it is an x: 1 key in 62 ends so,
# and then "wrong" was the right one)
WRONG_LAST=x
[ "${SECRET_PART: -1}" != x ] || WRONG_LAST=y
check_eq "raw key: a wrong secret" "auth: Authentication failure" "$(raw raw alice "1-${SECRET_PART%?}$WRONG_LAST")"
check_eq "raw key: user:<id> of another key" "auth: Authentication failure" "$(raw raw "alice:3" "$SECRET_PART")"
check_eq "raw key: user:<id> through auth, account and session of the shipped stack (PAM_USER is the account)" \
	"auth: Success
account: Success
open: Success
close: Success" "$(printf '%s\n' "$SECRET_PART" | "${NS[@]}" "$BUILD/tests/pam_run" truenas-api-key "alice:1" auth account open close 2>&1)"
check_eq "raw key: 8 threads of one process, 25 logins each (one key store open, guarded)" \
	"200 Success" "$("${NS[@]}" "$BUILD/tests/pam_threads" raw alice "$ALICE" 8 25 2>&1)"
check_eq "SCRAM: 8 threads, 500 key lookups each (a wrong client-final): never 'unavailable'" \
	"4000 Authentication failure" "$("${NS[@]}" "$BUILD/tests/pam_threads" scram-only alice "n,,n=1,r=abc" 8 500 2>&1)"
check_eq "raw key: after a fork, with the parent's handle still open, the child's 8 threads log in (25 each)" \
	"before the fork: Success
200 Success" "$("${NS[@]}" "$BUILD/tests/pam_threads" --after-fork raw alice "$ALICE" 8 25 2>&1)"
check_eq "raw key: expired" "auth: User credentials expired" "$(raw raw alice "$EXPIRED")"
check_eq "raw key: revoked" "auth: User credentials expired" "$(raw raw alice "$REVOKED")"
check_eq "raw key: the local user's" "auth: Success" "$(raw raw localuser "$LOCAL")"
check_eq "raw key: empty" "auth: Authentication failure" "$(raw raw alice "")"
check_eq "raw key refused without allow_password_auth" "auth: Authentication failure" \
	"$(raw scram-only alice "$ALICE")"
check_eq "SCRAM still works without allow_password_auth" "auth: Success" \
	"$(scram scram-only alice "$ALICE" | grep '^auth:')"
check_fails "no key reaches the logs" grep -rq "$SECRET_PART" "$WORK/dird.log"

# --- STIG: API key failures count toward pam_faillock -------------------------------------------
pam_modules "$WORK/modules" # pam render wants every module it names installed
"${NS[@]}" --bind "$WORK/modules" "$PAM_MODULE_DIR" "${CTL[@]}" pam render --stig --dir "$WORK/stig.d" >/dev/null
sed -i "s|pam_dir\.so|$MOD|" "$WORK/stig.d"/*
echo "dir = $WORK/faillock" >"$WORK/faillock.conf"
STIG=(in_ns "$WORK/nss" --bind "$WORK/stig.d" /etc/pam.d --bind "$WORK/faillock.conf" /etc/security/faillock.conf
	--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)
stig() { printf '%s\n' "$2" | "${STIG[@]}" "$BUILD/tests/pam_run" truenas-api-key "$1" auth 2>&1; }
check_eq "STIG: the right key" "auth: Success" "$(stig alice "$ALICE")"
for _ in 1 2 3; do stig alice "1-wrong" >/dev/null; done
check_eq "STIG: three wrong keys are counted by pam_faillock" "3" \
	"$(faillock --dir "$WORK/faillock" --user alice | grep -c ' V$')"
check_eq "STIG: then even the right key is refused (locked)" "auth: Authentication failure" \
	"$(stig alice "$ALICE" | grep '^auth:')"
check_eq "STIG: other users are not locked" "auth: Success" "$(stig localuser "$LOCAL")"

# --- an unknown id or user tells nothing: same prompts, same salt each time, same work --------
# server_first USER ID: the salt and iterations the server answers a SCRAM client-first with
server_first() {
	printf 'n,,n=%s,r=clientnonce\nc=biws,r=x,p=eA==\n' "$2" |
		"${NS[@]}" "$BUILD/tests/pam_run" --interactive scram-only "$1" auth 2>&1 | sed -n 's/^prompt: r=[^,]*,//p'
}
SLOW=$(apikey_add localuser --iterations 500000) # the newest key: unknown ids answer as it would
check_eq "SCRAM: an unknown id gets the same salt each time (a decoy, not a random one)" \
	"$(server_first alice 77)" "$(server_first alice 77)"
check "...another unknown id another salt" test "$(server_first alice 77)" != "$(server_first alice 78)"
check_eq "...and the newest key's iterations" "i=500000" "$(server_first alice 77 | sed 's/.*,//')"
check_eq "SCRAM: an unknown user is answered for a key id as anyone is" \
	"$(server_first localuser "${SLOW%%-*}")" "$(server_first nosuchuser "${SLOW%%-*}")"
check_eq "raw key: an unknown user gets the same prompt as a known one" \
	"$(echo x | "${NS[@]}" "$BUILD/tests/pam_run" --interactive raw localuser auth 2>&1 | head -1)" \
	"$(echo x | "${NS[@]}" "$BUILD/tests/pam_run" --interactive raw nosuchuser auth 2>&1 | head -1)"
WRONG="${SLOW%%-*}-$(printf 'y%.0s' $(seq 64))"
# time3 USER: three raw-key logins with WRONG; their answers, then the milliseconds they took
time3() {
	local start=$(now_ms) out=
	for _ in 1 2 3; do out=$(raw raw "$1" "$WRONG"); done
	echo "$out $(( $(now_ms) - start ))"
}
wrong=$(time3 localuser)
unknown=$(time3 nosuchuser)
check_eq "raw key: an unknown user gets the answer a wrong key gets" "${wrong% *}" "${unknown% *}"
check "...after the same work: the key derivation (wrong key ${wrong##* } ms, unknown user ${unknown##* } ms)" \
	test "$(( ${unknown##* } * 2 ))" -ge "${wrong##* }"
finish
