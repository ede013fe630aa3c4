#!/bin/bash
# Red team: cache_dir fills up while the stream applies changes (a tmpfs of its own, filled by
# a file beside the cache).  dird must live on, keep serving the cache as it was, say why in
# dirctl status, and once there is room again apply what it missed: no change lost.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
streamed_generated 200 || exit 1
mount -t tmpfs -o size=4m,mode=0755 tmpfs "$WORK/cache" || { echo "1..0 # skip: cannot mount a tmpfs"; exit 0; }
cleanup_first() { dird_stop; umount "$WORK/cache" 2>/dev/null; }
state() { "${CTL[@]}" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["changes_state"])'; }
count() { in_ns "$NSS" getent passwd | grep -c '^u0'; }

dird_start || exit 1
within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
check_eq "200 users served" 200 "$(count)"
dd if=/dev/zero of="$WORK/cache/filler" bs=64k 2>/dev/null # until the tmpfs is full
for i in $(seq 1 200); do
	printf 'dn: uid=u%05d,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/zsh\n\n' "$i" "$P"
done | ldap ldapmodify
sleep 5
kill -0 "$DIRD_PID" && ok "dird lives with cache_dir full" || not_ok "dird lives with cache_dir full" "$(tail -5 "$WORK/dird.log")"
n=$(count)
check_eq "the 200 users are still served" 200 "$n"
echo "    state while full: $(state)"
# A failed write of nss.idx is tried again after a wait (1 s, doubling up to a minute), not at
# once: before, the main loop spun, about 2,500 "cannot write nss.idx" lines a second.
n=$(grep -c "cannot write .*nss.idx" "$WORK/dird.log")
[ "$n" -le 10 ] && ok "cache_dir full: nss.idx is tried again after a wait ($n failures logged in 5 s)" ||
	not_ok "cache_dir full: nss.idx is tried again after a wait" "$n failures logged in 5 s"
rm -f "$WORK/cache/filler"
all_zsh() { [ "$(in_ns "$NSS" getent passwd | grep '^u0' | grep -c ':/bin/zsh$')" = 200 ]; }
within 150 all_zsh && ok "room again: every change is applied within 150 s" ||
	not_ok "room again: every change is applied within 150 s" \
		"$(in_ns "$NSS" getent passwd | grep '^u0' | grep -c ':/bin/zsh$') of 200; $(state)"
check_eq "and the 200 users are served" 200 "$(count)"
finish
