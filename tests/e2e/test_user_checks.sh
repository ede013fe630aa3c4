#!/bin/bash
# dirctl user-checks NAME: for each rule that hides a directory user (outside user_base, filtered,
# below min_id, a local name, a duplicate, outside sync_groups) the step that fails and its
# cause; a served user's account state and access rules; what a real PAM service's account
# phase answers (pam_dir asking dird), with no password.  And dirctl user of an entry below
# min_id does not say the directory has no such user.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 20 0 0 || exit 1
{ ldif_user twin 20001 twin; ldif_user stray 20050 stray system; } | slapd_add
cat >>"$DIR_CONF" <<CONF
user_filter = (&(objectClass=posixAccount)(!(uid=carol)))
sync_groups = team
access_groups = devs
CONF
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/dird.log" && break; sleep 0.1; done
"$BUILD/dirctl/dirctl" cache refresh >/dev/null
pam_stacks "$WORK/pam.d"

# uc NAME [args]: dirctl user-checks with the bare pam_dir stack as its service; $out, $RC
uc() {
	out=$(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d "$BUILD/dirctl/dirctl" user-checks "$@" --service bare 2>&1)
	RC=$?
}
# hidden NAME STEP CAUSE: the user's entry is found, STEP fails with CAUSE, exit 1
hidden() {
	uc "$1"
	check_eq "$1: exit 1" "1" "$RC"
	check "$1: its entry is found, with its DN" grep -Eq "^  entry +ok .*uid=$1,ou=" <<<"$out"
	check "$1: fails at $2" grep -q "result: FAILED at $2" <<<"$out"
	check "$1: says '$3'" grep -q "cause: .*$3" <<<"$out"
}

uc alice
check_eq "alice, served and allowed: exit 0" "0" "$RC"
for s in connect entry user_base user_filter ids local duplicate sync_groups account access; do
	check "alice: step '$s' ok" grep -Eq "^  $s +ok " <<<"$out"
done
check "alice: the DN" grep -q "entry .*uid=alice,ou=people,dc=example,dc=test" <<<"$out"
check "alice: a member of sync_groups" grep -q "a member of one of team" <<<"$out"
check "alice: allowed by access_groups" grep -q "allowed by access_groups devs" <<<"$out"
check "alice: the PAM service's account phase says Success" grep -q "alice's account phase: Success" <<<"$out"

hidden lowid ids "ids below min_id"
check "lowid: names its uid and min_id" grep -q "uid 500 is below min_id 1000" <<<"$out"
hidden root local "a local name: files answers for it"
hidden carol user_filter "filtered: the entry is not a user here"
hidden stray user_base "outside user_base"
hidden twin duplicate "a duplicate: two entries share the uid"
check "twin: names the one served" grep -q "uid 20001 is also alice's, which is served" <<<"$out"
hidden outsider sync_groups "outside sync_groups"
check "outsider: and the PAM service does not know it" grep -q "outsider's account phase: User not known" <<<"$out"

uc bob
check_eq "bob, served, not in access_groups: exit 1" "1" "$RC"
check "bob: fails at access" grep -q "result: FAILED at access" <<<"$out"
check "bob: says refused by access_groups" grep -q "refused by access_groups devs" <<<"$out"
check "bob: the PAM service refuses, with its message" \
	grep -q "bob's account phase: Permission denied: You are not allowed to log in to this host." <<<"$out"

sed -i '/^access_groups/d' "$DIR_CONF"
uc locked
check "locked: fails at account" grep -q "result: FAILED at account" <<<"$out"
check "locked: says locked" grep -Eq "^  account +FAIL .*locked" <<<"$out"

uc nosuchuser
check_eq "a name the directory lacks: exit 1" "1" "$RC"
check "a name the directory lacks: fails at entry" grep -q "no entry under dc=example,dc=test has uid=nosuchuser" <<<"$out"

out=$(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d "$BUILD/dirctl/dirctl" --json user-checks lowid --service bare 2>&1)
check "--json: the failed step and its cause" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["checks"][0]
assert d["user"] == "lowid" and d["result"] == "FAILED" and t["failed_at"] == "ids", d
assert "min_id" in t["steps"][-1]["cause"], t' "$out"

out=$("$BUILD/dirctl/dirctl" user lowid 2>&1)
check_eq "dirctl user lowid: not served, exit 5" "5" "$?"
check_fails "dirctl user lowid: does not say the directory lacks it" grep -q "no user 'lowid' in the directory" <<<"$out"
check "dirctl user lowid: points at user-checks" grep -q "a rule hides it.*dirctl user-checks lowid" <<<"$out"
finish
