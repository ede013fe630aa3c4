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
check "...says which line and why" grep -q "ns:1: 'passwd files': not 'database: services'" "$WORK/out"
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

# Action lists as glibc reads them, in every spacing it accepts: a service and its [...] are one
# unit.  Each result is read by glibc itself (getent in a private mount namespace): root, id root
# and localhost must still resolve.
glibc_resolves() {
	in_ns "$1" getent passwd root >/dev/null && in_ns "$1" id root >/dev/null &&
		in_ns "$1" getent hosts localhost >/dev/null
}
while IFS='|' read -r name before after back; do
	enabled=$(run enable "passwd: files\ngroup: $before\nhosts: files dns\n" | sed -n 2p)
	check_eq "enable, $name" "$(printf 'group: %b' "$after")" "$enabled"
	check "...glibc reads the result: root, id root and localhost resolve" glibc_resolves "$WORK/ns"
	disabled=$(run disable "$(cat "$WORK/ns")\n" | sed -n 2p)
	check_eq "...disable takes dir off again" "$(printf 'group: %b' "${back:-$before}")" "$disabled"
	check "...and glibc reads that too" glibc_resolves "$WORK/ns"
done <<'CASES'
several statuses|files [NOTFOUND=return UNAVAIL=continue] systemd|files [NOTFOUND=return UNAVAIL=continue] dir systemd
spaces inside the brackets|files [ SUCCESS=merge ] systemd|files [ SUCCESS=merge ] dir systemd
spaces around =|files [ NOTFOUND = return ] systemd|files [ NOTFOUND = return ] dir systemd
no space before [|files[NOTFOUND=return] systemd|files[NOTFOUND=return] dir systemd
no space after ]|files [NOTFOUND=return]systemd|files [NOTFOUND=return] dir systemd|files [NOTFOUND=return] systemd
negation and lower case|files [!success=continue notfound=return] systemd|files [!success=continue notfound=return] dir systemd
tabs|files\t[NOTFOUND=return\tUNAVAIL=continue]\tsystemd|files\t[NOTFOUND=return\tUNAVAIL=continue] dir\tsystemd|files\t[NOTFOUND=return\tUNAVAIL=continue] systemd
CASES
check_eq "disable takes dir's own action list, in any spacing, with it" \
	"passwd: files [NOTFOUND=return] systemd" \
	"$(run disable 'passwd: files [NOTFOUND=return] dir [ UNAVAIL = return  TRYAGAIN=continue ] systemd\ngroup: files\n' | head -1)"
check_eq "...and when dir is last and glued to it" "passwd: files[NOTFOUND=return]" \
	"$(run disable 'passwd: files[NOTFOUND=return]dir[NOTFOUND=return]\ngroup: files\n' | head -1)"
run enable 'passwd: files [NOTFOUND=return dir] systemd\ngroup: files\n' >/dev/null
check_eq "an action list glibc rejects: exit 1" "1" "$RC"
check "...says which line and why" grep -q "ns:1: .*an action list glibc rejects" "$WORK/out"
check_eq "...and the file is not rewritten" "passwd: files [NOTFOUND=return dir] systemd" "$(head -1 "$WORK/ns")"
run disable 'passwd: dir\ngroup: files dir\n' >/dev/null
check_eq "disable where dir is the only service: refused (glibc would find no one)" "1 passwd: dir" \
	"$RC $(head -1 "$WORK/ns")"
run enable 'passwd: files\ngroup: files\nhosts: files [UNAVAIL=rethink] dns\n' >/dev/null
check_eq "a line dirctl does not edit but glibc rejects: glibc's own check refuses the file" "1" "$RC"
check "...says glibc rejects it" grep -q "refused: glibc, reading it as /etc/nsswitch.conf, finds no uid 0" "$WORK/out"
check_eq "...and the file is not rewritten" "passwd: files" "$(head -1 "$WORK/ns")"
run enable 'passwd: files [SUCCESS=merge]\ngroup: files\n' >/dev/null
check_eq "passwd with merge (glibc then finds no one): refused by glibc's check" "1" "$RC"
check_eq "...nor any temporary file left" "" "$(ls "$WORK" | grep 'ns.tmp')"
printf 'passwd: files\ngroup: files\n' >"$WORK/target"
ln -sf "$WORK/target" "$WORK/link"
"$BUILD/dirctl/dirctl" enable --nsswitch "$WORK/link" --no-pam >/dev/null 2>&1
check_eq "a symlinked nsswitch.conf: its target is changed, the link stays" "passwd: files dir link" \
	"$(head -1 "$WORK/target") $(test -L "$WORK/link" && echo link)"

# PAM services.  dirctl runs where the host's module folder also holds the pam_dir.so built here
# (pam render refuses a stack naming a module that is not installed), and so does libpam when a
# test drives every service left in a folder, bound over /etc/pam.d (where libpam finds what
# they include): root's account step, which a missing include aborts.  common-* files are only
# included, never services of their own.
write_nsswitch "$WORK/files-ns" files
printf 'passwd: files\ngroup: files\n' >"$WORK/ns"
pam_modules "$WORK/modules"
MODS=(in_ns "$WORK/files-ns" --bind "$WORK/modules" "$PAM_MODULE_DIR")
ctl() { "${MODS[@]}" "$BUILD/dirctl/dirctl" "$@"; }
every_stack_works() {
	local f out bad=
	for f in "$1"/*; do
		case $(basename "$f") in *.dirctl-backup | common-*) continue ;; esac
		out=$("${MODS[@]}" --bind "$1" /etc/pam.d "$BUILD/tests/pam_run" "$(basename "$f")" root account 2>&1 </dev/null)
		[ "$out" = "account: Success" ] || bad="$bad $(basename "$f"): $out;"
	done
	echo "${bad:-all work}"
}
P=$WORK/pam
ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
check_eq "enable installs the PAM services" "8" "$(ls "$P" | wc -l)"
check "they are what pam render writes, and what etc/pam.d ships" diff -r "$P" "$HERE/../../etc/pam.d"
check_eq "...and libpam runs each of them" "all work" "$(every_stack_works "$P")"
ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >"$WORK/out"
check_fails "enable twice changes nothing" grep -q -e install -e replace -e rewrite "$WORK/out"
echo "# mine" >>"$P/truenas"
ctl disable --nsswitch "$WORK/ns" --pam-dir "$P" >"$WORK/out"
check_eq "disable keeps a service changed by hand, and every file it includes" \
	"common-account-dir common-auth-dir common-password-dir common-session-dir truenas" "$(ls "$P" | xargs)"
check "...and says so" grep -q "truenas: changed since dirctl wrote it" "$WORK/out"
check "...and why the common files stay" grep -q "common-auth-dir: kept: $P/truenas includes it" "$WORK/out"
check_eq "...and libpam runs every service left" "all work" "$(every_stack_works "$P")"

# kept_for SERVICE-TEXT NAME FILES: enable, an sshd of the administrator's with that text, disable:
# FILES stay, and libpam runs every service left
kept_for() {
	rm -rf "$P"
	mkdir "$P"
	ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
	printf '%b' "$1" >"$P/sshd"
	ctl disable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
	check_eq "disable keeps what another service includes: $2" "$3 sshd" "$(ls "$P" | xargs)"
	check_eq "...and libpam runs every service left" "all work" "$(every_stack_works "$P")"
}
kept_for 'auth\trequired\tpam_unix.so\n@include common-auth-dir\naccount include common-account-dir\n-session\tsubstack\tcommon-session-dir\n' \
	"@include, include, substack" "common-account-dir common-auth-dir common-session-dir"
# libpam takes the keywords in any case, and a line continued with a backslash (comment lines
# in between skipped)
kept_for '@INCLUDE common-auth-dir\naccount Include common-account-dir\nsession \\\n  # the registry\n  SUBSTACK common-session-dir\npassword include \\\n common-password-dir\n' \
	"as libpam reads them: any case, continued lines" \
	"common-account-dir common-auth-dir common-password-dir common-session-dir"

rm -rf "$P"
mkdir "$P"
{ printf 'auth\trequired\tpam_unix.so\naccount\trequired\tpam_unix.so\n'
  for i in $(seq 400); do echo "# the administrator's own truenas service, line $i"; done; } >"$P/truenas"
chmod 640 "$P/truenas"
cp -p "$P/truenas" "$WORK/truenas.orig"
ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >"$WORK/out"
check "enable replaces a truenas service of someone else's (and says where it keeps it)" \
	grep -q "truenas: replace (the previous one is kept as $P/truenas.dirctl-backup)" "$WORK/out"
check "...kept whole (over 8 KiB)" cmp "$P/truenas.dirctl-backup" "$WORK/truenas.orig"
ctl disable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
check "disable puts it back byte for byte" cmp "$P/truenas" "$WORK/truenas.orig"
check_eq "...with its mode, and nothing else left" "640 truenas" "$(stat -c %a "$P/truenas") $(ls "$P" | xargs)"
check_eq "...and libpam runs it" "all work" "$(every_stack_works "$P")"

rm -rf "$P"
mkdir "$P"
ctl pam render --stig --dir "$P" >/dev/null
cp -a "$P" "$WORK/stig-copy"
ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >"$WORK/out"
check "enable after pam render --stig keeps the STIG stacks" diff -r "$P" "$WORK/stig-copy"
check "...faillock and the session limit with them" grep -q "max_sessions=10" "$P/common-session-dir"
ctl disable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
check_eq "disable takes the rendered STIG stacks away too" "" "$(ls "$P")"

# disable needs nothing from dird.conf: an administrator backing out after breaking it, or after
# removing it, is not stopped
printf 'passwd: files dir\ngroup: files dir\n' >"$WORK/ns"
printf '[global]\nlog_level = infoo\n' >"$WORK/typo.conf"
for broken in typo missing; do
	ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
	DIR_CONF=$WORK/$broken.conf ctl disable --nsswitch "$WORK/ns" --pam-dir "$P" --ssh \
		--sshd-config "$WORK/sshd_config" >"$WORK/out" 2>&1
	check_eq "disable with dird.conf $broken: done (rc, nsswitch.conf, PAM files left)" \
		"0|passwd: files|group: files|0" "$?|$(paste -sd'|' "$WORK/ns")|$(ls "$P" | wc -l)"
	check "...and it says it does without dird.conf" grep -q "disable does not need it" "$WORK/out"
done
rm -rf "$P"
mkdir "$P"

ctl pam render --2fa --oath-users "$WORK/users.oath" --dir "$P" >"$WORK/out" 2>&1
check_eq "pam render --2fa without the users file: refused, nothing written" "1 0" "$? $(ls "$P" | wc -l)"
check "...and says why" grep -q "users.oath is not there: pam_oath would refuse every login" "$WORK/out"
touch "$WORK/users.oath"
ctl pam render --2fa --oath-users "$WORK/users.oath" --dir "$P" >/dev/null
check "with it, pam_oath reads that file" grep -q "pam_oath.so usersfile=$WORK/users.oath " "$P/common-auth-dir"
ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >/dev/null
check "enable keeps the 2FA profile and its users file" grep -q "pam_oath.so usersfile=$WORK/users.oath " "$P/common-auth-dir"
rm "$WORK/users.oath"
ctl enable --nsswitch "$WORK/ns" --pam-dir "$P" >"$WORK/out" 2>&1
check_eq "...but refuses it once that file is gone" "1" "$?"
rm -rf "$P"
mkdir "$P"
in_ns "$WORK/files-ns" "$BUILD/dirctl/dirctl" pam render --dir "$P" >"$WORK/out" 2>&1
check_eq "pam render where pam_dir.so is not installed: refused, nothing written" "1 0" "$? $(ls "$P" | wc -l)"
check "...and says which module is missing" grep -q "pam_dir.so is not installed" "$WORK/out"

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
