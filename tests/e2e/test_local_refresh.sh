#!/bin/bash
# With `passwd: dir files`, a local account added under a directory user's name while a full
# refresh runs is `files`'s within about two seconds, as outside a refresh, and stays so when
# the refresh, which read the local accounts at its start, installs its cache.  The refresh is
# kept running by a frozen slapd.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
cleanup() {
	[ -n "${SLAPD_PID:-}" ] && kill -CONT "$SLAPD_PID" 2>/dev/null
	dird_stop; slapd_stop; rm -rf "$WORK"
}
trap cleanup EXIT

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
cp /etc/passwd /etc/group "$WORK/"
chmod 644 "$WORK/passwd" "$WORK/group"
ACCOUNTS=(--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)
export DIR_CONF=$WORK/dird.conf
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
echo "timeout = 60" >>"$DIR_CONF" # the domain's: the frozen slapd holds the refresh, not fails it
write_nsswitch "$WORK/nss-df" "dir files"
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")

uid_of() { in_ns "$WORK/nss-df" "${ACCOUNTS[@]}" getent passwd "$1" | cut -d: -f3; }
status() { "${CTL[@]}" --json status | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# until_eq WANT CMD...: runs CMD until it prints WANT (at most 10 s); prints what it printed last
until_eq() {
	local want=$1 got=; shift
	for _ in $(seq 50); do got=$("$@" 2>/dev/null); [ "$got" = "$want" ] && break; sleep 0.2; done
	printf '%s' "$got"
}

dird_private || exit 1
dird_wait_refresh || exit 1
check_eq "bob is the directory's" "20002" "$(uid_of bob)"
first=$(status last_refresh)

kill -STOP "$SLAPD_PID"
"${CTL[@]}" cache refresh >/dev/null 2>&1 &
REFRESH=$!
check_eq "a refresh runs (slapd frozen)" "True" "$(until_eq True status refreshing)"
printf 'bob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' >>"$WORK/passwd"
check_eq "a local bob added during the refresh is files' within 2 s" "4501" "$(until_eq 4501 uid_of bob)"
check_eq "... while the refresh still runs" "True" "$(status refreshing)"

kill -CONT "$SLAPD_PID"
wait "$REFRESH"
dird_wait_refresh || exit 1
check "the refresh was installed" [ "$(status last_refresh)" != "$first" ]
sleep 2 # the main loop's next looks at the files (each second) change nothing
check_eq "after the refresh, bob is still files'" "4501" "$(uid_of bob)"
check_fails "and dir does not answer for bob" in_ns "$WORK/nss-df" "${ACCOUNTS[@]}" \
	getent -s dir passwd bob

finish
