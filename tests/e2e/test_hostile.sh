#!/bin/bash
# A hostile local user against dird's socket: idle connections, half a request, a huge one, a
# flood of unknown names.  dird must keep answering everyone else at its usual speed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
HOLDERS=()
cleanup() { kill "${HOLDERS[@]}" 2>/dev/null; dird_stop; slapd_stop; rm -rf "$WORK"; }
trap cleanup EXIT

serve_directory 50 5 3 || exit 1
SOCK=$WORK/run/dird.sock
# As nobody: a copy nobody can read, and the system's python (not root's own).
cp "$HERE/../tools/hostile_client.py" "$WORK/" && chmod 755 "$WORK/hostile_client.py"
HOSTILE=(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$WORK/hostile_client.py" "$SOCK")

# ms CMD...: how long CMD takes, in ms
ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }

# nobody holds 40 idle connections and 20 with half a header, for 4 seconds
"${HOSTILE[@]}" idle 40 4 >"$WORK/idle.out" &
HOLDERS+=($!)
"${HOSTILE[@]}" half 20 4 >"$WORK/half.out" &
HOLDERS+=($!)
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
wait "${HOLDERS[@]}"
HOLDERS=()
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
time.sleep(6)
' "$WORK/cache/nss.idx" >"$WORK/lock.out" &
HOLDERS+=($!)
for _ in $(seq 50); do grep -q locked "$WORK/lock.out" && break; sleep 0.1; done
check "nobody holds an exclusive lock on nss.idx" grep -q locked "$WORK/lock.out"
t=$(ms "$BUILD/dirctl/dirctl" cache refresh)
check "a full refresh still completes and replaces the index (${t} ms)" test "$t" -lt 5000
check_eq "and lookups still answer" "u00046" "$(in_ns "$WORK/nss" getent passwd u00046 | cut -d: -f1)"
kill "${HOLDERS[@]}" 2>/dev/null
HOLDERS=()

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/dirctl/dirctl" -c "$DIR_CONF" cache refresh 2>&1)
check_eq "nobody cannot start a refresh (a full enumeration of the directory)" "1" "$?"
check "...and is told why" grep -q "only root may do that" <<<"$out"
check "dird is still running" kill -0 "$DIRD_PID"
finish
