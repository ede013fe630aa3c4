#!/bin/bash
# Cached lookups survive anything: a typo in dird.conf that dird refuses, enumerations a process
# never ends, SIGHUPs, a server whose paged results never end, dird killed at each step of a
# refresh.  Every case against a real slapd and dird, through the real getent, id, ls and PAM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 50 5 3 || exit 1
pam_stacks "$WORK/pam.d"
cp "$DIR_CONF" "$WORK/dird.conf.good"

# reloads: how many times dird has read its file again, or refused to
reloads() { grep -c -e "configuration reloaded" -e "reload failed" "$WORK/dird.log"; }
# wait_reloads N: until reloads reaches N
wait_reloads() {
	# 30 s: a loaded machine can take long over a refresh's end before the reload
	for _ in $(seq 300); do [ "$(reloads)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}

# --- a typo in a domain section: dird refuses the file, nobody else notices ------------------
sed -i '/^\[domain\/example\]/a page_sise = 100' "$DIR_CONF"
n=$(reloads)
kill -HUP "$DIRD_PID"
wait_reloads $((n + 1))
check "dird refuses the misspelt key with file:line" \
	grep -q "dird.conf:[0-9]*: unknown key 'page_sise' in \[domain/example\]" "$WORK/dird.log"
check "and keeps running on the configuration it had" kill -0 "$DIRD_PID"
check_eq "a new process resolves a cached user (getent)" \
	"u00001:*:30000:20000:Generated 0:/home/u00001:/bin/sh" "$(in_ns "$WORK/nss" getent passwd u00001)"
check_eq "and its groups (id)" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_ns "$WORK/nss" id alice)"
touch "$WORK/owned" && chown 30001:20100 "$WORK/owned"
check_eq "ls -l shows the owner's names" "u00002 devs" \
	"$(in_ns "$WORK/nss" ls -l "$WORK/owned" | awk '{print $3, $4}')"
check_eq "a PAM login reads its configuration and goes through" \
	"auth: Success
account: Success
open: Success
close: Success" "$(echo alicepw | in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d \
	"$BUILD/tests/pam_run" bare alice auth account open close 2>&1)"
out=$("${CTL[@]}" status 2>&1)
check_eq "dirctl status fails (exit 1)" "1" "$?"
check "...and says the file is bad, and where" grep -q "config: .*BAD.*dird.conf:[0-9]*: unknown key 'page_sise'" <<<"$out"
check "...and still shows dird running" grep -q "dird: *running" <<<"$out"
cp "$WORK/dird.conf.good" "$DIR_CONF"
n=$(reloads)
kill -HUP "$DIRD_PID"
wait_reloads $((n + 1))
check "fixed, the file is taken again" grep -q "configuration reloaded" "$WORK/dird.log"
check "and dirctl status is content" "${CTL[@]}" status

# --- a dird.conf that is not a file: the modules take their defaults at once, never wait -------
mkfifo "$WORK/fifo"
for conf in "$WORK/fifo" /dev/zero "$WORK"; do
	s=$(now_ms)
	in_ns "$WORK/nss" timeout 10 env DIR_CONF="$conf" getent passwd u00001 >/dev/null
	rc=$? t=$(($(now_ms) - s))
	check "DIR_CONF=$conf: getent returns at once ($t ms, exit $rc: not found at the default paths)" \
		test "$rc" = 2 -a "$t" -lt 3000
done

# --- a run_dir or cache_dir others may write to: refused, and its mode left alone ---------------
# Anyone could put a dird.sock or pam.sock there (pam_dir would send it passwords and take its
# word) or an nss.idx; dird used to make such a directory 0755, /tmp included.
mkdir -m 1777 "$WORK/sticky"
mkdir -m 0777 "$WORK/open"
mkdir -m 0755 "$WORK/run2" "$WORK/cache2"
for shared in "run_dir sticky 1777" "cache_dir open 777"; do
	read -r key dir mode <<<"$shared"
	sed -e "s|^run_dir = .*|run_dir = $WORK/run2|" -e "s|^cache_dir = .*|cache_dir = $WORK/cache2|" \
		-e "s|^$key = .*|$key = $WORK/$dir|" "$DIR_CONF" >"$WORK/shared.conf"
	timeout 5 "$BUILD/dird/dird" -f -c "$WORK/shared.conf" >"$WORK/shared.log" 2>&1
	check_eq "dird refuses a $key of mode $mode (exit 1)" 1 "$?"
	check "...and says why" grep -q "$key $WORK/$dir: .*group or others may write to it" "$WORK/shared.log"
	check_eq "...and leaves its mode alone" "$mode" "$(stat -c %a "$WORK/$dir")"
done

# --- a process leaves two enumerations open across three refreshes; then dird stops --------
cp "$HERE/../tools/nss_holder.py" "$WORK/" && chmod 755 "$WORK/nss_holder.py"
coproc HOLDER { in_ns "$WORK/nss" python3 -u "$WORK/nss_holder.py" 2>/dev/null; }
E2E_PIDS+=("$HOLDER_PID")
# ask COMMAND: the long-running process's answer (tests/tools/nss_holder.py); not in a pipeline,
# whose subshells do not have the coprocess's pipes
ask() {
	local r=
	echo "$*" >&"${HOLDER[1]}" && read -r -t 10 r <&"${HOLDER[0]}"
	echo "$r"
}
U1="u00001:*:30000:20000:Generated 0:/home/u00001:/bin/sh"
check_eq "a long-running process resolves a user" "$U1" "$(ask passwd u00001)"
check "it starts enumerating users and never ends it" test "$(ask pwent)" != none
"${CTL[@]}" cache refresh >/dev/null
check_eq "after a refresh it resolves the user" "$U1" "$(ask passwd u00001)"
check "it starts enumerating groups and never ends that either" test "$(ask grent)" != none
for i in 2 3; do
	"${CTL[@]}" cache refresh >/dev/null
	check_eq "after refresh $i it resolves the user" "$U1" "$(ask passwd u00001)"
done
dird_stop
check_eq "with dird stopped, the same process still resolves cached users from the index" \
	"$U1" "$(ask passwd u00001)"
check_eq "...and groups" "devs:*:20100:alice,carol" "$(ask group devs)"
dird_start && dird_wait_refresh

# dird_start_stopped_at STEP[,STEP...]: starts dird, which stops itself (SIGSTOP) at each STEP
dird_start_stopped_at() {
	DIRD_TEST_STOP_AT=$1 "$BUILD/dird/dird" -f -c "$DIR_CONF" >>"$WORK/dird.log" 2>&1 &
	DIRD_PID=$!
	wait_stopped
}
# wait_stopped: until dird has stopped itself
wait_stopped() {
	for _ in $(seq 300); do
		[ "$(cut -d' ' -f3 "/proc/$DIRD_PID/stat" 2>/dev/null)" = T ] && return 0
		kill -0 "$DIRD_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# wait_serving: until dird's socket answers
wait_serving() {
	for _ in $(seq 200); do "${CTL[@]}" status >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

# --- a SIGHUP while dird starts: a reload once it serves, not its death ----------------------
dird_stop
check "dird stops itself while it starts (the test's hook)" dird_start_stopped_at start
n=$(reloads)
kill -HUP "$DIRD_PID"
kill -CONT "$DIRD_PID"
check "a SIGHUP while dird starts does not kill it" wait_serving
check "it is a reload once dird serves" wait_reloads $((n + 1))

# --- a reload never runs while the worker is on a miss (it reads the configuration) ---------
dird_stop
DIRD_TEST_PAUSE_AT=miss-taken dird_start && dird_wait_refresh
n=$(reloads)
python3 "$HERE/../tools/hostile_client.py" "$WORK/run/dird.sock" misses 1 >"$WORK/misses.out" &
misses_pid=$!
# The worker takes the miss and pauses there 1 s (the test's hook).
for _ in $(seq 100); do grep -q "pausing 1 s at miss-taken" "$WORK/dird.log" && break; sleep 0.01; done
kill -HUP "$DIRD_PID"
sleep 0.5
check_eq "a SIGHUP while the worker is on a miss is not applied under it" "$n" "$(reloads)"
wait "$misses_pid"
check "...the miss is answered (not found)" grep -q "notfound=1" "$WORK/misses.out"
check "...and the reload is applied right after" wait_reloads $((n + 1))
dird_stop
dird_start && dird_wait_refresh

# --- a storm of SIGHUPs during a stream of misses ---------------------------------------------
n=$(reloads)
python3 "$HERE/../tools/hostile_client.py" "$WORK/run/dird.sock" misses 1500 >"$WORK/misses.out" &
misses_pid=$!
for _ in $(seq 150); do kill -HUP "$DIRD_PID"; sleep 0.02; done
wait "$misses_pid"
check "dird lives through 150 SIGHUPs during 1,500 misses" kill -0 "$DIRD_PID"
check_eq "...no sanitizer report" "0" "$(grep -c -e AddressSanitizer -e 'runtime error' "$WORK/dird.log")"
check "...every miss answered: not found ($(cat "$WORK/misses.out"))" grep -q "notfound=1500" "$WORK/misses.out"
check "...and the reloads were applied meanwhile ($(( $(reloads) - n )))" test "$(reloads)" -gt $((n + 5))

# --- dird killed (kill -9) at each step of writing a new cache -----------------------------
# change_round N: user newN and group newgN (newN its member) added to the directory, and
# u00002's gecos changed to "Round N" (what an old index still says is then out of date)
change_round() {
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: uid=u00002,ou=people,$SLAPD_BASE
changetype: modify
replace: gecos
gecos: Round $1
LDIF
	ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: uid=new$1,ou=people,$SLAPD_BASE
objectClass: account
objectClass: posixAccount
uid: new$1
cn: new$1
uidNumber: $((40000 + $1))
gidNumber: 20000
homeDirectory: /home/new$1

dn: cn=newg$1,ou=groups,$SLAPD_BASE
objectClass: posixGroup
cn: newg$1
gidNumber: $((41000 + $1))
memberUid: new$1
LDIF
}
# answers WHO N: what a process (WHO: "old", the long-running one, or "new") says of the
# users and groups that matter after round N
answers() {
	local names=(u00001 u00002 alice) i
	for i in $(seq "$2"); do names+=("new$i"); done
	for n in "${names[@]}" newg1 "newg$2"; do
		local kind=passwd
		[ "${n#newg}" != "$n" ] && kind=group
		if [ "$1" = old ]; then
			ask "$kind" "$n"
		else
			in_ns "$WORK/nss" getent "$kind" "$n" || echo none
		fi
	done
}
round=0
# A refresh writes the tdb files and the index, then renames them into place.
for step in store-written index-written store-half-installed store-installed index-installed; do
	round=$((round + 1))
	change_round "$round"
	dird_stop
	# Stopped as the refresh begins to write, the long-running process maps the index that
	# refresh is about to replace; then dird goes on to the step it is killed at.
	if ! dird_start_stopped_at "store-written,$step"; then
		not_ok "dird stops itself at store-written (the test's hook)"
		continue
	fi
	check_eq "round $round: the long-running process resolves a user meanwhile" "$U1" "$(ask passwd u00001)"
	if [ "$step" != store-written ]; then
		kill -CONT "$DIRD_PID"
		if ! wait_stopped; then
			not_ok "dird stops itself at $step (the test's hook)"
			continue
		fi
	fi
	kill -9 "$DIRD_PID"
	wait "$DIRD_PID" 2>/dev/null
	DIRD_PID=
	slapd_stop # what the restarted dird serves is what the crash left
	dird_start && wait_serving
	check_eq "killed at $step, restarted: nothing half-written is left in the cache" "" \
		"$(cd "$WORK/cache" && ls -d nss.idx.tmp.* nss.idx.old ./*.tdb.tmp 2>/dev/null)"
	user=$(in_ns "$WORK/nss" getent passwd "new$round" | cut -d: -f1)
	group=$(in_ns "$WORK/nss" getent group "newg$round" | cut -d: -f4)
	case $step in *-written) want=":" ;; *) want="new$round:new$round" ;; esac
	check_eq "...the users' and the groups' files are from one refresh (the new user and its group)" \
		"$want" "$user:$group"
	answers new "$round" >"$WORK/new.answers"
	answers old "$round" >"$WORK/old.answers"
	check "...a new process resolves every cached user and group" \
		grep -q "^u00001:" "$WORK/new.answers"
	check_eq "...and a process that ran all along gives the same answers (the newest index)" \
		"$(cat "$WORK/new.answers")" "$(cat "$WORK/old.answers")"
	slapd_resume
done
dird_stop
dird_start && dird_wait_refresh
user=$(ask passwd new5)
group=$(ask group newg5)
check_eq "after a refresh that is not killed, the old process has the last new user and group" \
	"new5:new5" "${user%%:*}:${group##*:}"

# --- dird killed (kill -9) at each step of publishing a delta ---------------------------------
# A new user found on a miss goes to the tdb at once and to nss.idx.delta 200 ms later; killed
# between writing the delta and announcing it, the restarted dird serves it from nss.idx.
for step in delta-written delta-installed; do
	round=$((round + 1))
	dird_stop
	DIRD_TEST_STOP_AT=$step dird_start && dird_wait_refresh
	change_round "$round"
	in_ns "$WORK/nss" getent passwd "new$round" >/dev/null &
	miss=$!
	if ! wait_stopped; then
		not_ok "dird stops itself at $step (the test's hook)"
		continue
	fi
	kill -9 "$DIRD_PID"
	wait "$DIRD_PID" 2>/dev/null
	DIRD_PID=
	wait "$miss"
	slapd_stop
	dird_start && wait_serving
	check_eq "killed at $step, restarted: nothing half-written is left in the cache" "" \
		"$(cd "$WORK/cache" && ls -d nss.idx.tmp.* nss.idx.old nss.idx.delta.* 2>/dev/null)"
	check_eq "...the user found on the miss is served" "new$round" \
		"$(in_ns "$WORK/nss" getent passwd "new$round" | cut -d: -f1)"
	user=$(ask passwd "new$round") # no pipe: a subshell has no coproc
	check_eq "...and the process that ran all along sees it too" "new$round" "${user%%:*}"
	slapd_resume
done

# --- a server whose paged results never end: the refresh stops, with a clear line ------------
# add_endless_domain NAME [SECONDS]: domain NAME served by endless_ldap.py (SECONDS a page),
# output in $WORK/NAME.out, taken in by a reload
add_endless_domain() {
	python3 "$HERE/../tools/endless_ldap.py" "$WORK/$1.port" ${2:+"$2"} >"$WORK/$1.out" &
	E2E_PIDS+=($!)
	for _ in $(seq 50); do [ -s "$WORK/$1.port" ] && break; sleep 0.1; done
	printf '\n[domain/%s]\nuri = ldap://127.0.0.1:%s\nbase_dn = dc=%s,dc=test\n' \
		"$1" "$(cat "$WORK/$1.port")" "$1" >>"$DIR_CONF"
	local n
	n=$(reloads)
	kill -HUP "$DIRD_PID"
	wait_reloads $((n + 1))
}
add_endless_domain endless
s=$(date +%s)
timeout 60 "${CTL[@]}" cache refresh >/dev/null 2>&1
check_eq "a refresh from a server that always says 'more' fails, it does not run for ever" "1" "$?"
check "...in bounded time ($(( $(date +%s) - s )) s)" test $(( $(date +%s) - s )) -lt 30
check "dird says why" grep -q "refresh of endless failed: .*100 pages in a row without an entry" "$WORK/dird.log"
check "...after 100 pages ($(tail -1 "$WORK/endless.out"))" grep -qx "pages=100" "$WORK/endless.out"
# a probe that finds the server answering puts the domain online again (and clears its last
# error) until the next refresh fails: asked again for a while, as an administrator would
status_says_why() { "${CTL[@]}" status 2>&1 | grep -q "100 pages in a row"; }
check "and so does dirctl status" within 10 status_says_why
check_eq "the cache stays as it was" "$U1" "$(in_ns "$WORK/nss" getent passwd u00001)"
cp "$WORK/dird.conf.good" "$DIR_CONF"
n=$(reloads)
kill -HUP "$DIRD_PID"
check "a SIGHUP is applied (no refresh holds it off)" wait_reloads $((n + 1))
kill "${E2E_PIDS[-1]}"

# --- a refresh reading a slow server (0.3 s a page, 100 pages) stops for a reload ------------
add_endless_domain slow 0.3 # which starts a refresh: example's entries, then slow's pages
within 30 grep -qx "page=3" "$WORK/slow.out"
cp "$WORK/dird.conf.good" "$DIR_CONF"
n=$(reloads) done_before=$(grep -c "refresh done" "$WORK/dird.log") s=$(now_ms)
kill -HUP "$DIRD_PID"
wait_reloads $((n + 1))
check "a SIGHUP in the middle of a slow server's refresh is applied within 10 s ($(( $(now_ms) - s )) ms)" \
	test $(( $(now_ms) - s )) -lt 10000
check "...the refresh stopped between two pages, and says so" \
	grep -q "refresh stopped for a configuration reload" "$WORK/dird.log"
check_eq "...which is not the domain failing" 0 "$(grep -c "refresh of slow failed" "$WORK/dird.log")"
refreshes_past() { [ "$(grep -c "refresh done" "$WORK/dird.log")" -gt "$1" ]; }
check "...and a refresh runs again on the new configuration" within 30 refreshes_past "$done_before"
check_eq "the cache is as it was" "$U1" "$(in_ns "$WORK/nss" getent passwd u00001)"
kill "${E2E_PIDS[-1]}"

finish
