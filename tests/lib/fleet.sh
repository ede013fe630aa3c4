# A fleet of dird instances on one machine, each a "host" of its own: $WORK/hostI holds its
# dird.conf, cache_dir, run_dir and log, and getent reaches it through libnss_dir with
# DIR_CONF naming that dird.conf (every path the modules and dird use is set there).  They share
# loopback: nothing in dird or in RFC 4533 depends on a client's address (slapd tells persistent
# searches apart by their connection), so separate network namespaces would only add setup.
# Needs common.sh.
#   fleet_start N URIS      N dird serving domain "example" from URIS (space-separated)
#   fleet_field FIELD       each host's first domain's FIELD of dirctl status --json, a line each
#   fleet_count FIELD VALUE how many hosts have that value
#   fleet_getent I ARGS...  getent ARGS on host I ($WORK/nss names "files dir")
#   fleet_wait SECONDS CMD  until CMD I succeeds for every host I; FLEET_LAST_MS: when the last did
#   fleet_stop              FLEET_FAILED_EXITS: how many did not exit 0
FLEET_N=0
FLEET_PIDS=()

fleet_start() {
	local n=$1 uris=$2 i h
	write_nsswitch "$WORK/nss" "files dir"
	for i in $(seq "$n"); do
		h=$WORK/host$i
		mkdir -p "$h"
		WORK=$h write_dird_conf "$h/dird.conf" "$uris"
		WORK=$h DIR_CONF=$h/dird.conf dird_start || return 1
		FLEET_PIDS[$i]=$DIRD_PID
		DIRD_PID=
		FLEET_N=$i
	done
}

fleet_field() {
	local i
	for i in $(seq "$FLEET_N"); do
		"$BUILD/dirctl/dirctl" -c "$WORK/host$i/dird.conf" --json status >"$WORK/host$i/status.json" 2>/dev/null
	done
	python3 - "$1" "$WORK" "$FLEET_N" <<'PY'
import json, sys
field, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, n + 1):
    try:
        print(json.load(open(f"{work}/host{i}/status.json"))["domains"][0][field])
    except (OSError, ValueError, KeyError, IndexError):
        print("?")
PY
}

fleet_count() {
	fleet_field "$1" | grep -cxF -- "$2"
}

fleet_getent() {
	local i=$1
	shift
	DIR_CONF=$WORK/host$i/dird.conf in_ns "$WORK/nss" getent "$@"
}

fleet_wait() {
	local seconds=$1 i t0 left
	shift
	t0=$(now_ms)
	left=$(seq "$FLEET_N")
	while :; do
		local still=
		for i in $left; do
			"$@" "$i" >/dev/null 2>&1 || still="$still $i"
		done
		left=$still
		FLEET_LAST_MS=$(($(now_ms) - t0))
		[ -n "$left" ] || return 0
		[ "$FLEET_LAST_MS" -lt $((seconds * 1000)) ] || break
		sleep 0.1
	done
	FLEET_LEFT=$left
	return 1
}

fleet_stop() {
	local i
	FLEET_FAILED_EXITS=0
	for i in "${!FLEET_PIDS[@]}"; do
		kill "${FLEET_PIDS[$i]}" 2>/dev/null
		wait "${FLEET_PIDS[$i]}" 2>/dev/null || FLEET_FAILED_EXITS=$((FLEET_FAILED_EXITS + 1))
	done
	FLEET_PIDS=()
}

# cpu_ticks PID: the user and system time PID has used, in clock ticks (/proc/PID/stat)
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
