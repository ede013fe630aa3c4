#!/bin/bash
# Change streams against a real slapd with syncprov (RFC 4533, refreshAndPersist): an add, a
# modified shell, a rename, a delete, a membership change, a user leaving the filter and a burst
# of 100 writes each reach getent and id on their own; a dird restarted mid-stream and a slapd
# killed and started again resume from the stored position, without reading everything; a
# position the server refuses makes the stream read everything again; the bind identity's size
# limit (500, as Debian's default) does not keep any of the 600 users out.  Bounds are wide (they
# prove nothing hangs, not how fast it is).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
cleanup() { dird_stop; slapd_stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 600 --big-group 10 --many-groups 3
SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
export DIR_CONF=$WORK/dird.conf
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
# Users with description=left are outside the filter.
printf 'user_filter = (&(objectClass=posixAccount)(!(description=left)))\n' >>"$DIR_CONF"
write_nsswitch "$WORK/nss" "files dir"
NSS=$WORK/nss
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")
P=ou=people,dc=example,dc=test
G=ou=groups,dc=example,dc=test

modify() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null; }

# status FIELD: the first domain's FIELD in dirctl status --json
status() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0][sys.argv[1]])' "$1" 2>/dev/null
}

# The first domain's changes_state and in_sync, from one dirctl status: "STATE|True"
state_and_sync() {
	"${CTL[@]}" --json status 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin)["domains"][0]
print(d["changes_state"], d["in_sync"], sep="|")' 2>/dev/null
}

wait_in_sync() { # SECONDS
	for _ in $(seq $(($1 * 10))); do
		[ "$(status in_sync)" = True ] && return 0
		sleep 0.1
	done
	return 1
}

# eventually SECONDS COMMAND...: COMMAND succeeds within SECONDS
eventually() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

shell_is() { in_ns "$NSS" getent passwd "$1" | grep -q ":$2\$"; }
absent() { ! in_ns "$NSS" getent passwd "$1"; }
in_group() { in_ns "$NSS" id -Gn "$1" | tr ' ' '\n' | grep -qx "$2"; }
not_in_group() { in_ns "$NSS" id -Gn "$1" >/dev/null && ! in_group "$1" "$2"; }

dird_start || exit 1
dird_wait_refresh || exit 1
if wait_in_sync 30; then
	ok "the stream is in sync after the first read ($(status changes_state))"
else
	not_ok "the stream is in sync after the first read" "$(status changes_state); $(tail -5 "$WORK/dird.log")"
fi
# The stream's first refresh phase is the full read: nothing else reads the directory.
check_fails "the first start runs no full refresh beside the stream's read" grep -q "refresh done" "$WORK/dird.log"
check_eq "the first start reads groups and users once each (full_syncs)" "$(status full_syncs)" 2
check_eq "dirctl status names the mechanism" "$(status changes)" "RFC 4533 sync"
"${CTL[@]}" status | grep -q "changes: RFC 4533 sync" &&
	ok "dirctl status says so" || not_ok "dirctl status says so" "$("${CTL[@]}" status)"
# The users' sync search stops at the bind's size limit: they were read in pages, and every one
# of them is served (a missing one would have been dropped as gone).
grep -q "users: reading everything in pages" "$WORK/dird.log" &&
	ok "the size limit sends the users' first read through a paged search" ||
	not_ok "the size limit sends the users' first read through a paged search"
n=$(in_ns "$NSS" getent passwd | grep -c '^u00')
check_eq "all 600 generated users are served" "$n" 600

printf 'dn: uid=newbie,%s\nchangetype: add\nobjectClass: account\nobjectClass: posixAccount\nuid: newbie\ncn: newbie\nuidNumber: 39001\ngidNumber: 20000\nhomeDirectory: /home/newbie\nloginShell: /bin/sh\n' "$P" | modify
eventually 5 in_ns "$NSS" getent passwd newbie && ok "an added user is seen within 5 s" ||
	not_ok "an added user is seen within 5 s"

t0=$(now_ms)
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/zsh\n' "$P" | modify
if eventually 5 shell_is alice /bin/zsh; then
	ok "a modified shell is seen within 5 s ($(($(now_ms) - t0)) ms)"
else
	not_ok "a modified shell is seen within 5 s" "$(in_ns "$NSS" getent passwd alice)"
fi

printf 'dn: uid=carol,%s\nchangetype: modrdn\nnewrdn: uid=carla\ndeleteoldrdn: 1\n' "$P" | modify
eventually 5 in_ns "$NSS" getent passwd carla && eventually 5 absent carol &&
	check_eq "a renamed user keeps its uid" "$(in_ns "$NSS" getent passwd carla | cut -d: -f3)" 20003 ||
	not_ok "a renamed user is seen under its new name only, within 5 s"

printf 'dn: uid=bob,%s\nchangetype: delete\n' "$P" | modify
eventually 5 absent bob && ok "a deleted user is gone within 5 s" ||
	not_ok "a deleted user is gone within 5 s"

printf 'dn: cn=devs,%s\nchangetype: modify\nadd: memberUid\nmemberUid: newbie\n' "$G" | modify
eventually 5 in_group newbie devs && ok "a membership added reaches id (initgroups) within 5 s" ||
	not_ok "a membership added reaches id (initgroups) within 5 s" "$(in_ns "$NSS" id newbie)"
in_ns "$NSS" getent group devs | grep -q newbie && ok "and getent group" ||
	not_ok "and getent group" "$(in_ns "$NSS" getent group devs)"
printf 'dn: cn=devs,%s\nchangetype: modify\ndelete: memberUid\nmemberUid: alice\n' "$G" | modify
eventually 5 not_in_group alice devs &&
	ok "a membership removed leaves id within 5 s" ||
	not_ok "a membership removed leaves id within 5 s" "$(in_ns "$NSS" id alice)"

printf 'dn: uid=u00007,%s\nchangetype: modify\nadd: description\ndescription: left\n' "$P" | modify
eventually 5 absent u00007 && ok "a user leaving the filter is gone within 5 s" ||
	not_ok "a user leaving the filter is gone within 5 s"

# A burst: 100 writes in one connection, as fast as slapd takes them.
for i in $(seq 101 200); do
	printf 'dn: uid=u%05d,%s\nchangetype: modify\nreplace: gecos\ngecos: burst %d\n\n' "$i" "$P" "$i"
done | modify
burst_seen() { [ "$(in_ns "$NSS" getent passwd | grep -c ':burst [0-9]*:')" = 100 ]; }
t0=$(now_ms)
if eventually 10 burst_seen; then
	ok "all of a burst of 100 writes is seen within 10 s ($(($(now_ms) - t0)) ms)"
else
	not_ok "all of a burst of 100 writes is seen within 10 s" \
		"$(in_ns "$NSS" getent passwd | grep -c ':burst [0-9]*:') seen"
fi

# A restart mid-stream: a change made while dird is down comes with the resume; nothing is read
# whole (no full refresh, no stream from scratch).
dird_stop
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/dash\n' "$P" | modify
: >"$WORK/dird.log"
dird_start || exit 1
# The stream is in sync as its refresh phase ends (refreshDone, RFC 4533), not a quiet second
# later: a status that says the users persist says in sync too.
for _ in $(seq 200); do
	seen=$(state_and_sync)
	case $seen in "users: persisting|"*) break ;; esac
	sleep 0.05
done
check_eq "in sync as soon as the resumed refresh phase ends" "users: persisting|True" "$seen"
eventually 5 shell_is alice /bin/dash && ok "a change made while dird was down is seen within 5 s of its start" ||
	not_ok "a change made while dird was down is seen within 5 s of its start"
grep -q "resumes from its stored position: no full refresh" "$WORK/dird.log" &&
	ok "the restarted dird resumes without a full refresh" ||
	not_ok "the restarted dird resumes without a full refresh" "$(head -5 "$WORK/dird.log")"
wait_in_sync 10 || not_ok "in sync again after the restart" "$(status changes_state)"
check_eq "nothing was read whole after the restart (full_syncs)" "$(status full_syncs)" 0
check_fails "no full refresh ran" grep -q "refresh done" "$WORK/dird.log"

# slapd killed and started again: the stream reconnects and resumes from its position.
{ kill -9 "$SLAPD_PID"; wait "$SLAPD_PID"; } 2>/dev/null
sleep 1
[ "$(status in_sync)" = False ] || sleep 15 # the heartbeat notices within its bound
check_eq "the stream is not in sync while slapd is down" "$(status in_sync)" False
shell_is alice /bin/dash && ok "the cache keeps serving while slapd is down" ||
	not_ok "the cache keeps serving while slapd is down"
SLAPD_PID=
slapd_resume || exit 1
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/bash\n' "$P" | modify
eventually 20 shell_is alice /bin/bash && ok "after slapd came back, a change is seen within 20 s" ||
	not_ok "after slapd came back, a change is seen within 20 s" "$(status changes_state)"
check_eq "slapd's return read nothing whole (full_syncs)" "$(status full_syncs)" 0

# A position the server refuses: dird stopped, its stored positions made ones slapd never gave.
dird_stop
positions_store "rid=000,csn=29991231000000.000000Z#000000#000#000000"
: >"$WORK/dird.log"
dird_start || exit 1
wait_in_sync 30 && ok "with a refused position the stream reads everything and is in sync again" ||
	not_ok "with a refused position the stream reads everything and is in sync again" "$(status changes_state)"
grep -q "refused the stored position" "$WORK/dird.log" &&
	ok "the refusal is logged" || not_ok "the refusal is logged" "$(grep 'change stream\|position' "$WORK/dird.log" | head)"
[ "$(status full_syncs)" -ge 1 ] && ok "and counted as a full read" ||
	not_ok "and counted as a full read" "$(status full_syncs)"
shell_is alice /bin/bash && absent bob && in_group newbie devs &&
	ok "what it serves afterwards is the directory's" ||
	not_ok "what it serves afterwards is the directory's"
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/sh\n' "$P" | modify
eventually 5 shell_is alice /bin/sh && ok "and changes flow again" || not_ok "and changes flow again"

# Without a session log slapd answers a resume with a present phase: what is not listed as
# present is gone.
sed -i '/^syncprov-sessionlog/d' "$SLAPD_DIR/slapd.conf"
dird_stop
slapd_stop
slapd_resume || exit 1
printf 'dn: uid=u00300,%s\nchangetype: delete\n' "$P" | modify
printf 'dn: uid=u00301,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/zsh\n' "$P" | modify
mv "$WORK/dird.log" "$WORK/dird.log.2"
full_before=$(grep -c "reading everything" "$WORK/dird.log.2")
dird_start || exit 1
eventually 5 absent u00300 && ok "a resume through a present phase drops a user deleted meanwhile" ||
	not_ok "a resume through a present phase drops a user deleted meanwhile"
eventually 5 shell_is u00301 /bin/zsh && ok "and brings a change made meanwhile" ||
	not_ok "and brings a change made meanwhile"
eventually 5 grep -q "example/users resumed through a present phase" "$WORK/dird.log" &&
	ok "it was a present phase" || not_ok "it was a present phase" "$(grep stream "$WORK/dird.log")"
check_eq "nothing was read whole" "$(grep -c "reading everything" "$WORK/dird.log")" 0
n=$(in_ns "$NSS" getent passwd | grep -c '^u00')
check_eq "the other users stay" "$n" 598

# What an administrator does to the cache keeps the streams' positions where the data they
# describe stays (README, "Change streams").
served() { [ "$(in_ns "$NSS" getent passwd | grep -c '^u00')" = "$1" ]; }
set_shell() { printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: loginShell\nloginShell: %s\n' "$1" "$P" "$2" | modify; }
whole_reads() { grep -c "reading everything" "$WORK/dird.log"; }
wait_in_sync 30
: >"$WORK/dird.log"
"${CTL[@]}" cache refresh >/dev/null
eventually 30 grep -q "refresh done" "$WORK/dird.log" || not_ok "dirctl cache refresh ends" "$(tail -5 "$WORK/dird.log")"
set_shell alice /bin/ksh
eventually 5 shell_is alice /bin/ksh && ok "after dirctl cache refresh a change is seen within 5 s" ||
	not_ok "after dirctl cache refresh a change is seen within 5 s" "$(status changes_state)"
wait_in_sync 10 || not_ok "in sync after dirctl cache refresh" "$(status changes_state)"
check_eq "dirctl cache refresh leaves the streams their positions: nothing read twice" 0 "$(whole_reads)"
served 598 && ok "and every user stays" || not_ok "and every user stays"

# dirctl cache expire writes the tdb pair again, whole, outside a refresh: the streams' positions
# stay with the data they describe, and the next change comes as a change.
: >"$WORK/dird.log"
before=$(status full_syncs)
"${CTL[@]}" cache expire alice >/dev/null || not_ok "dirctl cache expire alice"
set_shell u00010 /bin/ksh
eventually 5 shell_is u00010 /bin/ksh && ok "after dirctl cache expire a change is seen within 5 s" ||
	not_ok "after dirctl cache expire a change is seen within 5 s" "$(status changes_state)"
check_eq "dirctl cache expire leaves the streams their positions: nothing read whole" \
	"0/$before" "$(whole_reads)/$(status full_syncs)"

: >"$WORK/dird.log"
kill -HUP "$DIRD_PID"
eventually 10 grep -q "configuration reloaded" "$WORK/dird.log" || not_ok "SIGHUP reloads"
wait_in_sync 30 || not_ok "in sync after a reload" "$(status changes_state)"
check_eq "a reload that changes no domain reads nothing whole (full_syncs)" 0 "$(status full_syncs)"
check_fails "nor runs a full refresh" grep -q "refresh done" "$WORK/dird.log"
set_shell alice /bin/tcsh
eventually 5 shell_is alice /bin/tcsh && ok "after the reload a change is seen within 5 s" ||
	not_ok "after the reload a change is seen within 5 s"

# A changed filter: what the stream stored is not true of it; the domain is read whole.
printf 'dn: uid=u00008,%s\nchangetype: modify\nadd: description\ndescription: left2\n' "$P" | modify
sed -i 's/(!(description=left)))$/(!(description=left*)))/' "$DIR_CONF"
: >"$WORK/dird.log"
kill -HUP "$DIRD_PID"
eventually 10 absent u00008 && ok "a reload with a changed user_filter applies it within 10 s" ||
	not_ok "a reload with a changed user_filter applies it within 10 s" "$(tail -5 "$WORK/dird.log")"
wait_in_sync 30 || not_ok "in sync after the reload" "$(status changes_state)"
check_eq "and reads that domain whole once, without a full refresh beside (full_syncs)" \
	2/0 "$(status full_syncs)/$(grep -c "refresh done" "$WORK/dird.log")"
served 597 && ok "the others stay" || not_ok "the others stay"

# A flush empties the cache, positions with it: the streams read everything, once.
: >"$WORK/dird.log"
before=$(status full_syncs)
"${CTL[@]}" cache flush >/dev/null
eventually 10 grep -q "users: reading everything" "$WORK/dird.log" || not_ok "the flush restarts the streams"
eventually 30 served 597 && ok "after dirctl cache flush every user is back within 30 s" ||
	not_ok "after dirctl cache flush every user is back within 30 s" "$(status changes_state)"
wait_in_sync 30 || not_ok "in sync after the flush" "$(status changes_state)"
check_eq "the flush is read whole by the streams, once, without a full refresh beside (full_syncs)" \
	2/0 "$(($(status full_syncs) - before))/$(grep -c "refresh done" "$WORK/dird.log")"

# A domain without a stream beside one with: the full refresh it needs (at the reload that adds
# it, then daily: dirctl cache refresh stands for that) leaves the streamed domain's positions.
printf 'dn: ou=people2,dc=example,dc=test\nchangetype: add\nobjectClass: organizationalUnit\nou: people2\n\ndn: ou=groups2,dc=example,dc=test\nchangetype: add\nobjectClass: organizationalUnit\nou: groups2\n\ndn: uid=zed,ou=people2,dc=example,dc=test\nchangetype: add\nobjectClass: account\nobjectClass: posixAccount\nuid: zed\ncn: zed\nuidNumber: 40001\ngidNumber: 20000\nhomeDirectory: /home/zed\nloginShell: /bin/sh\n\ndn: cn=zeds,ou=groups2,dc=example,dc=test\nchangetype: add\nobjectClass: posixGroup\ncn: zeds\ngidNumber: 40100\nmemberUid: zed\n' | modify
# The same section, for the new OUs, without the filter, with members by DN and sync_groups
# (which are resolved against the whole directory: no stream).
sed -n '/^\[domain\/example\]$/,$p' "$DIR_CONF" |
	sed 's/^\[domain\/example\]$/[domain\/other]/; s/ou=people,/ou=people2,/; s/ou=groups,/ou=groups2,/; /^user_filter/d' \
		>"$WORK/other.conf"
printf '\n%s\nschema = rfc2307bis\nsync_groups = zeds\n' "$(cat "$WORK/other.conf")" >>"$DIR_CONF"
: >"$WORK/dird.log"
kill -HUP "$DIRD_PID"
eventually 30 in_ns "$NSS" getent passwd zed && ok "a domain added by a reload is read within 30 s" ||
	not_ok "a domain added by a reload is read within 30 s" "$(tail -5 "$WORK/dird.log")"
wait_in_sync 30 || not_ok "the stream is in sync after the refresh" "$(status changes_state)"
check_eq "the streamed domain went on from its position across that refresh (full_syncs)" 0 "$(status full_syncs)"
: >"$WORK/dird.log"
"${CTL[@]}" cache refresh >/dev/null
eventually 30 grep -q "refresh done" "$WORK/dird.log" || not_ok "the mixed refresh ends" "$(tail -5 "$WORK/dird.log")"
set_shell alice /bin/bash
eventually 5 shell_is alice /bin/bash && ok "after the mixed refresh a change is seen within 5 s" ||
	not_ok "after the mixed refresh a change is seen within 5 s"
wait_in_sync 10 || not_ok "in sync after the mixed refresh" "$(status changes_state)"
check_eq "the daily refresh of the other domain reads nothing of the streamed one twice" \
	0/0 "$(status full_syncs)/$(whole_reads)"
served 597 && in_ns "$NSS" getent passwd zed >/dev/null && ok "both domains' users are served" ||
	not_ok "both domains' users are served"

# dirctl status says why a domain has no stream.
state_of() { # DOMAIN_INDEX: its changes_state
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][int(sys.argv[1])]["changes_state"])' "$1"
}
state_of 1 | grep -q "not streamed: sync_groups with members by DN" &&
	ok "dirctl status: the rfc2307bis domain with sync_groups is not streamed, and why" ||
	not_ok "dirctl status: the rfc2307bis domain with sync_groups is not streamed, and why" "$(state_of 1)"
sed -i 's/^\[global\]$/[global]\nenumerate = no/' "$DIR_CONF"
: >"$WORK/dird.log"
kill -HUP "$DIRD_PID"
eventually 10 grep -q "configuration reloaded" "$WORK/dird.log" || not_ok "SIGHUP reloads"
state_of 0 | grep -q "not streamed: enumerate = no" && ok "dirctl status: with enumerate = no nothing is streamed, and why" ||
	not_ok "dirctl status: with enumerate = no nothing is streamed, and why" "$(state_of 0)"

finish
