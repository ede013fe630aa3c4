#!/bin/bash
# The body of bench/run, inside its mount, pid and network namespaces (TOP, BUILD, WORK, QUICK
# come from it).  Starts slapd on this namespace's loopback, sets up each peer against it (all
# of them serve at once), and measures them in turns with nss_bench, checking every answer; writes
# $WORK/results.csv and $WORK/meta.txt (each peer's version and configuration) for report.py.
set -u
# This script is PID 1 of its namespace: a signal reaches it only if it handles it, and its exit
# kills every process in the namespace (slapd, dird, nslcd, sssd).
trap 'exit 130' INT TERM HUP
cd "$TOP"
ip link set lo up
# A private /run: sssd's pid file and nslcd's socket are compiled in there.
mount -t tmpfs tmpfs /run
D=$WORK/data
CSV=$WORK/results.csv
META=$WORK/meta.txt
echo "peer,operation,threads,median_ns,p99_ns,ops_per_s,value,unit,ok" >"$CSV"
. "$D/counts"

# The bounds.  A timed row runs for at most BUDGET seconds per thread (fewer calls then) and is
# killed after ROW_BOUND ("did not finish in ROW_BOUND s"); SSSD gets FILL_BOUND to fill its
# cache; a change in the directory is waited for CHANGE_WAIT seconds.  Above PEERS_MAX_USERS
# only dir and the floor run: nss_files scans its files on every call, and nslcd and SSSD are
# given 100,000 users at most.
BUDGET=5
ROW_BOUND=120
FILL_BOUND=$(( users > 20000 ? 1200 : 300 ))
CHANGE_WAIT=30
CHANGES=100
PEERS_MAX_USERS=100001
# --quick looks up 300 of the sampled names, not 1,000, to stay within 5 minutes.
if [ -n "$QUICK" ]; then
	for f in users uids groups gids ingroups unknown; do sed -i '301,$d' "$D/$f.txt"; done
fi

. tests/lib/common.sh
. tests/lib/slapd.sh
. bench/live.sh
SLAPD_BASE="dc=bench,dc=test"
SLAPD_ADMIN="cn=admin,$SLAPD_BASE"
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
meta() { printf '%s\n' "$@" >>"$META"; }
# conf TITLE FILE: a configuration file in the report, secrets masked
conf() {
	meta "" "[$1]"
	sed -E 's/^(bindpw|ldap_default_authtok)([ =]+).*/\1\2(masked)/' "$2" | grep -v '^$' | sed 's/^/    /' >>"$META"
}

log "slapd: loading $users users and $groups groups"
# 1,000,000 users need more than the 1 GB map slapd.sh gives by default.  With the syncprov
# overlay, as a directory that streams its changes is set up (dird then follows the stream).
SLAPD_SYNCPROV=1 SLAPD_MAXSIZE=$(( (users / 100000 + 1) * 1073741824 )) slapd_start "$WORK/slapd" "$D/data.ldif" >/dev/null || exit 1
# Every peer pages; no server limit makes one of them look better than it is.
slapd_stop
sed -i 's/^sizelimit.*/sizelimit unlimited/' "$SLAPD_DIR/slapd.conf"
slapd_resume || exit 1
meta "slapd: $(dpkg-query -W -f '${Version}' slapd), mdb with the syncprov overlay (session log 1000), on this namespace's loopback, sizelimit unlimited"

# --- measuring ---------------------------------------------------------------------------------
LIBS=$BUILD/nss_dir:$WORK/null
write_nsswitch "$WORK/nsswitch.null+files" "null files" # the floor with a module first
for svc in null dir ldap sss; do write_nsswitch "$WORK/nsswitch.files+$svc" "files $svc"; done
write_nsswitch "$WORK/nsswitch.dir+files" "dir files" # dirctl enable --dir-first
write_nsswitch "$WORK/nsswitch.files" files
export DIR_CONF=$WORK/dir/dird.conf
# run_as PEER CMD...: CMD as the peer is set up.  files: the generated lines after the host's,
# mounted over /etc/passwd and /etc/group; files+SERVICE: an nsswitch.conf naming files and
# then SERVICE, over the host's own /etc/passwd and /etc/group; others: as they are (nss_bench
# then sets the service itself).
run_as() {
	local peer=$1; shift
	case $peer in
	files) in_ns "$WORK/nsswitch.files" --bind "$WORK/files/passwd" /etc/passwd \
		--bind "$WORK/files/group" /etc/group env LD_LIBRARY_PATH="$LIBS" "$@" ;;
	files+* | dir+files | null+files) in_ns "$WORK/nsswitch.$peer" env LD_LIBRARY_PATH="$LIBS" "$@" ;;
	*) env LD_LIBRARY_PATH="$LIBS" "$@" ;;
	esac
}
# nss PEER ARGS...: nss_bench as PEER, bounded; the module alone (--service) but for files+X
nss() {
	local peer=$1 service=(); shift
	case $peer in files+* | dir+files | null+files) ;; *) service=(--service "$peer") ;; esac
	run_as "$peer" timeout "$ROW_BOUND" "$WORK/nss_bench" "$@" "${service[@]}" 2>>"$WORK/checks.log"
}
field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p"; }
csv() { echo "$1" >>"$CSV"; }
# row OPERATION THREADS OP ARGS...: one timed row for every peer in PEERS (or in ROW_PEERS, when
# set: the peers a row means something for).  Other work on a
# shared machine makes a run up to half again slower for seconds or minutes at a time, so the
# peers take turns: three rounds (a peer leaves once its runs took over 3 s), each peer keeping
# its lowest median.  Every answer of every run is checked; a peer with a wrong or missing answer,
# or whose nss_bench did not finish, gets no time.
row() {
	local name=$1 threads=$2; shift 2
	local -A best calls failed rc spent
	local round peer out extra start
	local -a peers
	read -r -a peers <<<"${ROW_PEERS:-${PEERS[*]}}"
	for round in 1 2 3; do
		for peer in "${peers[@]}"; do
			case $name,$peer in enumerate*,*null | enumerate*,null+*) continue ;; esac
			[ "${rc[$peer]:-0}" = 0 ] && [ "${spent[$peer]:-0}" -le 3000 ] || continue
			extra=()
			case $peer in *null | null+*) extra=(--key-only) ;; esac
			[[ " $* " = *" --missing "* ]] && extra=()
			echo "== $peer: $name ($threads threads, round $round)" >>"$WORK/checks.log"
			start=$(date +%s%N)
			out=$(nss "$peer" "$@" "${extra[@]}" --threads "$threads" --budget "$BUDGET")
			rc[$peer]=$?
			spent[$peer]=$(( ${spent[$peer]:-0} + $(ms_since "$start") ))
			[ -n "$(field calls <<<"$out")" ] || { [ "${rc[$peer]}" != 0 ] || rc[$peer]=1; continue; }
			calls[$peer]=$(( ${calls[$peer]:-0} + $(field calls <<<"$out") ))
			failed[$peer]=$(( ${failed[$peer]:-0} + $(field failed <<<"$out") ))
			if [ -z "${best[$peer]:-}" ] || [ "$(field median_ns <<<"$out")" -lt "$(field median_ns <<<"${best[$peer]}")" ]; then
				best[$peer]=$out
			fi
		done
	done
	for peer in "${peers[@]}"; do
		case $name,$peer in enumerate*,*null | enumerate*,null+*) continue ;; esac
		if [ "${rc[$peer]}" = 124 ]; then
			csv "$peer,$name,$threads,,,,$ROW_BOUND,s: did not finish,false"
			log "$peer: $name: did not finish in $ROW_BOUND s"
		elif [ "${rc[$peer]}" != 0 ]; then
			csv "$peer,$name,$threads,,,,${rc[$peer]},failed: exit status,false"
			log "$peer: $name: nss_bench exited with ${rc[$peer]}"
		elif [ "${failed[$peer]}" != 0 ]; then
			csv "$peer,$name,$threads,,,,${failed[$peer]},failed of ${calls[$peer]},false"
			log "$peer: $name: ${failed[$peer]} of ${calls[$peer]} answers wrong or missing (checks.log says how)"
		else
			out=${best[$peer]}
			csv "$peer,$name,$threads,$(field median_ns <<<"$out"),$(field p99_ns <<<"$out"),$(field ops_per_s <<<"$out"),,,true"
		fi
	done
}
# v PEER OPERATION VALUE UNIT: one measured value; vfail PEER OPERATION VALUE UNIT: none
v() { csv "$1,$2,,,,,$3,$4,true"; }
vfail() { csv "$1,$2,,,,,$3,$4,false"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# lookups: the hot lookups, every peer in PEERS in turns.  The floor (null) answers a constant:
# only that it answered the key asked for is checked, and it has no enumeration.  BUDGET ends
# the passes of a slow peer early (nslcd's getgrouplist takes milliseconds).
lookups() {
	local t
	log "hot lookups: ${PEERS[*]}"
	for t in 1 2; do
		row getpwnam "$t" getpwnam --names "$D/users.txt" --warmup --passes 3
		row getpwuid "$t" getpwuid --names "$D/uids.txt" --warmup --passes 3
		row getgrnam "$t" getgrnam --names "$D/groups.txt" --warmup --passes 3
		row getgrgid "$t" getgrgid --names "$D/gids.txt" --warmup --passes 3
		row getgrouplist "$t" getgrouplist --names "$D/ingroups.txt" --warmup --passes 1
	done
	NSS_NULL_MISS=1 row "repeated miss" 1 getpwnam --names "$D/miss.txt" --warmup --passes 1000 --missing
	# root, from the host's /etc/passwd: what `dir` before `files` costs a local user
	ROW_PEERS="files+null files+dir dir+files" row "getpwnam local user" 1 getpwnam \
		--names "$D/local.txt" --warmup --passes 1000
	row "getgrnam big group" 1 getgrnam --names "$D/big.txt" --warmup --passes 30
	row "getgrouplist 5000 groups" 1 getgrouplist --names "$D/wide.txt" --warmup --passes 10
	row "enumerate passwd" 1 enum-passwd --warmup --passes 3 --expect "$users" --min-id "$uid0"
	row "enumerate group" 1 enum-group --warmup --passes 3 --expect "$groups" --min-id "$gid0"
}

# id_wide PEER: id, the program, of the user in 5,000 groups, through an nsswitch.conf naming
# files and the peer; each run's output must name the user and all its groups
id_wide() {
	local peer=$1 as start i bad=0 out
	as=files+$peer
	[ "$peer" = files ] && as=files
	start=$(date +%s%N)
	for i in 1 2 3 4 5; do
		out=$(run_as "$as" timeout "$ROW_BOUND" id wide 2>&1)
		[ "$(sed -n 's/^uid=\([0-9]*\)(wide) .*groups=/\1 /p' <<<"$out" | tr ',' '\n' | wc -l)" = $((wide_groups + 1)) ] ||
			bad=$((bad + 1))
	done
	if [ $bad = 0 ]; then
		v "$peer" "id of the user in 5000 groups" $(( $(ms_since "$start") * 1000000 / 5 )) ns
	else
		vfail "$peer" "id of the user in 5000 groups" $bad "failed of 5"
		log "$peer: id wide: $bad of 5 runs answered wrong: ${out:0:200}"
	fi
}

# cold PEER FLUSH_COMMAND: the first lookups after the peer's cache was emptied, the middle of
# three; each must be right
cold() {
	local peer=$1 flush=$2 i op file line out
	log "$peer: first lookups after a flush"
	for op in getpwnam getgrouplist; do
		file=$D/users.txt
		[ $op = getgrouplist ] && file=$D/ingroups.txt
		local times=() bad=0
		for i in 1 2 3; do
			$flush
			line=$(sed -n "$((i + 10))p" "$file")
			out=$(nss "$peer" $op --names <(echo "$line") --prime root)
			if [ "$(field failed <<<"$out")" = 0 ]; then times+=("$(field first_ns <<<"$out")"); else bad=$((bad + 1)); fi
		done
		if [ $bad = 0 ]; then
			v "$peer" "$op after a flush" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)" ns
		else
			vfail "$peer" "$op after a flush" $bad "failed of 3"
		fi
	done
}

# outage PEER: lookups of new names while slapd is frozen, then while it is gone: the first
# call, and the median of the next four; none may be found
outage() {
	local peer=$1 state out rc
	for state in frozen stopped; do
		log "$peer: new names while slapd is $state"
		printf "$state-$peer-%s\n" a b c d e >"$WORK/new-$peer"
		if [ $state = frozen ]; then kill -STOP "$SLAPD_PID"; else kill -CONT "$SLAPD_PID"; slapd_stop; fi
		out=$(ROW_BOUND=90 nss "$peer" getpwnam --names "$WORK/new-$peer" --prime root --missing)
		rc=$?
		if [ $rc = 124 ]; then
			vfail "$peer" "new name while slapd $state: first call" 90 "s: did not finish"
			vfail "$peer" "new name while slapd $state: next calls" 90 "s: did not finish"
		elif [ $rc != 0 ] || [ "$(field failed <<<"$out")" != 0 ]; then
			vfail "$peer" "new name while slapd $state: first call" "$(field failed <<<"$out")" "failed of 5"
			vfail "$peer" "new name while slapd $state: next calls" "$(field failed <<<"$out")" "failed of 5"
		else
			v "$peer" "new name while slapd $state: first call" "$(field first_ns <<<"$out")" ns
			v "$peer" "new name while slapd $state: next calls" "$(field median_ns <<<"$out")" ns
		fi
	done
	slapd_resume >/dev/null || exit 1
}

# change PEER USER: sets USER's shell in slapd, then asks getent (through files and the peer)
# every 50 ms until the new shell shows, at most CHANGE_WAIT seconds
change() {
	local peer=$1 user=$2 shell=/bin/changed-for-$1 start got
	log "$peer: waiting for a change in the directory (at most $CHANGE_WAIT s)"
	run_as "files+$peer" getent passwd "$user" >/dev/null
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF || exit 1
dn: uid=$user,ou=people,$SLAPD_BASE
changetype: modify
replace: loginShell
loginShell: $shell
LDIF
	start=$(date +%s%N)
	while :; do
		got=$(run_as "files+$peer" getent passwd "$user" | cut -d: -f7)
		if [ "$got" = "$shell" ]; then
			v "$peer" "a change in the directory is visible here after" $(( $(date +%s%N) - start )) ns
			return
		fi
		if [ "$(ms_since "$start")" -ge $((CHANGE_WAIT * 1000)) ]; then
			vfail "$peer" "a change in the directory is visible here after" "$CHANGE_WAIT" "s: not within"
			return
		fi
		sleep 0.05
	done
}

# rss_kb FIELD NAME...: VmHWM or VmRSS of the processes so named, added up
rss_kb() {
	local f=$1 total=0 pid kb name
	shift
	for pid in $(for name in "$@"; do pgrep -x "$name"; done); do
		kb=$(sed -n "s/^$f:[^0-9]*\([0-9]*\).*/\1/p" "/proc/$pid/status" 2>/dev/null)
		total=$((total + ${kb:-0}))
	done
	echo $((total * 1024))
}

# --- setting the peers up -----------------------------------------------------------------------
# All of them serve at once, and take turns in each timed row.
PEERS=(null files+null null+files)
meta "null (the floor): bench/nss_null.c, built with this run; answers a constant at once"
BIG=
[ "$users" -gt "$PEERS_MAX_USERS" ] && BIG=1
[ -n "$BIG" ] && meta "files, nslcd, SSSD: not run above $((PEERS_MAX_USERS - 1)) users"

# nss_files
if [ -z "$BIG" ]; then
	mkdir -p "$WORK/files"
	cat /etc/passwd "$D/passwd" >"$WORK/files/passwd"
	cat /etc/group "$D/group" >"$WORK/files/group"
	meta "files: glibc $(dpkg-query -W -f '${Version}' libc6)'s nss_files, the generated lines after the host's in /etc/passwd and /etc/group"
	v files "cache on disk" "$(( $(stat -c %s "$D/passwd") + $(stat -c %s "$D/group") ))" bytes
	PEERS+=(files)
fi

# dir
mkdir -p "$WORK/dir/cache" "$WORK/dir/run"
printf 'readerpw\n' >"$WORK/dir/bindpw"
chmod 600 "$WORK/dir/bindpw"
cat >"$DIR_CONF" <<CONF
[global]
cache_dir = $WORK/dir/cache
run_dir = $WORK/dir/run
log_level = warning
[domain/bench]
uri = $SLAPD_URI
base_dn = $SLAPD_BASE
bind_dn = cn=reader,ou=system,$SLAPD_BASE
bind_password_file = $WORK/dir/bindpw
page_size = 1000
CONF
chmod 644 "$DIR_CONF"
meta "dir: $(git -C "$TOP" describe --always --dirty), release build; everything not in dird.conf at its default"
conf "dird.conf" "$DIR_CONF"
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")
# dird_launch: dird started, once its socket is there
dird_launch() {
	rm -f "$WORK/dir/run/dird.sock"
	"$BUILD/dird/dird" -f -c "$DIR_CONF" >>"$WORK/dir/dird.log" 2>&1 &
	DIRD=$!
	for _ in $(seq 100); do [ -S "$WORK/dir/run/dird.sock" ] && break; sleep 0.05; done
}
dird_launch
# dir_status: "REFRESHING LAST_REFRESH" from dird, or nothing when it does not answer in 5 s
dir_status() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["refreshing"]), d["last_refresh"])' 2>/dev/null
}
# dir_refresh: a refresh, waited for.  dird may not answer dirctl for seconds while it refreshes
# a million users (dirctl gives up after 5 s): then its status is asked again until the refresh
# it was asked for is over.  With --flush, the cache is emptied first (which starts a refresh).
dir_refresh() {
	local before st
	before=$(dir_status)
	if [ "${1:-}" = --flush ]; then "${CTL[@]}" cache flush >/dev/null || return 1; fi
	"${CTL[@]}" cache refresh >/dev/null 2>&1 && return 0
	for _ in $(seq 3600); do
		st=$(dir_status)
		case $st in
		"0 0" | "") ;;
		"0 ${before#* }") "${CTL[@]}" cache refresh >/dev/null 2>&1 && return 0 ;;
		0\ *) return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}
# status_latency FILE: until FILE is removed, asks dird for its status every 0.2 s; prints the
# slowest answer in ms (5000 when dirctl gave up)
status_latency() {
	local worst=0 t0 ms
	while [ -e "$1" ]; do
		t0=$(date +%s%N)
		"${CTL[@]}" status >/dev/null 2>&1
		ms=$(ms_since "$t0")
		[ "$ms" -gt "$worst" ] && worst=$ms
		sleep 0.2
	done
	echo "$worst"
}
log "dir: first refresh"
dir_refresh || { log "dir: the refresh failed"; tail "$WORK/dir/dird.log" >&2; exit 1; }
log "dir: timing a fill from empty and a full refresh"
start=$(date +%s%N)
dir_refresh --flush || exit 1
v dir "fill the cache from the directory" $(( $(ms_since "$start") * 1000000 )) ns
echo 5 >"/proc/$DIRD/clear_refs" # VmHWM from here on: the refresh's own peak
touch "$WORK/refreshing"
status_latency "$WORK/refreshing" >"$WORK/latency" &
start=$(date +%s%N)
dir_refresh || exit 1
v dir "full refresh (cache already full)" $(( $(ms_since "$start") * 1000000 )) ns
rm "$WORK/refreshing"
wait $!
v dir "slowest answer to dirctl status during that refresh" $(( $(cat "$WORK/latency") * 1000000 )) ns
v dir "daemon peak RSS" "$(rss_kb VmHWM dird)" bytes
v dir "daemon RSS after a refresh" "$(rss_kb VmRSS dird)" bytes
v dir "cache on disk" "$(du -sb "$WORK/dir/cache" | cut -f1)" bytes
PEERS+=(dir files+dir dir+files)

# nslcd
if [ -z "$BIG" ]; then
	log "nslcd: starting"
	mkdir -p /run/nslcd
	chown nslcd:nslcd /run/nslcd
	cat >"$WORK/nslcd.conf" <<CONF
uid nslcd
gid nslcd
uri $SLAPD_URI
base $SLAPD_BASE
binddn cn=reader,ou=system,$SLAPD_BASE
bindpw readerpw
pagesize 1000
bind_timelimit 10
timelimit 10
CONF
	chmod 600 "$WORK/nslcd.conf"
	mount --bind "$WORK/nslcd.conf" /etc/nslcd.conf
	meta "" "ldap (nslcd): nslcd $(dpkg-query -W -f '${Version}' nslcd), libnss-ldapd $(dpkg-query -W -f '${Version}' libnss-ldapd); no cache (nscd not running)"
	conf "nslcd.conf" "$WORK/nslcd.conf"
	# Each daemon of a peer in a session of its own: nslcd and sssd signal their whole process
	# group when they stop, which would otherwise reach this script and bench/run.
	setsid nslcd -n >"$WORK/nslcd.log" 2>&1 &
	for _ in $(seq 100); do [ -S /run/nslcd/socket ] && break; sleep 0.05; done
	PEERS+=(ldap files+ldap)
fi

# SSSD
SSS=
if [ -z "$QUICK" ] && [ -z "$BIG" ]; then
	mkdir -p "$WORK/sss/db" "$WORK/sss/mc" "$WORK/sss/pipes/private" "$WORK/sss/log" "$WORK/sss/pubconf" "$WORK/sss/gpo_cache"
	mount --bind "$WORK/sss" /var/lib/sss
	mount --bind "$WORK/sss/log" /var/log/sssd 2>/dev/null || true
	cat >"$WORK/sssd.conf" <<CONF
[sssd]
services = nss
domains = bench
[nss]
memcache_timeout = 600
[domain/bench]
id_provider = ldap
ldap_uri = $SLAPD_URI
ldap_search_base = $SLAPD_BASE
ldap_default_bind_dn = cn=reader,ou=system,$SLAPD_BASE
ldap_default_authtok = readerpw
ldap_schema = rfc2307
ldap_id_use_start_tls = false
enumerate = true
entry_cache_timeout = 5400
timeout = 300
ldap_enumeration_search_timeout = 300
ldap_search_timeout = 30
CONF
	chmod 600 "$WORK/sssd.conf"
	meta "" "sss (SSSD): sssd $(dpkg-query -W -f '${Version}' sssd-common), libnss-sss $(dpkg-query -W -f '${Version}' libnss-sss)"
	conf "sssd.conf" "$WORK/sssd.conf"
	# Started when its NSS responder takes connections (a lookup before that is "not found").
	sss_start() {
		setsid sssd -i -c "$WORK/sssd.conf" >>"$WORK/sss/sssd.out" 2>&1 &
		SSSD=$!
		for _ in $(seq 200); do
			python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("/var/lib/sss/pipes/nss")' 2>/dev/null && return 0
			sleep 0.1
		done
		log "sssd: not answering 20 s after its start"
	}
	sss_stop() { kill "$SSSD" 2>/dev/null; wait "$SSSD" 2>/dev/null; }
	sss_flush() { sss_stop; rm -rf /var/lib/sss/db/* /var/lib/sss/mc/*; sss_start; }
	log "sssd: starting with an empty cache and timing its enumeration (at most $FILL_BOUND s)"
	start=$(date +%s%N)
	sss_start
	while [ "$(ms_since "$start")" -lt $((FILL_BOUND * 1000)) ]; do
		n=$(ldbsearch -H /var/lib/sss/db/cache_bench.ldb '(objectCategory=user)' dn 2>/dev/null | grep -c '^dn:')
		[ "${n:-0}" -ge "$users" ] && { SSS=1; break; }
		sleep 1
	done
	if [ -n "$SSS" ]; then
		v sss "fill the cache from the directory" $(( $(ms_since "$start") * 1000000 )) ns
		PEERS+=(sss files+sss)
	else
		vfail sss "fill the cache from the directory" "$FILL_BOUND" "s: did not finish"
		log "sssd: its cache held ${n:-0} of $users users after $FILL_BOUND s: no other SSSD rows"
		sss_stop
	fi
fi

# --- measuring them ----------------------------------------------------------------------------
lookups
SERVED=(dir)
[ -z "$BIG" ] && SERVED+=(files ldap)
[ -n "$SSS" ] && SERVED+=(sss)
for peer in "${SERVED[@]}"; do id_wide "$peer"; done
if [ -n "$SSS" ]; then
	v sss "daemon peak RSS" "$(rss_kb VmHWM sssd sssd_be sssd_nss)" bytes
	v sss "daemon RSS after a refresh" "$(rss_kb VmRSS sssd sssd_be sssd_nss)" bytes
	v sss "cache on disk" "$(du -sb /var/lib/sss/db /var/lib/sss/mc | awk '{s += $1} END {print s}')" bytes
fi
[ -z "$BIG" ] && v ldap "daemon peak RSS" "$(rss_kb VmHWM nslcd)" bytes
# Users of their own, none of them looked up after a flush.
change dir u000004
[ -z "$BIG" ] && change ldap u000005
[ -n "$SSS" ] && change sss u000006
# The 100 changes for dir and nslcd only: SSSD caches (entry_cache_timeout), so each would wait
# the whole 30 s to say what its one change above says.
change_latency dir
[ -z "$BIG" ] && change_latency ldap
unknown_names
dird_restart
# The first lookups after a flush come before the outages: after one, a peer may take its time
# to find the directory back (dird retries after 1 s and more, nslcd after 10 s), and that is
# not what these rows measure.  SSSD's comes last: its flush is a restart.
dir_flush() { "${CTL[@]}" cache flush >/dev/null; }
cold dir dir_flush
dir_refresh
[ -z "$BIG" ] && cold ldap true
# SSSD first, while it has been online all along; each peer has slapd frozen and stopped anew.
[ -n "$SSS" ] && outage sss
[ -z "$BIG" ] && outage ldap
outage dir
[ -n "$SSS" ] && cold sss sss_flush
exit 0
