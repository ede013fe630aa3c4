#!/bin/bash
# Red team: a local account that goes while the directory's user of that name is in more groups
# than the worker's queue holds (4096).  A local bob shadows the directory's bob, who is a
# member (memberUid) of 4200 directory groups: they are served without him meanwhile.  Once the
# local bob is removed, the directory's bob is read again and each group naming him must list
# him again: past the queue's bound, a full refresh reads them (the groups that did not fit
# went unread: their member lists lacked bob for good, every domain being in sync).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
N=4200
streamed_generated 20 || exit 1
for i in $(seq "$N"); do
	printf 'dn: cn=bg%s,%s\nobjectClass: posixGroup\ncn: bg%s\ngidNumber: %s\nmemberUid: bob\n\n' \
		"$i" "$G" "$i" "$((40000 + i))"
done | ldap ldapadd || exit 1
private_accounts || exit 1
printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
listing_bob() { in_ns "$NSS" "${ACCOUNTS[@]}" getent -s dir group | grep -c '^bg[0-9]*:.*:bob$'; }

dird_private || exit 1
within 120 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
check_eq "bob is files'" 4501 "$(uid_of bob)"
check_eq "no directory group lists bob while he is local" 0 "$(listing_bob)"
cat "$WORK/passwd.orig" >"$WORK/passwd" # in place: the bind mount keeps the inode
within 30 eval '[ "$(uid_of bob)" = 20002 ]' && ok "the local bob removed: the directory's bob is served" ||
	not_ok "the local bob removed: the directory's bob is served" "[$(uid_of bob)]"
within 120 eval '[ "$(listing_bob)" = "$N" ]' && ok "all $N groups list bob again" ||
	not_ok "all $N groups list bob again" "$(listing_bob) do; $(grep -c "read again and served" "$WORK/dird.log") read again"
finish
