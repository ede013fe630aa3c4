#!/bin/bash
# Local accounts always win.  dird and pam_dir read a private /etc/passwd and /etc/group (mount
# namespaces of their own) whose 5,000- and 20,000-character lines come before a local user the
# directory also has (carol): she is never served from the directory, gets no directory groups,
# and pam_dir leaves her to pam_unix.  Directory entries with a local uid or gid (a user's
# primary gid included), or a primary gid below min_id (0 root, 27 sudo, 6 disk, 42 shadow), are
# refused, logged and counted in dirctl status, whether a refresh or a lookup finds them.  A /etc/passwd dird or pam_dir cannot read counts as "local": pam_dir stands
# aside for everyone, dird serves nothing new (and keeps its cache) until it can read it again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

python3 "$HERE/../lib/gen_ldif.py" "$WORK/data" --users 5 --big-group 5 --many-groups 2
# Users whose primary group would be root's, sudo's, disk's or shadow's.
for g in 0:root 27:sudo 6:disk 42:shadow; do
	printf '\ndn: uid=gid%s,ou=people,dc=example,dc=test\nobjectClass: account\nobjectClass: posixAccount\nuid: gid%s\ncn: gid%s\nuidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/gid%s\nuserPassword: gid%spw\n' \
		"${g#*:}" "${g#*:}" "${g#*:}" "$((22100 + ${g%:*}))" "${g%:*}" "${g#*:}" "${g#*:}"
done >>"$WORK/data/data.ldif"
# The directory's own entries that take a local account's ids: uid 4242 (localadm), primary gid
# 4300 (localstaff), a group with gid 4300 that lists alice.
cat >>"$WORK/data/data.ldif" <<'LDIF'

dn: uid=shadowuid,ou=people,dc=example,dc=test
objectClass: account
objectClass: posixAccount
uid: shadowuid
cn: shadowuid
uidNumber: 4242
gidNumber: 20000
homeDirectory: /home/shadowuid
userPassword: shadowuidpw

dn: uid=shadowgid,ou=people,dc=example,dc=test
objectClass: account
objectClass: posixAccount
uid: shadowgid
cn: shadowgid
uidNumber: 22001
gidNumber: 4300
homeDirectory: /home/shadowgid
userPassword: shadowgidpw

dn: cn=gshadow,ou=groups,dc=example,dc=test
objectClass: posixGroup
cn: gshadow
gidNumber: 4300
memberUid: alice

dn: cn=mixed,ou=groups,dc=example,dc=test
objectClass: posixGroup
cn: mixed
gidNumber: 20300
memberUid: alice
memberUid: carol
memberUid: root

dn: uid=spaceduid,ou=people,dc=example,dc=test
objectClass: account
objectClass: posixAccount
uid: spaceduid
cn: spaceduid
uidNumber: 4244
gidNumber: 20000
homeDirectory: /home/spaceduid
userPassword: spaceduidpw

dn: uid=plusgid,ou=people,dc=example,dc=test
objectClass: account
objectClass: posixAccount
uid: plusgid
cn: plusgid
uidNumber: 22002
gidNumber: 4301
homeDirectory: /home/plusgid
userPassword: plusgidpw
LDIF
slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1

# This host's accounts: the real ones, two users with long gecos fields, then carol (the
# directory has a carol too, uid 20003) and localadm.
cp /etc/passwd /etc/group "$WORK/"
for size in 5000 20000; do
	printf 'long%s:x:%s:4300:%s:/home/long%s:/bin/sh\n' "$size" "$((4200 + size / 1000))" \
		"$(head -c "$size" /dev/zero | tr '\0' g)" "$size"
done >>"$WORK/passwd"
printf 'carol:x:4243:4243:Local Carol:/home/carol:/bin/sh\nlocaladm:x:4242:4242:Local admin:/home/localadm:/bin/sh\n' \
	>>"$WORK/passwd"
# ids written as glibc also reads them (strtoul): " 4244" is uid 4244, "+4301" gid 4301
printf 'spaced:x: 4244:4244:Spaced uid:/home/spaced:/bin/sh\n' >>"$WORK/passwd"
printf 'localstaff:x:4300:\ncarol:x:4243:\nlocaladm:x:4242:\nplusgrp:x:+4301:\n' >>"$WORK/group"
chmod 644 "$WORK/passwd" "$WORK/group"
check "the private passwd has a 20,000-character line before carol" \
	test "$(grep -n '^long20000:' "$WORK/passwd" | cut -d: -f1)" -lt "$(grep -n '^carol:' "$WORK/passwd" | cut -d: -f1)"
ACCOUNTS=(--bind "$WORK/passwd" /etc/passwd --bind "$WORK/group" /etc/group)

write_nsswitch "$WORK/nss" "files dir"
write_nsswitch "$WORK/nss-dir" "dir"
pam_stacks "$WORK/pam.d"

files_dir() { in_ns "$WORK/nss" "${ACCOUNTS[@]}" "$@"; }
only_dir() { in_ns "$WORK/nss-dir" "${ACCOUNTS[@]}" "$@"; }
# pam PASSWORD USER STEP... : pam_dir alone ("bare"), with the private passwd
pam() {
	local pw=$1; shift
	echo "$pw" | in_ns "$WORK/nss" "${ACCOUNTS[@]}" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare "$@" 2>&1
}

for mode in yes no; do
	how=$([ $mode = yes ] && echo refresh || echo lookup)
	dird_stop
	rm -rf "$WORK/cache" "$WORK/run"
	write_dird_conf "$DIR_CONF" "$SLAPD_URI" "enumerate = $mode"
	dird_private || exit 1
	[ $mode = yes ] && { dird_wait_refresh || exit 1; }

	check_eq "$how: a directory user is served" "20001" "$(only_dir getent passwd alice | cut -d: -f3)"
	check_fails "$how: carol, local after the long lines, is not served from the directory" \
		only_dir getent passwd carol
	check_fails "$how: nor is the directory's uid 20003 (carol's there)" only_dir getent passwd 20003
	# (newgrp and sg let a member listed there take the group's gid without a password)
	check_eq "$how: a directory group lists its directory members, not the local carol or root" \
		"mixed:*:20300:alice" "$(only_dir getent group mixed)"
	check_eq "$how: id carol is the local one, with no directory group" \
		"uid=4243(carol) gid=4243(carol) groups=4243(carol)" "$(files_dir id carol 2>&1)"
	check_fails "$how: a directory user with a local uid (4242) is refused" only_dir getent passwd shadowuid
	check_fails "$how: uid 4242 is never asked of the directory" only_dir getent passwd 4242
	check_eq "$how: uid 4242 is the local account" "localadm" "$(files_dir getent passwd 4242 | cut -d: -f1)"
	check_fails "$how: a directory user whose primary gid is a local group's (4300) is refused" \
		only_dir getent passwd shadowgid
	check_fails "$how: a directory group with a local gid (4300) is refused" only_dir getent group gshadow
	check_eq "$how: glibc reads uid ' 4244' as 4244 (the local spaced)" "spaced" \
		"$(files_dir getent passwd 4244 | cut -d: -f1)"
	check_fails "$how: ... so the directory's user with uid 4244 is refused" only_dir getent passwd spaceduid
	check_eq "$how: glibc reads gid '+4301' as 4301 (the local plusgrp)" "plusgrp" \
		"$(files_dir getent group 4301 | cut -d: -f1)"
	check_fails "$how: ... so the directory's user with primary gid 4301 is refused" \
		only_dir getent passwd plusgid
	check_eq "$how: and its gid is not among alice's groups" \
		"uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs),20300(mixed)" "$(files_dir id alice 2>&1)"
	for g in root sudo disk shadow; do
		check_fails "$how: a user whose primary group would be $g's is refused" only_dir getent passwd "gid$g"
	done
	check_eq "$how: ... id does not know them" "id: ‘gidsudo’: no such user" "$(files_dir id gidsudo 2>&1)"
	check_eq "$how: ... nor does PAM" "auth: User not known to the underlying authentication module" \
		"$(pam gidsudopw gidsudo auth)"
	check_eq "$how: pam_dir leaves carol to pam_unix (user unknown), even with the directory's password" \
		"auth: User not known to the underlying authentication module" "$(pam carolpw carol auth)"
	check_eq "$how: and the refused shadowuid does not log in" \
		"auth: User not known to the underlying authentication module" "$(pam shadowuidpw shadowuid auth)"
	check_eq "$how: a directory user still logs in" "auth: Success" "$(pam alicepw alice auth)"
done
check "dird's log names the refused entries" grep -q \
	"refused user shadowuid: uid 4242 or primary gid 20000 is local" "$WORK/dird.log"
check "... the group too" grep -q "refused group gshadow: gid 4300 is local" "$WORK/dird.log"
check "... and the users below min_id" grep -q "refused user gidsudo: primary gid 27 is below min_id 1000" "$WORK/dird.log"

# dirctl status counts what the last refresh refused: these five, the four with a low primary
# gid, lowid and lowgroup (below min_id).
dird_stop
rm -rf "$WORK/cache" "$WORK/run"
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
dird_private || exit 1
dird_wait_refresh || exit 1
check_eq "dirctl status --json counts the refused entries" "11" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["refused"])')"
check "dirctl status says so" grep -q "warning: 11 entries are refused" <("${CTL[@]}" status)

# pam_dir alone (dird down): carol counts as local at once, a directory user finds dird down.
dird_stop
check_eq "dird down: carol is local to pam_dir itself" \
	"auth: User not known to the underlying authentication module" "$(pam carolpw carol auth)"
check_eq "dird down: alice is not local (dird is asked and is not there)" \
	"auth: Authentication service cannot retrieve authentication info" "$(pam alicepw alice auth)"

# An unreadable /etc/passwd.  Root reads any file; without CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH, a mode 000 file is unreadable to it too.
NODAC=(setpriv --bounding-set=-dac_override,-dac_read_search)
chmod 000 "$WORK/passwd"
check_eq "pam_dir cannot read /etc/passwd: everyone counts as local (user unknown)" \
	"auth: User not known to the underlying authentication module" \
	"$(echo alicepw | in_ns "$WORK/nss" "${ACCOUNTS[@]}" "${NODAC[@]}" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare alice auth 2>&1)"
chmod 644 "$WORK/passwd"
rm -rf "$WORK/run"
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
dird_private "${NODAC[@]}" || exit 1
dird_wait_refresh || exit 1
chmod 000 "$WORK/passwd"
check_fails "dird cannot read /etc/passwd: the refresh is refused" "${CTL[@]}" cache refresh
check "... and logged" grep -q "refresh refused: cannot read /etc/passwd" "$WORK/dird.log"
check_eq "... the cache it had still answers" "20001" "$(only_dir getent passwd alice | cut -d: -f3)"
"${CTL[@]}" user nosuchuser >/dev/null 2>"$WORK/err"
check "... a miss is answered 'unavailable', not 'no such user'" grep -q "could not be asked" "$WORK/err"
check "... and logged" grep -q "the directory is not asked until it can be read" "$WORK/dird.log"
check_eq "... a PAM login is 'unavailable' too" \
	"auth: Authentication service cannot retrieve authentication info" \
	"$(echo alicepw | in_ns "$WORK/nss" "$BUILD/tests/pam_run" --confdir "$WORK/pam.d" bare alice auth 2>&1)"
chmod 644 "$WORK/passwd"
check "readable again: a refresh is done" "${CTL[@]}" cache refresh

# Local accounts added while dird runs, after the refresh that cached their directory namesakes:
# "many" (in g0000 and g0001) becomes a local user and gid 20100 (devs) a local group's.
check_eq "before: many is the directory's, in its groups" \
	"uid=20020(many) gid=20000(team) groups=20000(team),21000(g0000),21001(g0001)" \
	"$(files_dir id many 2>&1)"
printf 'many:x:4251:4251:Local many:/home/many:/bin/sh\n' >>"$WORK/passwd"
printf 'many:x:4251:\nlocaldevs:x:20100:\n' >>"$WORK/group"
for _ in $(seq 50); do only_dir getent passwd many >/dev/null || break; sleep 0.1; done
check_eq "a local many added: id many is the local one, without the directory's groups" \
	"uid=4251(many) gid=4251(many) groups=4251(many)" "$(files_dir id many 2>&1)"
check_eq "...nor is it listed in them" "g0000:*:21000:" "$(only_dir getent group g0000)"
check_fails "a local group with gid 20100 added: the directory's devs is no longer served" \
	only_dir getent group devs
check_eq "...nor is 20100 among alice's groups" \
	"uid=20001(alice) gid=20000(team) groups=20000(team),20300(mixed)" "$(files_dir id alice 2>&1)"
check "dird says why" grep -q "the local accounts changed: 1 directory users and 1 groups" "$WORK/dird.log"
finish
