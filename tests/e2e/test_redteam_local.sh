#!/bin/bash
# Red team: a local account that comes and goes while every domain streams.  A local bob shadows
# the directory's bob (local_watch takes it out of the cache, and out of team's members); a
# local group bob (gid 4501) makes the directory's carl, whose primary gid it is, refused.  Once
# the local bob and his group are removed again, the directory's bob must come back, in team,
# and carl with him: the stream sends nothing for an entry that did not change, and libnss_dir
# answers the miss itself (authoritative while in sync).  dird reads the names and ids that went
# from the domains, one by one: no full refresh runs (one read 1M users for one userdel).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
private_accounts || exit 1
dir_has() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd "$1"; }
no_dir() { ! dir_has "$1"; }
team() { in_ns "$NSS" "${ACCOUNTS[@]}" getent group team | cut -d: -f4; }
team_has_bob() { team | tr ',' '\n' | grep -qx bob; }
refreshes() { grep -c "refresh done" "$WORK/dird.log"; }

dird_private || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is bob 20002 && ok "bob is the directory's" || not_ok "bob is the directory's" "$(uid_of bob)"
check "team lists bob" team_has_bob

printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
printf 'bob:x:4501:\n' >>"$WORK/group"
within 10 no_dir bob && ok "a local bob takes the directory's out of the cache" ||
	not_ok "a local bob takes the directory's out of the cache"
check_eq "bob is files'" 4501 "$(uid_of bob)"
within 5 eval '! team_has_bob' && ok "team no longer lists bob" || not_ok "team no longer lists bob" "$(team)"
printf 'dn: uid=carl,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: carl\ncn: carl\nuidNumber: 20777\ngidNumber: 4501\nhomeDirectory: /home/carl\n\n' "$P" | ldap ldapadd
sleep 2 # the stream sends carl, refused: his primary gid is a local group's
check "carl, of a local primary gid, is not served" absent carl

before=$(refreshes)
local_restore
within 20 uid_is bob 20002 && ok "the local bob removed, the directory's bob is served again within 20 s" ||
	not_ok "the local bob removed, the directory's bob is served again within 20 s" \
		"got [$(uid_of bob)]; dirctl lookup: $("${CTL[@]}" --json status >/dev/null; in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir passwd bob)"
within 5 team_has_bob && ok "team lists the directory's bob again" || not_ok "team lists the directory's bob again" "$(team)"
within 5 uid_is carl 20777 && ok "the local group bob removed, carl is served" ||
	not_ok "the local group bob removed, carl is served" "[$(uid_of carl)]"
sleep 1
check_eq "no full refresh ran for it" "$before" "$(refreshes)"

# The local bob removed while a refresh writes its cache (paused there 3 s): the refresh read
# the files as they were, with bob local, and its db replaces the one served; the directory's
# bob is read again once it is in, not before (it would be lost with the db it replaces).
dird_stop
dird_private env DIRD_TEST_PAUSE_AT=store-written DIRD_TEST_PAUSE_SECONDS=3 || exit 1
within 30 in_sync && within 10 uid_is bob 20002 || not_ok "restarted: in sync, bob served" "$(uid_of bob)"
printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
within 20 no_dir bob || not_ok "a local bob again takes the directory's out" "$(dir_has bob)"
pauses() { grep -c "test hook: pausing" "$WORK/dird.log"; }
paused=$(pauses)
timeout 120 "${CTL[@]}" cache refresh >/dev/null 2>&1 &
refresh=$!
within 20 eval '[ "$(pauses)" -gt "$paused" ]' || not_ok "the refresh pauses where it writes the cache"
cat "$WORK/passwd.orig" >"$WORK/passwd"
wait "$refresh"
within 20 uid_is bob 20002 && ok "the local bob removed during a refresh: the directory's bob is served once it is in" ||
	not_ok "the local bob removed during a refresh: the directory's bob is served once it is in" "[$(uid_of bob)]"
finish
