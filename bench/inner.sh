#!/bin/bash
# The body of bench/run, inside its mount, pid and network namespaces (TOP, BUILD, WORK, QUICK
# come from it).  Starts slapd on this namespace's loopback, sets up each peer against it, and
# measures them one after the other with nss_bench; writes $WORK/results.csv, then the report.
set -u
cd "$TOP"
ip link set lo up
# A private /run: sssd's pid file and nslcd's socket are compiled in there.
mount -t tmpfs tmpfs /run
D=$WORK/data
CSV=$WORK/results.csv
echo "peer,operation,threads,median_ns,p99_ns,ops_per_s,value,unit" >"$CSV"
. "$D/counts"

. tests/lib/common.sh
. tests/lib/slapd.sh
SLAPD_BASE="dc=bench,dc=test"
SLAPD_ADMIN="cn=admin,$SLAPD_BASE"
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "slapd: loading $users users and $groups groups"
slapd_start "$WORK/slapd" "$D/data.ldif" >/dev/null || exit 1
# Every peer pages; no server limit makes one of them look better than it is.
slapd_stop
sed -i 's/^sizelimit.*/sizelimit unlimited/' "$SLAPD_DIR/slapd.conf"
slapd_resume || exit 1

# --- measuring ---------------------------------------------------------------------------------
# bench PEER SERVICE OP [nss_bench args...]: runs nss_bench as PEER; prints its line
bench() {
	local peer=$1 service=$2; shift 2
	if [ "$peer" = files ]; then
		unshare -m --propagation private sh -c 'mount --bind "$0" /etc/passwd && mount --bind "$1" /etc/group && shift && exec "$@"' \
			"$WORK/files/passwd" "$WORK/files/group" "$WORK/nss_bench" "$service" "$@"
	else
		LD_LIBRARY_PATH=$BUILD/nss_dir DIR_CONF=$WORK/dir/dird.conf timeout 90 "$WORK/nss_bench" "$service" "$@"
	fi
}
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
# m PEER SERVICE OPERATION THREADS OP ARGS...: one timed row
# A row whose lookups found nothing (or, for a miss, found something) measured nothing real: it
# is left out, and said so.
m() {
	local peer=$1 service=$2 name=$3 threads=$4; shift 4
	local out found
	out=$(bench "$peer" "$service" "$@" --threads "$threads")
	found=$(field found <<<"$out")
	local expected=some
	[ "$name" = "repeated miss" ] && expected=none
	if { [ $expected = none ] && [ "${found:-1}" != 0 ]; } || { [ $expected = some ] && [ "${found:-0}" = 0 ]; }; then
		log "$peer: $name ($threads threads): found=${found:-?}, expected $expected: left out"
		return
	fi
	echo "$peer,$name,$threads,$(field median_ns <<<"$out"),$(field p99_ns <<<"$out"),$(field ops_per_s <<<"$out"),," >>"$CSV"
}
# v PEER OPERATION VALUE UNIT: one measured value
v() { echo "$1,$2,,,,,$3,$4" >>"$CSV"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

hot() {
	local peer=$1 service=$2 passes=${3:-3}
	log "$peer: hot lookups"
	for t in 1 2; do
		m "$peer" "$service" getpwnam "$t" getpwnam --names "$D/users.txt" --warmup --passes "$passes"
		m "$peer" "$service" getpwuid "$t" getpwuid --names "$D/uids.txt" --warmup --passes "$passes"
		m "$peer" "$service" getgrnam "$t" getgrnam --names "$D/groups.txt" --warmup --passes "$passes"
		m "$peer" "$service" getgrgid "$t" getgrgid --names "$D/gids.txt" --warmup --passes "$passes"
		m "$peer" "$service" getgrouplist "$t" getgrouplist --names "$D/users.txt" --warmup --passes 1
	done
	m "$peer" "$service" "repeated miss" 1 getpwnam --names "$D/miss.txt" --warmup --passes 1000
	m "$peer" "$service" "getgrnam big group" 1 getgrnam --names "$D/big.txt" --warmup --passes 30
	m "$peer" "$service" "getgrouplist 5000 groups" 1 getgrouplist --names "$D/wide.txt" --warmup --passes 10
	m "$peer" "$service" "enumerate passwd" 1 enum-passwd --warmup --passes 3
	m "$peer" "$service" "enumerate group" 1 enum-group --warmup --passes 3
	# id, the program, of the user in 5,000 groups, through an nsswitch.conf naming the peer.
	write_nsswitch "$WORK/nss-$peer" "$service"
	local start
	start=$(date +%s%N)
	for _ in 1 2 3 4 5; do
		if [ "$peer" = files ]; then
			unshare -m --propagation private sh -c 'mount --bind "$0" /etc/nsswitch.conf && mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && exec id wide' \
				"$WORK/nss-$peer" "$WORK/files/passwd" "$WORK/files/group" >/dev/null
		else
			in_ns "$WORK/nss-$peer" id wide >/dev/null
		fi
	done
	v "$peer" "id of the user in 5000 groups" $(( $(ms_since "$start") * 1000000 / 5 )) ns
}

# cold PEER SERVICE FLUSH_COMMAND: the first lookups after the peer's cache was emptied
cold() {
	local peer=$1 service=$2 flush=$3 i
	log "$peer: first lookups after a flush"
	local pw=() gl=() out
	for i in 1 2 3; do
		$flush
		out=$(bench "$peer" "$service" getpwnam --names <(sed -n "$((i + 10))p" "$D/users.txt") --prime root)
		[ "$(field found <<<"$out")" = 1 ] && pw+=("$(field first_ns <<<"$out")")
		out=$(bench "$peer" "$service" getgrouplist --names <(sed -n "$((i + 20))p" "$D/users.txt") --prime root)
		[ "$(field found <<<"$out")" = 1 ] && gl+=("$(field first_ns <<<"$out")")
	done
	# The middle of three; a lookup that found nothing is not a figure.
	[ ${#pw[@]} -gt 0 ] && v "$peer" "getpwnam after a flush" "$(printf '%s\n' "${pw[@]}" | sort -n | sed -n "$(( (${#pw[@]} + 1) / 2 ))p")" ns
	[ ${#gl[@]} -gt 0 ] && v "$peer" "getgrouplist after a flush" "$(printf '%s\n' "${gl[@]}" | sort -n | sed -n "$(( (${#gl[@]} + 1) / 2 ))p")" ns
	[ ${#pw[@]} -eq 3 ] && [ ${#gl[@]} -eq 3 ] || log "$peer: some lookups after a flush found nothing: left out"
}

# outage PEER SERVICE: lookups of new names while slapd is frozen, then while it is gone: the
# first call, and the median of the next ones (a call that hangs counts as 90 s)
outage() {
	local peer=$1 service=$2 state out
	for state in frozen stopped; do
		log "$peer: new names while slapd is $state"
		printf "$state-$peer-%s\n" a b c d e >"$WORK/new-$peer"
		if [ $state = frozen ]; then kill -STOP "$SLAPD_PID"; else kill -CONT "$SLAPD_PID"; slapd_stop; fi
		out=$(bench "$peer" "$service" getpwnam --names "$WORK/new-$peer" --prime root 2>/dev/null) ||
			out="first_ns=90000000000 median_ns=90000000000"
		v "$peer" "new name while slapd $state: first call" "$(field first_ns <<<"$out")" ns
		v "$peer" "new name while slapd $state: next calls" "$(field median_ns <<<"$out")" ns
	done
	slapd_resume >/dev/null || exit 1
}

rss_kb() { # peak RSS of the processes named
	local total=0 pid kb name
	for pid in $(for name in "$@"; do pgrep -x "$name"; done); do
		kb=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# --- nss_files ---------------------------------------------------------------------------------
mkdir -p "$WORK/files"
cat /etc/passwd "$D/passwd" >"$WORK/files/passwd"
cat /etc/group "$D/group" >"$WORK/files/group"
hot files files 1
v files "cache on disk" "$(( $(stat -c %s "$D/passwd") + $(stat -c %s "$D/group") ))" bytes

# --- dir ---------------------------------------------------------------------------------------
mkdir -p "$WORK/dir/cache" "$WORK/dir/run"
printf 'readerpw\n' >"$WORK/dir/bindpw"
chmod 600 "$WORK/dir/bindpw"
cat >"$WORK/dir/dird.conf" <<CONF
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
chmod 644 "$WORK/dir/dird.conf"
export DIR_CONF=$WORK/dir/dird.conf
"$BUILD/dird/dird" -f -c "$DIR_CONF" >"$WORK/dir/dird.log" 2>&1 &
DIRD=$!
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")
for _ in $(seq 100); do [ -S "$WORK/dir/run/dird.sock" ] && break; sleep 0.05; done
"${CTL[@]}" cache refresh >/dev/null
log "dir: timing a full refresh"
"${CTL[@]}" cache flush >/dev/null
start=$(date +%s%N)
"${CTL[@]}" cache refresh >/dev/null
v dir "fill the cache from the directory" $(( $(ms_since "$start") * 1000000 )) ns
hot dir dir
dir_flush() { "${CTL[@]}" cache flush >/dev/null; }
cold dir dir dir_flush
"${CTL[@]}" cache refresh >/dev/null
v dir "daemon peak RSS" "$(( $(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$DIRD/status") * 1024 ))" bytes
v dir "cache on disk" "$(du -sb "$WORK/dir/cache" | cut -f1)" bytes
outage dir dir
kill "$DIRD"
wait "$DIRD" 2>/dev/null

# --- nslcd -------------------------------------------------------------------------------------
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
# Each daemon of a peer in a session of its own: nslcd and sssd signal their whole process group
# when they stop, which would otherwise reach this script and bench/run.
setsid nslcd -n >"$WORK/nslcd.log" 2>&1 &
NSLCD=$!
for _ in $(seq 100); do [ -S /run/nslcd/socket ] && break; sleep 0.05; done
hot nslcd ldap 1
cold nslcd ldap true
v nslcd "daemon peak RSS" "$(( $(rss_kb nslcd) * 1024 ))" bytes
outage nslcd ldap
kill "$NSLCD"

# --- SSSD --------------------------------------------------------------------------------------
if [ -z "$QUICK" ]; then
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
	sss_start() {
		setsid sssd -i -c "$WORK/sssd.conf" >>"$WORK/sss/sssd.out" 2>&1 &
		SSSD=$!
		for _ in $(seq 200); do
			[ -S /var/lib/sss/pipes/nss ] && "$WORK/nss_bench" sss getpwnam --names "$D/miss.txt" >/dev/null 2>&1 && return 0
			sleep 0.1
		done
	}
	sss_stop() { kill "$SSSD" 2>/dev/null; wait "$SSSD" 2>/dev/null; }
	sss_flush() { sss_stop; rm -rf /var/lib/sss/db/* /var/lib/sss/mc/*; sss_start; }
	log "sssd: starting with an empty cache and timing its enumeration (minutes)"
	start=$(date +%s%N)
	sss_start
	for _ in $(seq 1200); do
		n=$(ldbsearch -H /var/lib/sss/db/cache_bench.ldb '(objectCategory=user)' dn 2>/dev/null | grep -c '^dn:')
		[ "${n:-0}" -ge "$users" ] && break
		sleep 1
	done
	v sssd "fill the cache from the directory" $(( $(ms_since "$start") * 1000000 )) ns
	hot sssd sss
	v sssd "daemon peak RSS" "$(( $(rss_kb sssd sssd_be sssd_nss) * 1024 ))" bytes
	v sssd "cache on disk" "$(du -sb /var/lib/sss/db /var/lib/sss/mc | awk '{s += $1} END {print s}')" bytes
	cold sssd sss sss_flush
	outage sssd sss
	sss_stop
fi

log "report"
python3 "$TOP/bench/report.py" "$CSV" "$TOP/bench/results"
