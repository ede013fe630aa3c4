#!/bin/bash
# dirctl enable / disable on sample nsswitch.conf files, and an enabled copy of the host's file
# doing real lookups (in a private mount namespace; the host's file is never touched).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
cleanup() { dird_stop; slapd_stop; rm -rf "$WORK"; }
trap cleanup EXIT
export DIR_CONF=$WORK/dird.conf
write_dird_conf "$DIR_CONF" "ldap://127.0.0.1:1"
mkdir "$WORK/pam"
# run ENABLE|DISABLE TEXT [options]: the file after dirctl ran on TEXT; exit code in RC
run() {
	local what=$1 text=$2; shift 2
	printf '%b' "$text" >"$WORK/ns"
	rm -f "$WORK/ns.dirctl-backup"
	"$BUILD/dirctl/dirctl" "$what" --nsswitch "$WORK/ns" --no-pam "$@" >"$WORK/out" 2>&1
	RC=$?
	cat "$WORK/ns"
}

check_eq "standard Debian lines: dir goes after files" \
	"passwd:         files dir systemd
group:          files dir systemd
shadow:         files" "$(run enable 'passwd:         files systemd\ngroup:          files systemd\nshadow:         files\n')"
check_eq "already enabled: nothing changes" "passwd: files dir
group: files dir" "$(run enable 'passwd: files dir\ngroup: files dir\n')"
check "already enabled: says so and makes no backup" grep -q "already enabled" "$WORK/out"
check_fails "no backup when nothing changed" test -e "$WORK/ns.dirctl-backup"
check_eq "odd spacing and tabs are kept" "passwd:	files dir
group:files dir" "$(run enable 'passwd:\tfiles\ngroup:files\n')"
check_eq "comments stay, on their own lines and at the end of one" "# the host's
passwd: files dir # local first
group: files dir" "$(run enable '# the host'"'"'s\npasswd: files # local first\ngroup: files\n')"
check_eq "missing lines are added (glibc's default is files)" "hosts: files dns
passwd:         files dir
group:          files dir" "$(run enable 'hosts: files dns\n')"
check_eq "compat: dir goes after it" "passwd: compat dir
group: compat dir" "$(run enable 'passwd: compat\ngroup: compat\n')"
check_eq "an initgroups line gets dir too" "passwd: files dir
group: files dir
initgroups: files dir" "$(run enable 'passwd: files\ngroup: files\ninitgroups: files\n')"
check_eq "files' own [action] stays with it" "passwd: files [NOTFOUND=return] dir
group: files dir" "$(run enable 'passwd: files [NOTFOUND=return]\ngroup: files\n')"
check_eq "disable takes dir and its [action] off" "passwd: files systemd
group: files" "$(run disable 'passwd: files dir [UNAVAIL=return] systemd\ngroup: files dir\n')"
printf 'passwd: files\ngroup: files\n' >"$WORK/orig"
run enable "$(cat "$WORK/orig")\n" >/dev/null
run disable "$(cat "$WORK/ns")\n" >/dev/null
check_eq "enable then disable gives the file back" "$(cat "$WORK/orig")" "$(cat "$WORK/ns")"
run enable 'passwd files\ngroup: files\n' >/dev/null
check_eq "a malformed line: exit 1" "1" "$RC"
check "...says which line and why" grep -q "ns:1: 'passwd files' is not 'database: services'" "$WORK/out"
check_eq "...and the file is not rewritten" "passwd files
group: files" "$(cat "$WORK/ns")"
run enable 'passwd: files\npasswd: files ldap\ngroup: files\n' >/dev/null
check "two passwd lines: refused, said" grep -q "a second passwd line" "$WORK/out"
out=$(run enable 'passwd: files\ngroup: files\n' --dry-run)
check_eq "--dry-run changes nothing" "passwd: files
group: files" "$out"
check "--dry-run shows the change" grep -q "+passwd: files dir" "$WORK/out"
run enable 'passwd: files\ngroup: files\n' >/dev/null
check_eq "a backup of the previous file is kept" "passwd: files
group: files" "$(cat "$WORK/ns.dirctl-backup")"

# PAM services: installed, kept when changed by hand, removed when ours
"$BUILD/dirctl/dirctl" enable --nsswitch "$WORK/ns" --pam-dir "$WORK/pam" >/dev/null
check_eq "enable installs the PAM services" "8" "$(ls "$WORK/pam" | wc -l)"
check "they are what pam render writes" diff -r "$WORK/pam" "$HERE/../../etc/pam.d"
echo "# mine" >>"$WORK/pam/truenas"
"$BUILD/dirctl/dirctl" disable --nsswitch "$WORK/ns" --pam-dir "$WORK/pam" >"$WORK/out"
check_eq "disable removes ours and keeps one changed by hand" "truenas" "$(ls "$WORK/pam")"
check "...and says so" grep -q "changed since dirctl wrote it" "$WORK/out"

# The host's own file, enabled, doing lookups (in a private namespace)
python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 --big-group 5 --many-groups 3
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
dird_start || exit 1
dird_wait_refresh || exit 1
cp /etc/nsswitch.conf "$WORK/host-ns"
"$BUILD/dirctl/dirctl" enable --nsswitch "$WORK/host-ns" --no-pam >/dev/null
check_eq "the host's nsswitch.conf, enabled: getent sees directory users" \
	"alice:*:20001:20000:Alice Example:/home/alice:/bin/bash" "$(in_ns "$WORK/host-ns" getent passwd alice)"
check_eq "and local ones first" "root" "$(in_ns "$WORK/host-ns" getent passwd 0 | cut -d: -f1)"
finish
