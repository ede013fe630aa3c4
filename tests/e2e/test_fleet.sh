#!/bin/bash
# A fleet: FLEET_HOSTS (default 20) dird instances, each a host of its own (tests/lib/fleet.sh), against
# two slapd providers replicating each other (multi-provider syncrepl, tests/lib/slapd_pair.sh),
# both in every instance's uris.  In sync and idle, the providers use next to no CPU and nobody
# reads anything whole; a write on either provider reaches every instance's getent; provider 1
# killed, every instance goes on from provider 2 from its stored position (no full read), and
# writes still arrive; provider 1 back, nothing breaks.  The directory replicates: dird adds no
# engine of its own.  Bounds are wide (they prove nothing hangs); the times are printed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start fleet slapd_pair
N=${FLEET_HOSTS:-20}
P=ou=people,dc=example,dc=test

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 300 --big-group 10 --many-groups 3
# Syncrepl checks syntax where slapadd -q does not: one refused value (the generated UTF-8 gecos
# in an IA5 attribute) would stop a replication between the providers at that entry.
sed -i '/^gecos:: /d' "$WORK/data/data.ldif"
slapd_pair_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
P1=${PROVIDER_URI[1]}
P2=${PROVIDER_URI[2]}
t0=$(now_ms)
fleet_start "$N" "$P1 $P2" || exit 1

all_in_sync() { [ "$(fleet_count in_sync True)" = "$N" ]; }
wait_all_in_sync() { # SECONDS
	for _ in $(seq $(($1 * 2))); do
		all_in_sync && return 0
		sleep 0.5
	done
	return 1
}
full_reads() { fleet_field full_syncs | awk '{ n += $1 } END { print n }'; }
# shell_is USER SHELL I: host I's getent shows USER with SHELL
shell_is() { fleet_getent "$3" passwd "$1" | grep -q ":$2\$"; }
set_shell() { # PROVIDER USER SHELL
	printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: loginShell\nloginShell: %s\n' "$2" "$P" "$3" |
		provider_modify "$1"
}
# reaches_all WHAT PROVIDER USER SHELL: the write, then every host's getent sees it
reaches_all() {
	set_shell "$2" "$3" "$4"
	if fleet_wait 20 shell_is "$3" "$4"; then
		ok "$1 reaches all $N within 20 s (the last after $FLEET_LAST_MS ms)"
	else
		not_ok "$1 reaches all $N within 20 s" "not seen on hosts$FLEET_LEFT; the providers have: $(
			for n in 1 2; do ldapsearch -x -LLL -H "${PROVIDER_URI[$n]}" -b "uid=$3,$P" -s base loginShell | grep ^loginShell; done)"
	fi
}

if wait_all_in_sync 90; then
	ok "all $N instances are in sync ($(($(now_ms) - t0)) ms after the first started)"
else
	not_ok "all $N instances are in sync" "$(fleet_field changes_state | sort | uniq -c)"
fi
check_eq "all $N stream from provider 1, the first of their uris" "$(fleet_count server "$P1")" "$N"
n=$(fleet_getent "$N" passwd | grep -c '^u00')
check_eq "host $N serves all 300 generated users" "$n" 300

# (a) Idle: the providers' CPU over 30 s, and no whole read anywhere.
full0=$(full_reads)
c1=$(cpu_ticks "${PROVIDER_PID[1]}")
c2=$(cpu_ticks "${PROVIDER_PID[2]}")
sleep 30
d1=$(($(cpu_ticks "${PROVIDER_PID[1]}") - c1))
d2=$(($(cpu_ticks "${PROVIDER_PID[2]}") - c2))
hz=$(getconf CLK_TCK)
echo "# dird RSS in sync, KiB: $(for pid in "${FLEET_PIDS[@]}"; do awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; done |
	sort -n | sed -n '1p;$p' | paste -sd' ' | sed 's/ / to /')"
echo "# idle 30 s: provider 1 used $d1 ticks, provider 2 $d2 (1/$hz s each; load: $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$d1" -le $((hz * 3 / 10)) ] && [ "$d2" -le $((hz * 3 / 10)) ] &&
	ok "idle and in sync, each provider uses under 1% of a core over 30 s ($d1 and $d2 ticks)" ||
	not_ok "idle and in sync, each provider uses under 1% of a core over 30 s" "$d1 and $d2 ticks"
check_eq "no instance read anything whole while idle (full_syncs)" "$(full_reads)" "$full0"
all_in_sync && ok "all $N are still in sync" || not_ok "all $N are still in sync" "$(fleet_field changes_state | sort | uniq -c)"

# (b) A write on either provider reaches every host.
reaches_all "a write on provider 1" 1 alice /bin/zsh
reaches_all "a write on provider 2" 2 carol /bin/ksh

# (c) Provider 1 killed: every instance goes on from provider 2, from its stored position.  A
# stream that saw no change (the groups') learns the other provider's CSN from a newCookie
# message, stored within a second or so: a position without it makes provider 2 answer with a
# present phase.  The kill comes once the fleet has been quiet for a moment, as a failover would.
sleep 3
provider_kill 1
t0=$(now_ms)
on_p2() { [ "$(fleet_count server "$P2")" = "$N" ] && all_in_sync; }
for _ in $(seq 60); do on_p2 && break; sleep 0.5; done
if on_p2; then
	ok "provider 1 killed: all $N are in sync on provider 2 ($(($(now_ms) - t0)) ms)"
else
	not_ok "provider 1 killed: all $N are in sync on provider 2" \
		"$(fleet_field server | sort | uniq -c); $(fleet_field changes_state | sort | uniq -c)"
fi
check_eq "provider 2 took every stored position: nothing was read whole (full_syncs)" "$(full_reads)" "$full0"
# Provider 2 had every change the stored positions name: it sends what came since, or nothing,
# rather than a present phase of every entry.
check_eq "no stream resumed through a present phase" 0 \
	"$(cat "$WORK"/host*/dird.log | grep -c "resumed through a present phase")"
reaches_all "with provider 1 down, a write on provider 2" 2 alice /bin/dash

# (d) Provider 1 back: it catches up from provider 2, and writes on it reach every host.
provider_resume 1 || exit 1
p1_has() { ldapsearch -x -LLL -H "$P1" -b "uid=alice,$P" -s base loginShell | grep -q "^loginShell: /bin/dash$"; }
for _ in $(seq 100); do p1_has && break; sleep 0.1; done
check "provider 1 back has the write made while it was down" p1_has
reaches_all "provider 1 back, a write on it" 1 carol /bin/sh
check_eq "nothing was read whole since the first sync (full_syncs)" "$(full_reads)" "$full0"
all_in_sync && ok "all $N are in sync" || not_ok "all $N are in sync" "$(fleet_field changes_state | sort | uniq -c)"
check_eq "no instance logged an error" "$(cat "$WORK"/host*/dird.log | grep -ci 'error\|refused the stored')" 0
fleet_stop
check_eq "all $N exit cleanly (under the sanitizers: without a report)" 0 "$FLEET_FAILED_EXITS"

finish
