#!/bin/bash
# The index as changes reach it.  A change costs a delta beside nss.idx, not a new nss.idx: a
# modified shell, a membership (the member's gid list) and a deletion are seen by a new process,
# by a long-running one at its next call, by enumeration and by initgroups, and nss.idx is the
# same file throughout.  While every domain is in sync (the test hook DIRD_TEST_IN_SYNC), a
# name or id the index lacks is NOTFOUND from libnss_dir alone: no connect, at once with slapd
# frozen; without it the same miss waits for dird.  With `passwd: dir files` the local accounts
# (a private /etc/passwd and /etc/group) are in the index: root and local users resolve from
# files without asking dird, a directory user with a local name is never served, a local user
# added while dird runs is never answered by dir, and one that takes a directory user's name
# is `files`'s once dird has looked at the files (each second).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/slapd.sh"

make_workdir
HOLDER=
cleanup() {
	[ -n "${HOLDER_PID:-}" ] && kill "$HOLDER_PID" 2>/dev/null
	dird_stop; slapd_stop; rm -rf "$WORK"
}
trap cleanup EXIT

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 20 --big-group 5 --many-groups 2
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
cp /etc/passwd /etc/group "$WORK/"
chmod 644 "$WORK/passwd" "$WORK/group"
ACCOUNTS=(--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)
export DIR_CONF=$WORK/dird.conf
write_dird_conf "$DIR_CONF" "$SLAPD_URI" "entry_ttl = 4" # due for a refresh after 3 s
write_nsswitch "$WORK/nss-dir" "dir"
write_nsswitch "$WORK/nss-df" "dir files"

only_dir() { in_ns "$WORK/nss-dir" "${ACCOUNTS[@]}" "$@"; }
dir_files() { in_ns "$WORK/nss-df" "${ACCOUNTS[@]}" "$@"; }
ldap() { # ldapmodify or ldapdelete as the admin
	local cmd=$1; shift
	"$cmd" -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" "$@" >/dev/null
}
# until_eq WANT CMD...: runs CMD until it prints WANT (at most 6 s); prints what it printed last
until_eq() {
	local want=$1 got=; shift
	for _ in $(seq 30); do got=$("$@" 2>/dev/null); [ "$got" = "$want" ] && break; sleep 0.2; done
	printf '%s' "$got"
}
inode() { stat -c %i "$WORK/cache/nss.idx"; }
shell_of() { only_dir getent passwd "$1" | cut -d: -f7; }

dird_private || exit 1
dird_wait_refresh || exit 1
before=$(inode)

# --- one change costs a delta -----------------------------------------------------------------
coproc HOLDER { in_ns "$WORK/nss-dir" python3 "$HERE/../tools/nss_holder.py"; }
echo "passwd alice" >&"${HOLDER[1]}"
read -r line <&"${HOLDER[0]}"
check_eq "a long-running process sees alice's shell" "/bin/bash" "${line##*:}"
ldap ldapmodify <<LDIF
dn: uid=alice,ou=people,dc=example,dc=test
changetype: modify
replace: loginShell
loginShell: /bin/zsh
LDIF
sleep 3.2 # due for a refresh: the next lookups are answered from the index and dird asks
check_eq "a changed shell reaches the index" "/bin/zsh" "$(until_eq /bin/zsh shell_of alice)"
sleep 0.5 # dird answered at once; it publishes 200 ms after a change
check "as a delta beside nss.idx" test -s "$WORK/cache/nss.idx.delta"
check_eq "nss.idx itself is not written again" "$before" "$(inode)"
echo "passwd alice" >&"${HOLDER[1]}"
read -r line <&"${HOLDER[0]}"
check_eq "the long-running process sees the change at its next call" "/bin/zsh" "${line##*:}"
check_eq "enumeration lists alice once, changed" "/bin/zsh" \
	"$(only_dir getent passwd | grep '^alice:' | cut -d: -f7)"
check_eq "the other entries are still there" "$(grep -c '^u0' "$WORK/data/passwd")" \
	"$(only_dir getent passwd | grep -c '^u0')"

ldap ldapmodify <<LDIF
dn: cn=empty,ou=groups,dc=example,dc=test
changetype: modify
add: memberUid
memberUid: alice
LDIF
ids() { only_dir getent group empty >/dev/null; only_dir id -G alice; }
check_eq "a membership reaches the member's gid list (initgroups)" "20000 20100 20101" \
	"$(until_eq "20000 20100 20101" ids)"
check_eq "and the group's member list" "empty:*:20101:alice" "$(only_dir getent group empty)"

ldap ldapdelete "uid=carol,ou=people,dc=example,dc=test"
sleep 1 # carol is past her entry_ttl: the next lookup asks the directory
check_fails "a deleted user is gone" only_dir getent passwd carol
sleep 0.5
check_eq "from enumeration too" "" "$(only_dir getent passwd | grep '^carol:')"
check_fails "and by uid" only_dir getent passwd 20003
check_eq "still no new nss.idx" "$before" "$(inode)"
check "dird wrote deltas" grep -q "published a delta" "$WORK/dird.log"
echo "passwd bob" >&"${HOLDER[1]}"
read -r line <&"${HOLDER[0]}"
check_eq "the long-running process still finds entries of nss.idx" "bob" "${line%%:*}"
exec {HOLDER[1]}>&-
kill "$HOLDER_PID" 2>/dev/null
unset HOLDER_PID_KEEP

# --- authoritative misses -----------------------------------------------------------------------
# miss_ms CMD...: how long a lookup of a missing name takes, in ms; fails if it was found
miss_ms() {
	local t0 t1
	t0=$(now_ms)
	"$@" >/dev/null && return 1
	t1=$(now_ms)
	echo $((t1 - t0))
}
kill -STOP "$SLAPD_PID"
ms=$(miss_ms only_dir getent passwd nosuch1)
if [ "${ms:-0}" -ge 1500 ]; then ok "not in sync: a miss with slapd frozen waits for dird ($ms ms)"; else not_ok "not in sync: a miss with slapd frozen waits for dird" "${ms:-found} ms"; fi
kill -CONT "$SLAPD_PID"
dird_stop
dird_private env DIRD_TEST_IN_SYNC=60 || exit 1
dird_wait_refresh || exit 1
# The main loop's tick publishes authoritative_until about a second after the refresh; on a
# loaded machine later: up to five tries, each with a name not asked before (dird remembers misses).
for try in 1 2 3 4 5; do
	sleep 1.5
	kill -STOP "$SLAPD_PID"
	ms=$(miss_ms only_dir getent passwd "nosuch2-$try")
	[ -n "$ms" ] && [ "$ms" -lt 1000 ] && break
	kill -CONT "$SLAPD_PID"
done
if [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then ok "in sync: a miss with slapd frozen is answered at once ($ms ms)"; else not_ok "in sync: a miss with slapd frozen is answered at once" "${ms:-found} ms"; fi
only_dir strace -f -qq -e trace=connect -o "$WORK/strace" getent passwd nosuch3 >/dev/null
only_dir strace -f -qq -e trace=connect -o "$WORK/strace-id" getent passwd 39999 >/dev/null
only_dir strace -f -qq -e trace=connect -o "$WORK/strace-gr" getent group nosuchgroup >/dev/null
check_eq "in sync: a missing name, uid or group makes no connect" "" \
	"$(cat "$WORK/strace" "$WORK/strace-id" "$WORK/strace-gr" | grep dird)"
check_eq "in sync: a user in the index is still served" "20002" "$(only_dir getent passwd bob | cut -d: -f3)"
kill -CONT "$SLAPD_PID"

# --- dir before files ---------------------------------------------------------------------------
check_eq "dir files: root is files' root" "root:x:0:0" "$(dir_files getent passwd root | cut -d: -f1-4)"
dir_files strace -f -qq -e trace=connect -o "$WORK/strace-root" id root >/dev/null
check_eq "dir files: id root asks dird nothing" "" "$(grep dird "$WORK/strace-root")"
write_nsswitch "$WORK/nss-files" "files"
check_eq "dir files: id root as with files alone" "$(in_ns "$WORK/nss-files" "${ACCOUNTS[@]}" id root)" \
	"$(dir_files id root)"
check_fails "dir files: the directory's root (uid 20010) is never served" dir_files getent passwd 20010
check_eq "dir files: a directory user is served" "20001" "$(dir_files getent passwd alice | cut -d: -f3)"
printf 'newlocal:x:4500:4500:New Local:/home/newlocal:/bin/sh\nbob:x:4501:4501:Local Bob:/home/bob:/bin/sh\n' \
	>>"$WORK/passwd"
check_eq "dir files: a local user added while dird runs is files'" "4500" \
	"$(dir_files getent passwd newlocal | cut -d: -f3)"
check_fails "and never dir's" only_dir getent passwd newlocal
uid_of() { dir_files getent passwd "$1" | cut -d: -f3; }
check_eq "dir files: a local user that takes a directory user's name is files' within 2 s" "4501" \
	"$(until_eq 4501 uid_of bob)"
check_fails "and dir no longer answers for that name" only_dir getent passwd bob

finish
