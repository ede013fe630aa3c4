#!/bin/bash
# Red team: `dirctl cache expire` while a stream's complete batch is being written.  Domain a
# streams; domain b has no stream (sync_groups with members by DN: refreshed whole).  With
# entry_ttl = 0 an expire takes the user out of the cache, so that the next lookup asks the
# directory.  a's stream reads everything again (an expire of a's ann), and while its batch,
# applied to a copy of the cache taken before, is written (paused there by DIRD_TEST_PAUSE_AT),
# b's bea, deleted from the directory, is expired: once the batch is installed bea must not be
# served from that copy (it was, until the next refresh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
printf 'entry_ttl = 0\n' >"$WORK/ttl"
sed -i "/^log_level/r $WORK/ttl" "$DIR_CONF"
printf 'schema = rfc2307bis\nsync_groups = bteam\n' >>"$DIR_CONF" # [domain/b]: no stream
printf 'dn: cn=bteam,ou=groups,ou=b,%s\nobjectClass: posixGroup\ncn: bteam\ngidNumber: 30100\nmemberUid: alice\nmemberUid: dave\nmemberUid: bea\n\n' "$B" | ldap ldapadd
pauses() { grep -c "test hook: pausing" "$WORK/dird.log"; }
served() { in_ns "$NSS" getent passwd "$1" >/dev/null; }

dird_start env DIRD_TEST_PAUSE_AT=store-written DIRD_TEST_PAUSE_SECONDS=3 || exit 1
within 60 domains_in_sync 'd[0]["in_sync"]' && within 60 served bea && within 30 served ann ||
	not_ok "a's stream is in sync, b's bea and a's ann are served" "$(tail -5 "$WORK/dird.log")"
"${CTL[@]}" --json status | grep -q '"not streamed' || grep -q "not streamed" "$WORK/dird.log" ||
	not_ok "b has no stream" "$("${CTL[@]}" status | grep -i changes)"
sleep 4 # the start's whole writes over
ldap ldapdelete "uid=bea,ou=people,ou=b,$B"
check "dirctl cache expire ann" "${CTL[@]}" cache expire ann
before=$(pauses)
within 20 eval '[ "$(pauses)" -gt "$before" ]' && ok "a's stream reads everything again: its batch pauses where it is written" ||
	not_ok "a's stream reads everything again: its batch pauses where it is written" "$(tail -5 "$WORK/dird.log")"
check "dirctl cache expire bea, while the batch is written" "${CTL[@]}" cache expire bea
within 30 in_sync && within 10 served ann && ok "the batch is in: a's stream in sync, ann served" ||
	not_ok "the batch is in: a's stream in sync, ann served" "$(tail -5 "$WORK/dird.log")"
sleep 1
check "bea, expired while the batch was written and deleted from b, is not served" eval '! served bea'
check "b's alice is still served" served alice
finish
