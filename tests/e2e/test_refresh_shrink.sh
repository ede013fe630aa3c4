#!/bin/bash
# A refresh that finds far fewer entries than the cache holds (a changed filter: 1 user of 80)
# is kept out: the cache goes on serving, dird's log and dirctl status say why, and
# dirctl cache refresh --accept-shrink takes it.  A refresh that keeps most entries applies.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 60 0 0 || exit 1
users() { "${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"])'; }
before=$(users)
check "the cache holds the directory's users" test "$before" -gt 60

echo "user_filter = (&(objectClass=posixAccount)(uid=alice))" >>"$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 100); do grep -q "refresh kept out" "$WORK/dird.log" && break; sleep 0.1; done
check "a refresh that would keep 1 user of $before is kept out, and logged" \
	grep -q "refresh kept out: it found 1 users and .* groups where the cache holds $before and" "$WORK/dird.log"
check_eq "the cache still holds them all" "$before" "$(users)"
check_eq "their lookups still answer" "u00001" "$(in_ns "$WORK/nss" getent passwd u00001 | cut -d: -f1)"
out=$("${CTL[@]}" status 2>&1)
check "dirctl status says so, and what takes it" \
	grep -q "^warning: a refresh was kept out at .*: it found 1 users and .* groups where the cache holds $before .*dirctl cache refresh --accept-shrink takes it" <<<"$out"
check "dirctl status --json has it" python3 -c '
import json, sys
assert json.loads(sys.argv[1])["refresh_kept_out"]["users"] == 1' "$("${CTL[@]}" --json status)"
out=$("${CTL[@]}" cache refresh 2>&1)
check_eq "dirctl cache refresh: kept out again, exit 1" "1" "$?"
check "and it says where to look" grep -q "kept out for dropping most of the cache; 'dirctl status' shows which" <<<"$out"

out=$("${CTL[@]}" cache refresh --accept-shrink 2>&1)
check_eq "dirctl cache refresh --accept-shrink: exit 0" "0" "$?"
check "it says what it took" grep -q "^refreshed: 1 users" <<<"$out"
check_eq "the cache holds the one user" "1" "$(users)"
check_fails "the others are gone" in_ns "$WORK/nss" getent passwd u00001
check_fails "dirctl status no longer warns" grep -q "kept out" <<<"$("${CTL[@]}" status 2>&1)"

# Most entries kept (the filter gone, then 10 of 60 generated users filtered out): applied.
sed -i '/^user_filter/d' "$DIR_CONF"
kill -HUP "$DIRD_PID"
"${CTL[@]}" cache refresh --accept-shrink >/dev/null
all=$(users)
echo "user_filter = (&(objectClass=posixAccount)(!(uid=u0000*)))" >>"$DIR_CONF"
kill -HUP "$DIRD_PID"
sleep 0.5
out=$("${CTL[@]}" cache refresh 2>&1)
check_eq "a refresh that drops 9 of $all users applies" "0" "$?"
check_eq "they are gone" "$((all - 9))" "$(users)"
finish
