#!/bin/bash
# Red team: the winner of a clash goes while the loser's domain is offline.  Domains a and b
# stream; b is reached through a proxy.  a's alice (20001, the lower uid) holds the name over
# b's alice (30001).  The proxy goes (b offline), a's alice is deleted: the worker cannot ask b
# for what it holds of alice.  Once b is back and its stream in sync, b's alice must be served:
# b's stream sends nothing of an entry that did not change, and with every domain in sync
# libnss_dir answers a miss itself (b's alice stayed absent for good).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B=$SLAPD_BASE
B_PORT=$(free_port)
# logged_since LINE TEXT: how many lines of dird.log past its first LINE match TEXT (grep)
logged_since() { tail -n +$(($1 + 1)) "$WORK/dird.log" | grep -c "$2"; }
log_lines() { wc -l <"$WORK/dird.log"; }
# left_behind LINE NAME: the worker, since LINE, found b offline when it read NAME and its id
# (it logs the read left behind); left_behind_now: without waiting
left_behind_now() {
	[ "$(logged_since "$1" "$2: a domain could not be asked")" -gt 0 ] &&
		[ "$(logged_since "$1" "an id: a domain could not be asked")" -gt 0 ]
}
left_behind() { within 20 left_behind_now "$1" "$2"; }
b_proxy_start || exit 1
b_through_proxy
two_user_ldif alice 20001 a | ldap ldapadd
dird_start || exit 1
within 30 all_in_sync || not_ok "both streams are in sync" "$(tail -5 "$WORK/dird.log")"
within 10 uid_is alice 20001 && ok "a's alice (the lower uid) wins" ||
	not_ok "a's alice (the lower uid) wins" "$(uid_of alice)"
offline() { domains_in_sync 'd[1]["state"] == "offline"'; }
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
within 30 offline && ok "the proxy gone, b is offline" || not_ok "the proxy gone, b is offline" "$("${CTL[@]}" status)"
at=$(log_lines)
ldap ldapdelete "uid=alice,ou=people,ou=a,$B"
within 10 absent 20001 && ok "a's alice deleted" || not_ok "a's alice deleted" "$(uid_of alice)"
left_behind "$at" alice && ok "the worker found b offline for alice and her uid" ||
	not_ok "the worker found b offline for alice and her uid" "$(tail -5 "$WORK/dird.log")"
b_proxy_start || exit 1
within 60 all_in_sync && ok "b back: both streams in sync" || not_ok "b back: both streams in sync" "$("${CTL[@]}" status)"
within 10 uid_is alice 30001 && ok "b's alice is served once b is back" ||
	not_ok "b's alice is served once b is back" "[$(uid_of alice)] $(grep -i "alice\|could not be asked\|refresh" "$WORK/dird.log" | tail -5)"

# The same with a SIGHUP while b is offline: the reload makes new domain states, and a refresh
# reads what b was not asked for (a's ann, 20050, held the name over b's, 30050).
at=$(log_lines)
two_user_ldif ann 30050 b | ldap ldapadd
within 30 all_in_sync || not_ok "both streams are in sync again" "$("${CTL[@]}" status)"
within 20 eval '[ "$(logged_since "$at" "users ann (uid 30050) and ann (uid 20050) share")" -gt 0 ]' ||
	not_ok "b's stream sent its ann, which loses the name" "$(tail -5 "$WORK/dird.log")"
check_eq "a's ann holds the name" 20050 "$(uid_of ann)"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
within 30 offline || not_ok "the proxy gone again, b is offline" "$("${CTL[@]}" status)"
at=$(log_lines)
ldap ldapdelete "uid=ann,ou=people,ou=a,$B"
within 10 absent 20050 || not_ok "a's ann deleted" "$(uid_of ann)"
left_behind "$at" ann || not_ok "the worker found b offline for ann and her uid" "$(tail -5 "$WORK/dird.log")"
at=$(log_lines)
kill -HUP "$DIRD_PID"
within 20 grep -q "configuration reloaded" "$WORK/dird.log" || not_ok "the reload comes"
within 20 eval '[ "$(logged_since "$at" "refresh of b failed")" -gt 0 ]' &&
	ok "the refresh the reload asks for finds b offline" ||
	not_ok "the refresh the reload asks for finds b offline" "$(tail -5 "$WORK/dird.log")"
b_proxy_start || exit 1
within 60 all_in_sync || not_ok "b back after the reload: both streams in sync" "$("${CTL[@]}" status)"
within 30 uid_is ann 30050 && ok "b's ann is served once b is back, after a reload meanwhile" ||
	not_ok "b's ann is served once b is back, after a reload meanwhile" "[$(uid_of ann)]"
finish
