#!/bin/bash
# dirctl cache flush, refresh and SIGHUP while the change streams (users and groups, against
# slapd with syncprov) read and write: flushes during bursts of writes leave dird up, every user
# served with the burst's last values and its groups, and in sync; a flush empties what readers
# see at once; right after a flush misses are asked of dird (the emptied index is not taken as
# the whole directory); a refresh asked, or a flush made, while a stream writes a complete batch
# is not lost; a SIGHUP then reloads.  Bounds are wide (they prove nothing hangs).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd
SLAPD_SYNCPROV=1 serve_directory 600 10 3 || exit 1
NSS=$WORK/nss
P=ou=people,dc=example,dc=test
state() { "${CTL[@]}" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["changes_state"])'; }
served() { [ "$(in_ns "$NSS" getent passwd | grep -c '^u00')" = "$1" ]; }
alive() { kill -0 "$DIRD_PID" 2>/dev/null; }
gone() { ! in_ns "$NSS" getent passwd "$1"; }
# burst ROUND: gecos "rROUND N" for u00101..u00300, in one connection
burst() {
	for i in $(seq 101 300); do
		printf 'dn: uid=u%05d,%s\nchangetype: modify\nreplace: gecos\ngecos: r%d %d\n\n' "$i" "$P" "$1" "$i"
	done | slapd_modify
}
burst_seen() { [ "$(in_ns "$NSS" getent passwd | grep -c ":r$1 [0-9]*:")" = 200 ]; }
groups_right() {
	in_ns "$NSS" id -Gn u00001 | tr ' ' '\n' | grep -qx biggroup &&
		[ "$(in_ns "$NSS" getent group biggroup)" = "$(grep '^biggroup:' "$WORK/data/group")" ]
}
# the groups' stream starting again: told by the stream, or by a batch refused for it and the
# new connection that follows
restarts() { grep -c "example/groups: the cache was replaced\|change stream: groups: reading everything" "$WORK/dird.log"; }
restarts_above() { [ "$(restarts)" -gt "$1" ]; }
pauses() { grep -c "test hook: pausing" "$WORK/dird.log"; }
pauses_above() { [ "$(pauses)" -gt "$1" ]; }
refreshes_above() { [ "$(grep -c "refresh done" "$WORK/dird.log")" -gt "$1" ]; }

within 60 stream_in_sync || not_ok "the stream is in sync after the first read" "$(state)"

# Writes go to a slapd started again since the last flush: slapd 2.5.13's syncprov now and then
# segfaulted at a write after the persistent searches a flush makes dird abandon.
fresh_slapd() { slapd_stop; slapd_resume || exit 1; }

# Flushes while a burst of writes streams in, and while the streams read everything again
# after the flush before (the users' whole read could come before the groups': dird died of it
# under UBSan).
good=0
for r in 1 2 3 4 5 6; do
	[ "$r" = 1 ] || { fresh_slapd; within 60 stream_in_sync || not_ok "round $r: in sync with slapd started again"; }
	burst "$r"
	for _ in 1 2 3 4; do
		n=$(restarts)
		"${CTL[@]}" cache flush >/dev/null || not_ok "round $r: dirctl cache flush"
		within 10 restarts_above "$n" || not_ok "round $r: the streams start again after the flush"
		sleep "0.$((RANDOM % 4))"
	done
	alive || break
	within 60 served 600 && within 30 burst_seen "$r" && within 30 stream_in_sync && groups_right &&
		good=$((good + 1)) || not_ok "round $r: after the flushes every user is served, with the burst and its groups, in sync" \
			"$(in_ns "$NSS" getent passwd | grep -c '^u00') users, $(in_ns "$NSS" getent passwd | grep -c ":r$r [0-9]*:") of the burst; $(state)"
done
alive && ok "dird stays up across 24 flushes during 6 bursts of 200 writes" ||
	not_ok "dird stays up across 24 flushes during 6 bursts of 200 writes" "$(grep -A3 'runtime error\|ERROR' "$WORK/dird.log" | head -5)"
alive || { finish; exit; }
check_eq "after each round every user is served, with the burst and the groups, in sync" 6 "$good"

# Right after a flush a miss is asked of dird: until the streams have read everything again,
# the emptied index does not say who is not in the directory.
missed=0
"${CTL[@]}" cache flush >/dev/null
for i in $(seq 11 25); do
	in_ns "$NSS" getent passwd "$(printf 'u%05d' "$i")" >/dev/null || missed=$((missed + 1))
done
check_eq "users looked up one after another right after a flush are all found" 0 "$missed"
within 30 stream_in_sync || not_ok "in sync after that flush" "$(state)"

# A flush empties what readers see at once: with slapd down nothing refills it.
slapd_stop
"${CTL[@]}" cache flush >/dev/null
check_eq "after a flush with slapd down getent lists no directory user" 0 \
	"$(in_ns "$NSS" getent passwd | grep -c '^u00')"
check "and does not find alice" gone alice
slapd_resume || exit 1
within 90 served 600 && within 30 stream_in_sync && ok "once slapd is back every user is served again, in sync" ||
	not_ok "once slapd is back every user is served again, in sync" "$(state)"

# A refresh asked while a stream writes a complete batch (paused there 3 s) runs once it ends.
dird_stop
: >"$WORK/dird.log"
dird_start env DIRD_TEST_PAUSE_AT=store-written DIRD_TEST_PAUSE_SECONDS=3 || exit 1
within 30 stream_in_sync || not_ok "in sync after the restart" "$(state)"
"${CTL[@]}" cache flush >/dev/null
within 20 grep -q "test hook: pausing" "$WORK/dird.log" || not_ok "the stream's whole read pauses"
"${CTL[@]}" cache refresh >/dev/null || not_ok "dirctl cache refresh"
within 60 grep -q "refresh done" "$WORK/dird.log" &&
	ok "a refresh asked while a stream's complete batch is written runs once it is" ||
	not_ok "a refresh asked while a stream's complete batch is written runs once it is" \
		"$(grep -c 'test hook' "$WORK/dird.log") pauses; $(state)"
within 90 served 600 && within 60 stream_in_sync && groups_right && ok "and every user is served, in sync" ||
	not_ok "and every user is served, in sync" "$(state)"

# SIGHUP while a stream writes a complete batch: the reload waits for it.
before=$(pauses)
"${CTL[@]}" cache flush >/dev/null
within 20 pauses_above "$before" || not_ok "the stream's whole read pauses again"
kill -HUP "$DIRD_PID"
within 30 grep -q "configuration reloaded" "$WORK/dird.log" || not_ok "SIGHUP reloads"
within 90 served 600 && within 60 stream_in_sync && groups_right &&
	ok "a SIGHUP during a complete batch: every user served, in sync" ||
	not_ok "a SIGHUP during a complete batch: every user served, in sync" "$(state)"

# Beside a domain without a stream, a flush while a stream writes a complete batch replaces the
# cache: the batch, applied to a copy taken before the flush, does not put the flushed entries
# back, and the refresh the flush asks for runs.  zed2, of the other domain, is deleted from the
# directory first: only that refresh (or the directory asked) can tell.
dird_stop
fresh_slapd
{
	printf 'dn: ou=people2,%s\nobjectClass: organizationalUnit\nou: people2\n\n' "$SLAPD_BASE"
	printf 'dn: ou=groups2,%s\nobjectClass: organizationalUnit\nou: groups2\n\n' "$SLAPD_BASE"
	ldif_user zed 40001 zed people2
	ldif_user zed2 40002 zed2 people2
	printf 'dn: cn=zeds,ou=groups2,%s\nobjectClass: posixGroup\ncn: zeds\ngidNumber: 40100\nmemberUid: zed\nmemberUid: zed2\n' "$SLAPD_BASE"
} | slapd_add
# The same section for the new OUs, with members by DN and sync_groups: not streamed.
sed -n '/^\[domain\/example\]$/,$p' "$DIR_CONF" |
	sed 's/^\[domain\/example\]$/[domain\/other]/; s/ou=people,/ou=people2,/; s/ou=groups,/ou=groups2,/' >"$WORK/other.conf"
printf '\n%s\nschema = rfc2307bis\nsync_groups = zeds\n' "$(cat "$WORK/other.conf")" >>"$DIR_CONF"
positions_store "rid=000,csn=29991231000000.000000Z#000000#000#000000" # read whole again
: >"$WORK/dird.log"
dird_start env DIRD_TEST_PAUSE_AT=store-written DIRD_TEST_PAUSE_SECONDS=3 || exit 1
# the start's refresh pauses first, then the groups' whole read
within 60 pauses_above 1 || not_ok "the start's refresh and the stream's whole read pause" "$(pauses)"
printf 'dn: uid=zed2,ou=people2,dc=example,dc=test\nchangetype: delete\n' | slapd_modify
"${CTL[@]}" cache flush >/dev/null
within 60 grep -q "replaced while the batch was written" "$WORK/dird.log" &&
	ok "a complete batch written across a flush is not installed over it" ||
	not_ok "a complete batch written across a flush is not installed over it" "$(state)"
within 60 refreshes_above 1 &&
	within 30 gone zed2 &&
	ok "and the refresh the flush asked for runs: zed2, deleted, is gone" ||
	not_ok "and the refresh the flush asked for runs: zed2, deleted, is gone" \
		"$(grep -c "refresh done" "$WORK/dird.log") refreshes; $(in_ns "$NSS" getent passwd zed2)"
within 90 served 600 && in_ns "$NSS" getent passwd zed >/dev/null &&
	ok "both domains' users are served" || not_ok "both domains' users are served" "$(state)"
alive && ok "dird is up" || not_ok "dird is up"
finish
