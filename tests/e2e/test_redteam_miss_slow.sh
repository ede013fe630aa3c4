#!/bin/bash
# Red team: a miss with a slow second domain.  Domain b is reached through a proxy that delays
# each answer 2.5 s (over nss_timeout = 2, under its timeout = 10: b stays online); a answers at
# once.  enumerate = no.  A miss asks every domain to settle a clash as a refresh does: ann,
# a's alone, waited for b's "not found" and the caller gave up each time (every miss of a's
# users unanswered for as long as b is slow).  The first miss after b slowed may wait that long
# (README: the worst case a caller sees); the next ones must not.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
two_domains || exit 1
B_PORT=$(free_port)
b_proxy_start --delay 2500 || exit 1
b_through_proxy
sed -i 's/^log_level = debug$/log_level = debug\nenumerate = no/' "$DIR_CONF"
two_user_ldif ann2 20051 a | ldap ldapadd
two_user_ldif ann3 20052 a | ldap ldapadd
dird_start || exit 1
uid_of ann >/dev/null # the first miss measures b (it may give up)
sleep 4             # b's answer in
check_eq "b slow: a miss for ann2 (a's) is answered" 20051 "$(uid_of ann2)"
check_eq "b slow: a miss for ann3 (a's) is answered" 20052 "$(uid_of ann3)"
check_eq "b slow: b's bea is still asked of b" "" "$(uid_of bea)" # 2.5 s: the caller gives up
sleep 4
check_eq "b slow: b's bea, read meanwhile, is served" 30003 "$(uid_of bea)"
finish
