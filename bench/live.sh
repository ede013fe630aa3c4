# The rows of issue 18's targets, sourced by bench/inner.sh (which defines row, nss, run_as, v,
# vfail, csv, field, ms_since, CTL, DIRD and the lab): a live directory (slapd with syncprov,
# dird's change stream), unknown names while dird is in sync, and dird restarted.

# dir_in_sync: dird says its domain is in sync (its change stream persists and the server
# answers); what its stream is doing goes to $WORK/stream.log when it changes
dir_in_sync() {
	local st
	st=$("${CTL[@]}" --json status 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin); s = d["domains"][0]
print(int(s["in_sync"]), "refreshing" if d["refreshing"] else "", s["changes_state"])' 2>/dev/null)
	[ "$st" = "$(tail -n1 "$WORK/stream.state" 2>/dev/null)" ] ||
		{ echo "$st" >"$WORK/stream.state"; echo "$(date +%T.%N | cut -c1-12) $st" >>"$WORK/stream.log"; }
	[ "${st%% *}" = 1 ]
}
# dir_full_syncs: how many whole reads dird's change stream made since dird started
dir_full_syncs() {
	"${CTL[@]}" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["full_syncs"])' 2>/dev/null
}
# dir_wait_in_sync SECONDS: until dird is in sync, asked every 50 ms, at most SECONDS
dir_wait_in_sync() {
	local start
	start=$(date +%s%N)
	until dir_in_sync; do
		[ "$(ms_since "$start")" -lt $(($1 * 1000)) ] || return 1
		sleep 0.05
	done
}

# change_latency PEER: CHANGES changes in slapd (bench/change_latency.py: modify, add, delete, a
# membership, in turns), each timed from ldapmodify's return to getpwnam, getgrouplist and
# getgrnam through nsswitch.conf `files PEER` showing it: the median and the p99
change_latency() {
	local peer=$1 out failed
	log "$peer: $CHANGES changes in the directory, each waited for (at most $CHANGE_WAIT s)"
	echo "== $peer: change latency" >>"$WORK/checks.log"
	out=$(run_as "files+$peer" python3 bench/change_latency.py "$SLAPD_URI" "$SLAPD_ADMIN" \
		"$SLAPD_ADMIN_PW" "$SLAPD_BASE" "$CHANGES" $((users - 1)) $((groups - wide_groups)) "$CHANGE_WAIT" 2>>"$WORK/checks.log")
	if [ -z "$(field median_ns <<<"$out")" ]; then
		failed=$(field failed <<<"$out")
		vfail "$peer" "$CHANGES changes visible here after: p50" "${failed:-$CHANGES}" "failed of $CHANGES"
		vfail "$peer" "$CHANGES changes visible here after: p99" "${failed:-$CHANGES}" "failed of $CHANGES"
		log "$peer: change latency: $out (checks.log says how)"
		return
	fi
	v "$peer" "$CHANGES changes visible here after: p50" "$(field median_ns <<<"$out")" ns
	v "$peer" "$CHANGES changes visible here after: p99" "$(field p99_ns <<<"$out")" ns
}

# syscalls PEER OPERATION FILE ARGS...: the system calls per getpwnam of FILE's keys, counted by
# strace -c -f: a run of 11 passes less a run of 1, over 10 passes (what the process does
# besides the lookups cancels out).  brk is not counted: nss_bench's own memory for 11 passes'
# timings grows by it.
syscalls() {
	local peer=$1 op=$2 file=$3 p n total=() ok=1
	shift 3
	n=$(wc -l <"$file")
	for p in 1 11; do
		run_as "$peer" strace -f -c -e 'trace=!brk' -o "$WORK/strace.$p" "$WORK/nss_bench" getpwnam --names "$file" \
			--passes "$p" --service "$peer" "$@" >"$WORK/strace.out" 2>>"$WORK/checks.log" || ok=
		[ "$(field failed <"$WORK/strace.out")" = 0 ] || ok=
		total+=("$(awk '$NF == "total" {print $4}' "$WORK/strace.$p")")
	done
	if [ -n "$ok" ] && [ -n "${total[0]}" ] && [ -n "${total[1]}" ]; then
		v "$peer" "$op" "$(python3 -c "print(round((${total[1]} - ${total[0]}) / (10 * $n), 3))")" calls
	else
		vfail "$peer" "$op" 1 "failed of 1"
	fi
}

# unknown_names: getpwnam of 1,000 names nobody has (300 with --quick), each once per pass,
# while dird is in sync, then with slapd frozen; and the system calls they cost dir and the
# floor.  dir's hit (getpwnam) is in the same table: the target is at most twice it.
unknown_names() {
	log "unknown names while dird is in sync, then with slapd frozen"
	dir_wait_in_sync 30 || log "dir: not in sync 30 s after the changes (the rows say what that costs)"
	local peers="null dir"
	[ -z "$BIG" ] && peers="$peers files+null files+dir"
	NSS_NULL_MISS=1 ROW_PEERS=$peers row "unknown names while in sync" 1 getpwnam \
		--names "$D/unknown.txt" --warmup --passes 3 --missing
	for peer in null dir; do
		NSS_NULL_MISS=1 syscalls "$peer" "system calls per unknown name while in sync" \
			"$D/unknown.txt" --missing
	done
	syscalls dir "system calls per hit (getpwnam)" "$D/users.txt"
	kill -STOP "$SLAPD_PID"
	NSS_NULL_MISS=1 ROW_PEERS="null dir" row "unknown names while slapd frozen" 1 getpwnam \
		--names "$D/unknown.txt" --warmup --passes 3 --missing
	kill -CONT "$SLAPD_PID"
}

# dird_restart: dird stopped (SIGTERM) and started again with its cache, after a change made
# while it was down: the time from its start until it is in sync again, whether its stream read
# everything again (full_syncs), and the change must then be seen
dird_restart() {
	local start full shell=/bin/changed-while-down got
	log "dir: restarted, until in sync again"
	kill -TERM "$DIRD"
	wait "$DIRD" 2>/dev/null
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF || exit 1
dn: uid=u000008,ou=people,$SLAPD_BASE
changetype: modify
replace: loginShell
loginShell: $shell
LDIF
	echo "$(date +%T.%N | cut -c1-12) dird restarted" >>"$WORK/stream.log"
	start=$(date +%s%N)
	dird_launch
	if ! dir_wait_in_sync 120; then
		vfail dir "dird restarted: in sync again after" 120 "s: not within"
		log "dir: not in sync 120 s after a restart: $("${CTL[@]}" status 2>&1 | tr '\n' ' ')"
		return
	fi
	v dir "dird restarted: in sync again after" $(( $(date +%s%N) - start )) ns
	full=$(dir_full_syncs)
	got=$(run_as files+dir getent passwd u000008 | cut -d: -f7)
	if [ "$got" != "$shell" ]; then
		vfail dir "dird restarted: whole reads of the directory" 1 "failed of 1"
		log "dir: in sync after a restart, but u000008's shell is '$got', not the change made while it was down"
	elif [ -n "$full" ]; then
		v dir "dird restarted: whole reads of the directory" "$full" "reads"
	else
		vfail dir "dird restarted: whole reads of the directory" 1 "failed of 1"
	fi
}
