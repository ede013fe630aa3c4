#!/bin/bash
# systemd's user records: dird serves io.systemd.UserDatabase on userdb_socket, and the real
# userdbctl (Debian's systemd-userdbd) and nss-systemd (libnss-systemd, through the real glibc)
# read it in a private mount namespace whose /run/systemd/userdb holds that socket alone.  The
# host's /run is never touched.  Records, memberships, enumeration on and off, local accounts,
# errors, no account shown twice with `dir` and `systemd` on one line, and a hostile client.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

# 3,000 users: an enumeration is many batches; a group of 3,000 members: so is its membership.
serve_directory 3000 3000 3 "userdb_socket = $WORK/userdb/dird" || exit 1
SOCK=$WORK/userdb/dird
check_eq "the socket is where userdb_socket says, open to every local user" "srw-rw-rw-" \
	"$(stat -c %A "$SOCK")"
cp "$HERE/../tools/varlink_client.py" "$WORK/" && chmod 755 "$WORK/varlink_client.py"

# in_userdb NSS_SOURCES CMD...: CMD as root with that nsswitch.conf and libnss_dir, where
# /run/systemd/userdb holds dird's socket alone (a tmpfs over /run/systemd in its namespace)
in_userdb() {
	write_nsswitch "$WORK/nss.userdb" "$1"
	shift
	in_ns "$WORK/nss.userdb" sh -c 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/userdb &&
		mount --bind "$0" /run/systemd/userdb && exec "$@"' "$WORK/userdb" "$@"
}
# udb ARGS...: userdbctl asking our service only, without its NSS fallback and synthesized users
udb() { in_userdb "files" userdbctl --service=dird --with-nss=no --synthesize=no "$@"; }
# vl MODE ARGS...: the raw client as root; vl_as UID MODE ARGS... as that local user
vl() { /usr/bin/python3 "$WORK/varlink_client.py" "$SOCK" "$@"; }
vl_as() {
	local uid=$1; shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups /usr/bin/python3 "$WORK/varlink_client.py" "$SOCK" "$@"
}
call() { printf '{"method":"io.systemd.UserDatabase.%s","parameters":%s%s}' "$1" "$2" "${3:+,$3}"; }
json_field() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps(r.get(sys.argv[1])))' "$1"; }

# --- Records ---
out=$(udb -j user alice)
check_eq "userdbctl user alice: userName" '"alice"' "$(json_field userName <<<"$out")"
check_eq "uid" "20001" "$(json_field uid <<<"$out")"
check_eq "gid" "20000" "$(json_field gid <<<"$out")"
check_eq "realName (gecos)" '"Alice Example"' "$(json_field realName <<<"$out")"
check_eq "homeDirectory" '"/home/alice"' "$(json_field homeDirectory <<<"$out")"
check_eq "shell" '"/bin/bash"' "$(json_field shell <<<"$out")"
check_eq "memberOf: the supplementary groups, by name" '["devs"]' "$(json_field memberOf <<<"$out")"
check_eq "disposition" '"regular"' "$(json_field disposition <<<"$out")"
check_eq "service: the socket's name" '"dird"' "$(json_field service <<<"$out")"
check_eq "no SID outside AD" "null" "$(json_field dirObjectSid <<<"$out")"
check_eq "non-ASCII gecos comes through as UTF-8" '"B\u00f6b B\u00e4cker"' \
	"$(udb -j user bob | json_field realName)"
check_eq "by uid: the same record" '"alice"' "$(udb -j user 20001 | json_field userName)"
out=$(udb user alice)
check "userdbctl shows alice's primary and supplementary groups by name" \
	grep -qE "GID: 20000 \(team\)" <<<"$out"
check "...Aux. Groups: devs" grep -q "Aux. Groups: devs" <<<"$out"
out=$(udb -j group team)
check_eq "userdbctl group team: groupName" '"team"' "$(json_field groupName <<<"$out")"
check_eq "gid" "20000" "$(json_field gid <<<"$out")"
check "userdbctl shows its members (GetMemberships)" \
	grep -qzE "Members: alice.*bob" <<<"$(udb group team)"
check_eq "users-in-group team" "alice team
bob   team" "$(udb users-in-group team | grep team)"
check_eq "groups-of-user many" "many g0000
many g0001
many g0002" "$(udb groups-of-user many | grep '^many ')"
check_eq "users-in-group biggroup: all 3,000 members, streamed" "3000" \
	"$(udb users-in-group biggroup | grep -c biggroup)"
check_eq "...each once" "3000" "$(udb users-in-group biggroup | grep biggroup | sort -u | wc -l)"

# --- What is not served ---
check_fails "an unknown name: no record" udb user nosuch
check_eq "...said as NoRecordFound" '"io.systemd.UserDatabase.NoRecordFound"' \
	"$(vl call "$(call GetUserRecord '{"userName":"nosuch","service":"dird"}')" | json_field error)"
check_fails "root, a local account the directory also has, is not ours to serve" udb user root
check_fails "nor uid 0" udb user 0
check_fails "nor lowid, below min_id" udb user lowid
check_fails "nor a group below min_id" udb group lowgroup
# A local account added to /etc/passwd after the refresh wins at once, without a refresh.
mkdir -p "$WORK/etc"
cp /etc/passwd /etc/group "$WORK/etc/"
echo "carol:x:20003:20000:Local Carol:/home/carol:/bin/sh" >>"$WORK/etc/passwd"
dird_stop
unshare -m --propagation private sh -c 'mount --bind "$1/passwd" /etc/passwd && exec "$2" -f -c "$3"' \
	- "$WORK/etc" "$BUILD/dird/dird" "$DIR_CONF" >>"$WORK/dird.log" 2>&1 &
DIRD_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
check_fails "a name in /etc/passwd now (the cache still has carol) is not served" udb user carol
check_fails "...nor its uid" udb user 20003
check_eq "alice still is" '"alice"' "$(udb -j user alice | json_field userName)"
dird_stop
dird_start || exit 1

# --- Errors as the interface names them ---
err() { vl call "$@" | json_field error; }
check_eq "a wrong service: BadService" '"io.systemd.UserDatabase.BadService"' \
	"$(err "$(call GetUserRecord '{"userName":"alice","service":"other"}')")"
check_eq "no service: BadService" '"io.systemd.UserDatabase.BadService"' \
	"$(err "$(call GetUserRecord '{"userName":"alice"}')")"
check_eq "a name and another user's uid: ConflictingRecordFound" \
	'"io.systemd.UserDatabase.ConflictingRecordFound"' \
	"$(err "$(call GetUserRecord '{"userName":"alice","uid":20002,"service":"dird"}')")"
check_eq "a name and its own uid: the record" '"alice"' \
	"$(vl call "$(call GetUserRecord '{"userName":"alice","uid":20001,"service":"dird"}')" |
		python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["parameters"]["record"]["userName"]))')"
check_eq "a uid that is not a number: InvalidParameter" '"org.varlink.service.InvalidParameter"' \
	"$(err "$(call GetUserRecord '{"uid":"alice","service":"dird"}')")"
check_eq "a filter of newer interfaces: InvalidParameter (clients filter themselves)" \
	'{"parameter": "uidMin"}' \
	"$(vl call "$(call GetUserRecord '{"uidMin":1000,"service":"dird"}' '"more":true')" | json_field parameters)"
check_eq "an unknown method: MethodNotFound" '"org.varlink.service.MethodNotFound"' \
	"$(err '{"method":"io.systemd.UserDatabase.DeleteEverything","parameters":{}}')"
check_eq "several replies asked for without more: ExpectedMore" '"org.varlink.service.ExpectedMore"' \
	"$(err "$(call GetMemberships '{"userName":"many","service":"dird"}')")"
check_eq "membership of one user in one group" '{"groupName": "devs", "userName": "alice"}' \
	"$(vl call "$(call GetMemberships '{"userName":"alice","groupName":"devs","service":"dird"}')" | json_field parameters)"
check_eq "...and of one who is not: NoRecordFound" '"io.systemd.UserDatabase.NoRecordFound"' \
	"$(err "$(call GetMemberships '{"userName":"bob","groupName":"devs","service":"dird"}')")"
check_eq "calls one after the other on one connection, and pipelined" "alice bob carol alice bob" \
	"$(vl pipeline "$(call GetUserRecord '{"userName":"alice","service":"dird"}')" \
		"$(call GetUserRecord '{"uid":20002,"service":"dird"}')" \
		"$(call GetUserRecord '{"userName":"carol","service":"dird"}')" |
		python3 -c 'import json,sys; print(" ".join(json.loads(l)["parameters"]["record"]["userName"] for l in sys.stdin))') $(
	vl call "$(call GetUserRecord '{"userName":"alice","service":"dird"}')" \
		"$(call GetUserRecord '{"userName":"bob","service":"dird"}')" |
		python3 -c 'import json,sys; print(" ".join(json.loads(l)["parameters"]["record"]["userName"] for l in sys.stdin))')"

# --- Enumeration: off by default, so nss-systemd does not list our users a second time ---
check_eq "enumerating users: EnumerationNotSupported" \
	'"io.systemd.UserDatabase.EnumerationNotSupported"' \
	"$(err "$(call GetUserRecord '{"service":"dird"}' '"more":true')")"
check_eq "...groups and memberships too" \
	'"io.systemd.UserDatabase.EnumerationNotSupported" "io.systemd.UserDatabase.EnumerationNotSupported"' \
	"$(err "$(call GetGroupRecord '{"service":"dird"}' '"more":true')") $(
		err "$(call GetMemberships '{"service":"dird"}' '"more":true')")"
check_fails "userdbctl user: enumeration refused" udb user
# The real nss-systemd (systemd 252 asks every socket in /run/systemd/userdb) beside libnss_dir.
in_userdb "files systemd" getent passwd alice >"$WORK/via_systemd" 2>&1
check_eq "nss-systemd reaches our socket: getent passwd alice with 'files systemd'" \
	"alice:x:20001:20000:Alice Example:/home/alice:/bin/bash" "$(cat "$WORK/via_systemd")"
check_eq "...getent group team" "team:x:20000:alice,bob" "$(in_userdb "files systemd" getent group team)"
check_eq "...and id many" "uid=20020(many) gid=20000(team) groups=20000(team),21000(g0000),21001(g0001),21002(g0002)" \
	"$(in_userdb "files systemd" id many)"
in_userdb "files dir systemd" getent passwd >"$WORK/passwd.both"
in_userdb "files dir" getent passwd >"$WORK/passwd.dir"
check_eq "with 'files dir systemd' getent passwd lists alice once" "1" "$(grep -c '^alice:' "$WORK/passwd.both")"
check_eq "...and lists just what 'files dir' lists" "$(sort "$WORK/passwd.dir" | md5sum)" \
	"$(sort "$WORK/passwd.both" | md5sum)"
in_userdb "files dir systemd" getent group >"$WORK/group.both"
in_userdb "files dir" getent group >"$WORK/group.dir"
check_eq "getent group lists team once" "1" "$(grep -c '^team:' "$WORK/group.both")"
check_eq "...and just what 'files dir' lists" "$(sort "$WORK/group.dir" | md5sum)" "$(sort "$WORK/group.both" | md5sum)"
check_eq "id alice is the same" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_userdb "files dir systemd" id alice)"

# --- Enumeration on (a host whose passwd and group lines name systemd but not dir) ---
# 150 empty groups with the lowest gids: the first batch of memberships holds no reply at all.
for i in $(seq 0 149); do
	printf 'dn: cn=empty%03d,ou=groups,dc=example,dc=test\nobjectClass: posixGroup\ncn: empty%03d\ngidNumber: %d\n\n' \
		"$i" "$i" $((5000 + i))
done | ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null
sed -i "s|^userdb_socket.*|&\nuserdb_enumerate = yes|" "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/dird.log" && break; sleep 0.1; done
"$BUILD/dirctl/dirctl" -c "$DIR_CONF" cache refresh >/dev/null
dird_wait_refresh
# directory_only FILE: the lines of a passwd or group file whose names are not local
directory_only() { grep -vf <(cut -d: -f1 /etc/passwd /etc/group | sed 's/.*/^&:/') "$1"; }
in_userdb "files dir" getent passwd >"$WORK/passwd.dir"
in_userdb "files dir" getent group >"$WORK/group.dir"
udb --output=classic user >"$WORK/udb.users"
check_eq "userdbctl user lists every directory user getent shows, each once" \
	"$(directory_only "$WORK/passwd.dir" | cut -d: -f1,3- | sort)" \
	"$(cut -d: -f1,3- "$WORK/udb.users" | sort)"
check "...$(wc -l <"$WORK/udb.users") of them, root and lowid not among them" \
	sh -c "test $(wc -l <"$WORK/udb.users") -gt 3000 && ! grep -qE '^(root|lowid):' '$WORK/udb.users'"
check_eq "userdbctl group lists every directory group" \
	"$(directory_only "$WORK/group.dir" | cut -d: -f1,3 | sort)" \
	"$(udb --output=classic group | cut -d: -f1,3 | sort)"
check_eq "every membership (users-in-group without a group)" \
	"$(directory_only "$WORK/group.dir" | awk -F: '{n=split($4,m,","); for(i=1;i<=n;i++) print m[i], $1}' | sort)" \
	"$(udb users-in-group | awk 'NF == 2 && $1 != "USER" {print $1, $2}' | sort)"
vl call "$(call GetMemberships '{"service":"dird"}' '"more":true')" >"$WORK/memberships"
check_eq "every membership, behind 150 empty groups: the stream goes on to its end (it was dropped)" \
	'{"parameters": {"groupName": "g0002", "userName": "many"}}' "$(tail -1 "$WORK/memberships")"
in_userdb "files systemd" getent passwd >"$WORK/passwd.systemd"
check_eq "with 'files systemd', getent passwd lists what 'files dir' lists, through nss-systemd" \
	"$(sort "$WORK/passwd.dir" | cut -d: -f1,3,4,5,6,7 | md5sum)" \
	"$(sort "$WORK/passwd.systemd" | cut -d: -f1,3,4,5,6,7 | md5sum)"
in_userdb "files systemd" getent group >"$WORK/group.systemd"
# Not biggroup: nss-systemd 252's getgrent loses an entry larger than the buffer glibc first
# offers it (it asks again with a larger one, and nss-systemd has moved on); getent group
# biggroup is answered, and with libnss_dir (the usual setup) enumeration lists it.
check_eq "...and getent group the same groups and members (but biggroup)" \
	"$(grep -v ^biggroup: "$WORK/group.dir" | sort | cut -d: -f1,3,4 | md5sum)" \
	"$(grep -v ^biggroup: "$WORK/group.systemd" | sort | cut -d: -f1,3,4 | md5sum)"
check_eq "getent group biggroup through nss-systemd: all 3,000 members" "3000" \
	"$(in_userdb "files systemd" getent group biggroup | cut -d: -f4 | tr , '\n' | wc -l)"

# --- A hostile client: refused or dropped, and nobody else notices ---
ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }
check_eq "garbage with a NUL: the connection is closed" "closed" "$(vl_as 65534 raw 676172626167650000)"
check_eq "a JSON array: closed" "closed" "$(vl_as 65534 raw 5b312c325d00)"
t=$(vl_as 65534 nonul)
check "a call without its NUL is dropped after 1 s ($t ms)" test "$t" -ge 900 -a "$t" -lt 3000
check_eq "1 MB without a NUL: closed once more than a call's 4 KiB came in" "closed" \
	"$(vl_as 65534 huge | head -1)"
# nobody: 32 connections asking for every user and never reading, for 14 s; another user: 100
# idle connections
vl_as 65534 noread 32 14 "$(call GetUserRecord '{"service":"dird"}' '"more":true')" >"$WORK/noread.out" &
E2E_PIDS+=($!)
vl_as 65533 idle 100 5 >"$WORK/idle.out" &
E2E_PIDS+=($!)
sleep 2
t=$(ms udb user alice)
check "while they hang on, root's userdbctl user alice is answered at once (${t} ms)" test "$t" -lt 1000
check_eq "...rightly" '"alice"' "$(udb -j user alice | json_field userName)"
out=$(vl_as 1000 time 50 "$(call GetUserRecord '{"userName":"u00042","service":"dird"}')")
max=$(sed -E 's/max=([0-9]+).*/\1/' <<<"$out")
check "another user's 50 lookups meanwhile: none fails, none waits ($out)" \
	test "$max" -lt 500 -a "${out##*fails=}" = 0
t=$(ms in_ns "$WORK/nss" getent passwd u00077)
check "and NSS lookups on dird.sock (${t} ms)" test "$t" -lt 1000
check "one user gets at most 32 userdb connections: the rest are closed at once" \
	grep -Eq "closed=(6[89]|[7-9][0-9]|100)" "$WORK/idle.out"
wait "${E2E_PIDS[@]}"
E2E_PIDS=()
check "the enumerations never read were dropped after 10 s without progress ($(cat "$WORK/noread.out"))" \
	grep -Eq "dropped=([3-9][0-9]|[1-9][0-9][0-9]) first_drop_ms=(9[0-9]{3}|1[0-3][0-9]{3})$" "$WORK/noread.out"
check_eq "and dird still answers" '"alice"' "$(udb -j user alice | json_field userName)"
check "dird is still running" kill -0 "$DIRD_PID"

# --- Stopped: the socket goes ---
dird_stop
check "dird removes its userdb socket when it stops" test ! -e "$SOCK"
finish
