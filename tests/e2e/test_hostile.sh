#!/bin/bash
# A hostile local user against dird's socket: idle connections, half a request, a huge one, a
# flood of unknown names, replies never read, a full listen queue, every lookup slot taken.
# dird must keep answering everyone else at its usual speed, and root's logins above all.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

# A group of 30,000 members: its reply (330 KB) is more than a socket takes unread.
serve_directory 30000 30000 3 || exit 1
SOCK=$WORK/run/dird.sock
# As nobody: a copy nobody can read, and the system's python (not root's own).
cp "$HERE/../tools/hostile_client.py" "$WORK/" && chmod 755 "$WORK/hostile_client.py"
# hostile_as UID MODE ARGS...: the client as that local user
hostile_as() {
	local uid=$1; shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups /usr/bin/python3 "$WORK/hostile_client.py" "$SOCK" "$@"
}
HOSTILE=(hostile_as 65534)
pam_stacks "$WORK/pam.d"
# login_ms: how long a PAM login of a directory user takes (root, through pam.sock); "failed"
login_ms() {
	local s out
	s=$(date +%s%N)
	out=$(echo alicepw | in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d \
		"$BUILD/tests/pam_run" bare alice auth account 2>&1)
	if [ "$out" = "auth: Success
account: Success" ]; then echo $(( ($(date +%s%N) - s) / 1000000 )); else echo failed; fi
}

# ms CMD...: how long CMD takes, in ms
ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }

# nobody holds 40 idle connections and 20 with half a header, for 4 seconds
"${HOSTILE[@]}" idle 40 4 >"$WORK/idle.out" &
E2E_PIDS+=($!)
"${HOSTILE[@]}" half 20 4 >"$WORK/half.out" &
E2E_PIDS+=($!)
# Each holder says "closed=N" once all its connections are open; they stay open after that.
for _ in $(seq 100); do
	grep -q closed= "$WORK/idle.out" && grep -q closed= "$WORK/half.out" && break
	sleep 0.1
done
t=$(ms in_ns "$WORK/nss" getent passwd u00049)
check "while they hang on, a cache miss of root's is answered at once (${t} ms)" test "$t" -lt 500
t=$(ms "$BUILD/dirctl/dirctl" status)
check "and dirctl status too (${t} ms)" test "$t" -lt 500
check_eq "...and the answer is right" "u00049" "$(in_ns "$WORK/nss" getent passwd u00049 | cut -d: -f1)"
check "one user gets at most 32 connections: the rest are closed at once" \
	grep -Eq "closed=(8|[1-9][0-9])" "$WORK/idle.out"
wait "${E2E_PIDS[@]}"
E2E_PIDS=()
check "connections that never send a whole request are closed (debug log)" \
	grep -q "sent no whole request" "$WORK/dird.log"

check_eq "a header announcing 1 GB: dird hangs up without reading it" "closed" "$("${HOSTILE[@]}" huge)"
t=$(ms in_ns "$WORK/nss" getent passwd u00048)
check "and keeps answering (${t} ms)" test "$t" -lt 500

out=$("${HOSTILE[@]}" flood 600)
check "a flood of 600 unknown names: the first ones are looked up" grep -Eq "notfound=[1-9]" <<<"$out"
check "and beyond the rate limit the rest get 'unavailable' at once ($out)" grep -Eq "unavail=[1-9]" <<<"$out"
check "dird says who" grep -q "uid 65534 asks for more than 50 unknown names a second" "$WORK/dird.log"
t=$(ms in_ns "$WORK/nss" getent passwd u00047)
check "root's lookups are not limited by it (${t} ms)" test "$t" -lt 500
check_eq "nor answered wrongly" "u00047" "$(in_ns "$WORK/nss" getent passwd u00047 | cut -d: -f1)"

# Lock games: nobody holds an exclusive lock on the index every reader maps; dird must not care.
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "rb")
fcntl.flock(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)
' "$WORK/cache/nss.idx" >"$WORK/lock.out" &
E2E_PIDS+=($!)
for _ in $(seq 50); do grep -q locked "$WORK/lock.out" && break; sleep 0.1; done
check "nobody holds an exclusive lock on nss.idx" grep -q locked "$WORK/lock.out"
t=$(ms "$BUILD/dirctl/dirctl" cache refresh)
# The lock outlasts the bound by far: a refresh that waited for it would take two minutes.
check "a full refresh still completes and replaces the index (${t} ms)" test "$t" -lt 60000
check_eq "and lookups still answer" "u00046" "$(in_ns "$WORK/nss" getent passwd u00046 | cut -d: -f1)"
kill "${E2E_PIDS[@]}" 2>/dev/null
E2E_PIDS=()

# --- replies nobody reads: 4 local users x 32 connections ask for the big group, never read --
for uid in 65531 65532 65533 65534; do
	hostile_as "$uid" noread 32 6 biggroup >"$WORK/noread.$uid" &
	E2E_PIDS+=($!)
done
for _ in $(seq 50); do [ "$(cat "$WORK"/noread.* | grep -c started)" = 4 ] && break; sleep 0.1; done
sleep 1.5 # every slot of theirs taken, dropped after 1 s and taken again
out=$(hostile_as 65530 misses 20)
max=$(sed -n 's/^max=\([0-9]*\).*/\1/p' <<<"$out")
check "meanwhile another user's cache misses are answered within 50 ms ($out)" test "${max:-9999}" -lt 50
check "...each of them (not found)" grep -q "notfound=20" <<<"$out"
t=$(login_ms)
check "and root's PAM login takes under 1 s (${t} ms)" test "${t/failed/99999}" -lt 1000
wait "${E2E_PIDS[@]}"
E2E_PIDS=()
asked=$(( $(cat "$WORK"/noread.* | sed -n 's/^asked=//p' | paste -sd+) ))
check "their connections were dropped at their deadline and opened again ($asked requests)" \
	test "$asked" -gt 256
check "dird says why (debug log)" grep -q "did not read its reply" "$WORK/dird.log"
check_eq "and a reply that is read is whole: 30,000 members" "30000" \
	"$(in_ns "$WORK/nss" getent group biggroup | cut -d: -f4 | tr , '\n' | wc -l)"

# --- every lookup slot other users may take, taken and taken again: root still gets in ---------
for uid in $(seq 65500 65515); do
	hostile_as "$uid" hold 32 4 >"$WORK/fill.$uid" &
	E2E_PIDS+=($!)
done
for _ in $(seq 50); do [ "$(cat "$WORK"/fill.* | grep -c started)" = 16 ] && break; sleep 0.1; done
sleep 0.5
t=$(login_ms)
check "16 users x 32 connections: root's PAM login goes in on its own socket's slots (${t} ms)" \
	test "${t/failed/99999}" -lt 1000
t=$(ms "$BUILD/dirctl/dirctl" status)
check "and root's dirctl status on the lookup slots kept for root (${t} ms)" "$BUILD/dirctl/dirctl" status
wait "${E2E_PIDS[@]}"
E2E_PIDS=()
sleep 1.2 # what they left open is dropped

# --- a full listen queue: a client waits for room within its deadline, it does not fail -----
kill -STOP "$DIRD_PID"
"${HOSTILE[@]}" backlog 300 3 >"$WORK/backlog.out" &
E2E_PIDS+=($!)
for _ in $(seq 50); do grep -q queued= "$WORK/backlog.out" && break; sleep 0.1; done
check "nobody fills dird's listen queue while dird is stopped ($(cat "$WORK/backlog.out"))" \
	grep -q "full=[1-9]" "$WORK/backlog.out"
"$BUILD/dirctl/dirctl" status >"$WORK/status.out" 2>&1 &
status_pid=$!
sleep 0.5
kill -CONT "$DIRD_PID"
wait "$status_pid"
check_eq "dirctl status, started while the queue was full, waits and gets its answer" "0" "$?"
check "...and it is dird's status" grep -q "dird: *running" "$WORK/status.out"
kill "${E2E_PIDS[@]}" 2>/dev/null
wait "${E2E_PIDS[@]}" 2>/dev/null
E2E_PIDS=()
sleep 1.2

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/dirctl/dirctl" -c "$DIR_CONF" cache refresh 2>&1)
check_eq "nobody cannot start a refresh (a full enumeration of the directory)" "1" "$?"
check "...and is told why" grep -q "only root may do that" <<<"$out"
check "dird is still running" kill -0 "$DIRD_PID"
finish
