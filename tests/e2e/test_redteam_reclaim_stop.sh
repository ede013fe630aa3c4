#!/bin/bash
# Red team: dird stopped within a second of a change that queued a read.  Domains a and b
# stream; a's alice (20001, the lower uid) holds the name over b's alice (30001).  a's alice is
# deleted: a's stream queues the name and the uid for the worker to read from b (reclaim.c).
# dird is stopped (SIGTERM) while the worker reads it (held at DIRD_TEST_STOP_AT=lookup-asked),
# before local_watch's once-a-second tick wrote reclaim.list.  The streams resume past the
# delete and b's sends nothing of an alice that did not change: the next dird must read it
# again, from the file, or b's alice is never served.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
two_user_ldif alice 20001 a | ldap ldapadd
dird_start || exit 1
within 30 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is alice 20001 && ok "a's alice (the lower uid) wins" ||
	not_ok "a's alice (the lower uid) wins" "$(uid_of alice)"
sleep 2 # what the clash queued read, and reclaim.list written
dird_stop
# the worker stops the whole dird (SIGSTOP) once it has asked a domain, and sleeps 10 s after
dird_start env DIRD_TEST_STOP_AT=lookup-asked DIRD_TEST_PAUSE_AT=lookup-asked \
	DIRD_TEST_PAUSE_SECONDS=10 || exit 1
within 30 all_in_sync || not_ok "restarted: both streams are in sync" "$(grep -i "read again\|asked\|hook" "$WORK/dird.log" | tail -5)"
stopped() { [ "$(ps -o stat= -p "$DIRD_PID" | cut -c1)" = T ]; }
check "restarted: no read pending (dird not held yet)" eval '! stopped'
ldap ldapdelete "uid=alice,ou=people,ou=a,$B"
within 20 stopped && ok "a's alice deleted: the worker reads alice from b" ||
	not_ok "a's alice deleted: the worker reads alice from b" "$(tail -5 "$WORK/dird.log")"
kill -TERM "$DIRD_PID"
kill -CONT "$DIRD_PID"
dird_stop
dird_start || exit 1
within 30 all_in_sync || not_ok "restarted: both streams are in sync again" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is alice 30001 && ok "b's alice is served after the restart" ||
	not_ok "b's alice is served after the restart" "[$(uid_of alice)] $(grep -i "alice\|read again" "$WORK/dird.log" | tail -5)"
finish
