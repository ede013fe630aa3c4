#!/bin/bash
# Red team: a domain taken out of dird.conf by a reload (SIGHUP) while every domain streams.
# Its users must go: the domains left stream on (refresh_due_locked runs no full refresh when
# every domain streams), and each stream's read drops only its own domain's entries.  The same
# when it is taken out while dird is stopped (every stream left resumes at start).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1

dird_start || exit 1
within 30 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is bea 30003 && ok "b's bea is served" || not_ok "b's bea is served" "$(uid_of bea)"
cp "$DIR_CONF" "$WORK/dird.conf.both"
python3 - "$DIR_CONF" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s[:s.index("[domain/b]")])
PY
cp "$DIR_CONF" "$WORK/dird.conf.a"
# b's first read, installed whole, may send a's stream back to the position the copy it was
# applied to held (changes.c: install_locked): past that, a's positions are what a reload keeps.
sleep 3
within 30 all_in_sync || not_ok "both streams are in sync before the reload"
LOG_AT=$(wc -l <"$WORK/dird.log")
kill -HUP "$DIRD_PID"
one_domain() { domains_in_sync 'len(d) == 1 and d[0]["in_sync"]'; }
within 30 one_domain && ok "the reload leaves domain a alone, in sync" ||
	not_ok "the reload leaves domain a alone, in sync" "$("${CTL[@]}" status)"
gone() { absent bea; }
within 20 gone && ok "b's bea is no longer served once b is out of dird.conf" ||
	not_ok "b's bea is no longer served once b is out of dird.conf" "$(in_ns "$NSS" getent passwd bea)"
tail -n +"$((LOG_AT + 1))" "$WORK/dird.log" | grep -q "a: change stream: .*reading everything" &&
	not_ok "a's streams resume after the reload, without reading everything" \
		"$(tail -n +"$((LOG_AT + 1))" "$WORK/dird.log" | grep "change stream")" ||
	ok "a's streams resume after the reload, without reading everything"
dird_stop
dird_start || exit 1
within 30 one_domain || not_ok "in sync after a restart" "$(tail -5 "$WORK/dird.log")"
within 10 gone && ok "nor after a restart" || not_ok "nor after a restart" "$(in_ns "$NSS" getent passwd bea)"

# b back (a reload), then out of dird.conf while dird is stopped: every stream left resumes at
# start, and nothing else would drop b's users.
cp "$WORK/dird.conf.both" "$DIR_CONF"
kill -HUP "$DIRD_PID"
within 30 all_in_sync && within 10 uid_is bea 30003 && ok "b back: bea is served again" ||
	not_ok "b back: bea is served again" "$(uid_of bea)"
dird_stop
cp "$WORK/dird.conf.a" "$DIR_CONF"
dird_start || exit 1
within 30 one_domain || not_ok "in sync after a restart" "$(tail -5 "$WORK/dird.log")"
within 10 gone && ok "b taken out while dird was stopped: bea is not served after the start" ||
	not_ok "b taken out while dird was stopped: bea is not served after the start" "$(in_ns "$NSS" getent passwd bea)"
finish
