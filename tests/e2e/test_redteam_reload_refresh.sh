#!/bin/bash
# Red team: a full refresh stopped by a reload, while every domain streams.  A local group g
# (gid 4501) is the primary group of 70 directory users, refused while it is local.  Once it is
# removed, more than dird reads one by one (64) are due: a full refresh reads them.  The domain
# is reached through a proxy answering 300 ms late, so the refresh is still running when a SIGHUP
# comes: it stops before its next page and "runs again on the new configuration".  It must: the
# reload's own refresh_due_locked runs none when every domain streams, the stream sends nothing
# of users that did not change, and libnss_dir answers a miss itself while in sync (the 70
# users stayed absent for good).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 20 || exit 1
PORT=$(free_port)
/usr/bin/python3 "$HERE/../lib/tcp_proxy.py" "$PORT" "${SLAPD_URI##*:}" --delay 300 &
E2E_PIDS+=("$!")
within 5 ldapsearch -x -LLL -H "ldap://127.0.0.1:$PORT" -b "$SLAPD_BASE" -s base dn >/dev/null || exit 1
sed -i "s|^uri = .*|uri = ldap://127.0.0.1:$PORT|; s|^page_size = .*|page_size = 10|" "$DIR_CONF"
for i in $(seq 70); do
	printf 'dn: uid=gu%s,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: gu%s\ncn: gu%s\nuidNumber: %s\ngidNumber: 4501\nhomeDirectory: /home/gu%s\n\n' \
		"$i" "$P" "$i" "$i" "$((21000 + i))" "$i"
done | ldap ldapadd || exit 1
private_accounts || exit 1
printf 'g:x:4501:\n' >>"$WORK/group"
logged() { grep -c "$1" "$WORK/dird.log"; }

dird_private || exit 1
within 60 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
check_eq "gu70, of a local primary gid, is not served" "" "$(uid_of gu70)"
asked=$(logged "cannot be read one by one")
cat "$WORK/group.orig" >"$WORK/group" # in place: the bind mount keeps the inode
within 30 eval '[ "$(logged "cannot be read one by one")" -gt "$asked" ]' &&
	ok "the local group removed: more users of its gid than are read one by one, a full refresh" ||
	not_ok "the local group removed: more users of its gid than are read one by one, a full refresh" "$(tail -5 "$WORK/dird.log")"
kill -HUP "$DIRD_PID"
within 30 eval '[ "$(logged "refresh stopped for a configuration reload")" -gt 0 ]' &&
	ok "the SIGHUP stops the refresh" || not_ok "the SIGHUP stops the refresh" "$(tail -5 "$WORK/dird.log")"
sleep 2 # the reload applied; no lookup before the stream is in sync again (a miss would read gu70)
within 60 in_sync || not_ok "the stream is in sync after the reload" "$(tail -5 "$WORK/dird.log")"
within 60 eval '[ "$(uid_of gu70)" = 21070 ]' && ok "the stopped refresh runs again after the reload: gu70 is served" ||
	not_ok "the stopped refresh runs again after the reload: gu70 is served" "[$(uid_of gu70)] $(tail -5 "$WORK/dird.log")"
check_eq "gu1 too" 21001 "$(uid_of gu1)"
finish
