#!/bin/bash
# The first slice end to end: a real slapd, dird, and the real getent, id and ls through
# libnss_dir, as root and as nobody.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 3000 3000 300 || exit 1
write_nsswitch "$WORK/nss-dir" "dir"
FD=$WORK/nss
ONLY=$WORK/nss-dir

# --- what the directory holds, through getent and id ---------------------------------------
check_eq "getent passwd alice" "alice:*:20001:20000:Alice Example:/home/alice:/bin/bash" \
	"$(in_ns "$FD" getent passwd alice)"
check_eq "getent passwd 20001" "alice:*:20001:20000:Alice Example:/home/alice:/bin/bash" \
	"$(in_ns "$FD" getent passwd 20001)"
check_eq "getent group team" "team:*:20000:alice,bob" "$(in_ns "$FD" getent group team)"
check_eq "getent group 20100" "devs:*:20100:alice,carol" "$(in_ns "$FD" getent group 20100)"
check_eq "id alice" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_ns "$FD" id alice)"
check_eq "non-ASCII gecos, no loginShell gives the default shell" \
	"bob:*:20002:20000:Böb Bäcker:/home/bob:/bin/sh" "$(in_ns "$FD" getent passwd bob)"
check_eq "no gecos: cn is shown" "carol:*:20003:20000:Carol C:/home/carol:/bin/sh" \
	"$(in_ns "$FD" getent passwd carol)"
check_eq "getent passwd lists exactly the directory's users (paged past the size limit)" \
	"$(cat "$WORK/data/passwd")" "$(in_ns "$ONLY" getent passwd | sort)"
check_eq "getent group lists exactly the directory's groups" \
	"$(cat "$WORK/data/group")" "$(in_ns "$ONLY" getent group | sort)"

# --- ids below min_id, hostile names, local names -------------------------------------------
check_fails "uid below min_id is hidden (name)" in_ns "$FD" getent passwd lowid
check_fails "uid below min_id is hidden (id)" in_ns "$ONLY" getent passwd 500
check_fails "gid below min_id is hidden" in_ns "$ONLY" getent group lowgroup
check_eq "a hidden group is not in id's list" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_ns "$ONLY" id alice)"
check_fails "getent passwd '*' finds nothing" in_ns "$FD" getent passwd '*'
check_fails "filter injection finds nothing" in_ns "$FD" getent passwd 'alice)(uid=*'
check_fails "filter injection in a group name finds nothing" in_ns "$FD" getent group '*)(cn=*'
check_fails "a name with a colon is refused" in_ns "$FD" getent passwd 'ali:ce'
check_eq "a name also in /etc/passwd: files wins" "0" "$(in_ns "$FD" getent passwd root | cut -d: -f3)"
check_eq "a directory user with a local name is never served" "" \
	"$(in_ns "$ONLY" getent passwd root; in_ns "$ONLY" getent passwd 20010)"
check_eq "initgroups of local root gains no directory groups" "$(id -G root)" "$(in_ns "$FD" id -G root)"

# --- big memberships -------------------------------------------------------------------------
check_eq "a user in 300 groups: id -G lists 301" "301" "$(in_ns "$FD" id -G many | wc -w)"
check_eq "a group with 3000 members" "3000" \
	"$(in_ns "$FD" getent group biggroup | cut -d: -f4 | tr ',' '\n' | wc -l)"

# --- as an unprivileged user ------------------------------------------------------------------
check_eq "as nobody: getent passwd alice" "alice:*:20001:20000:Alice Example:/home/alice:/bin/bash" \
	"$(in_ns "$FD" --as-nobody getent passwd alice)"
check_eq "as nobody: id alice" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_ns "$FD" --as-nobody id alice)"
check_eq "as nobody: enumeration" "$(wc -l <"$WORK/data/passwd")" \
	"$(in_ns "$ONLY" --as-nobody getent passwd | wc -l)"

# --- ls -l shows directory names --------------------------------------------------------------
touch "$WORK/owned"
chown 20001:20100 "$WORK/owned"
check_eq "ls -l shows the directory's user and group" "alice devs" \
	"$(in_ns "$FD" ls -l "$WORK/owned" | awk '{print $3, $4}')"

# --- a user added after the refresh is found on a miss and cached -----------------------------
{
	ldif_user dave 20050 Dave
	cat <<LDIF
dn: cn=latecomers,ou=groups,dc=example,dc=test
objectClass: posixGroup
cn: latecomers
gidNumber: 20060
memberUid: dave
LDIF
} | slapd_add
check_eq "a new user is found through dird" "dave:*:20050:20000:Dave:/home/dave:/bin/sh" \
	"$(in_ns "$FD" getent passwd dave)"
check_eq "its groups come with it" "uid=20050(dave) gid=20000(team) groups=20000(team),20060(latecomers)" \
	"$(in_ns "$FD" id dave)"
check_eq "a new group by gid" "latecomers:*:20060:dave" "$(in_ns "$FD" getent group 20060)"

# --- dirctl ------------------------------------------------------------------------------------
check_eq "dirctl user --json has the synthetic id" "100020001 alice None False" \
	"$("${CTL[@]}" user alice --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["username"], d["sid"], d["local"])')"
out=$("${CTL[@]}" user alice)
check "dirctl user: when it was fetched, as a date, and until when it is fresh" \
	grep -Eq "^fetched +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+s ago\); fresh until 20[0-9-]{8}T" <<<"$out"
check "dirctl user: the synthetic id explained" grep -q "^id  *100020001 (the uid + 100000000: TrueNAS's cache id, never a uid or gid)" <<<"$out"
check "dirctl user: the primary group's name beside its gid" grep -q "^group  *20000 (team), the primary group" <<<"$out"
check "dirctl user: the other groups' names beside their gids" grep -q "^groups  *20100 (devs)" <<<"$out"
check_eq "dirctl group by gid" "team" \
	"$("${CTL[@]}" group 20000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')"
check_eq "dirctl users lists every cached user" "$(( $(wc -l <"$WORK/data/passwd") + 1 ))" \
	"$("${CTL[@]}" users | wc -l)"
check_eq "dirctl status: online" "online" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["state"])')"
check_eq "dirctl user of an unknown name exits 5" "5" "$("${CTL[@]}" user nosuchuser >/dev/null 2>&1; echo $?)"
check_eq "the tdb cache has TrueNAS's keys" "yes" \
	"$(tdbdump "$WORK/cache/directoryservice_cache_user.tdb" | grep -q 'key(10) = "NAME_alice"' && tdbdump "$WORK/cache/directoryservice_cache_user.tdb" | grep -q 'CACHE_EXPIRATION' && echo yes)"
check_eq "the tdb cache is root-only" "600" "$(stat -c %a "$WORK/cache/directoryservice_cache_user.tdb")"

# --- a refresh reaches a process that is already running -------------------------------------
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: uid=alice,ou=people,dc=example,dc=test
changetype: modify
replace: gecos
gecos: Alice Renamed
LDIF
coproc LOOKER { in_ns "$ONLY" python3 -u -c '
import pwd, sys
for line in sys.stdin:
    print(pwd.getpwnam("alice").pw_gecos, flush=True)'; }
echo >&"${LOOKER[1]}"; read -r -t 5 before <&"${LOOKER[0]}"
"${CTL[@]}" cache refresh >/dev/null
echo >&"${LOOKER[1]}"; read -r -t 5 after <&"${LOOKER[0]}"
check_eq "a long-running process sees a refresh on its next call" "Alice Example -> Alice Renamed" "$before -> $after"
"${CTL[@]}" cache flush >/dev/null
echo >&"${LOOKER[1]}"; read -r -t 5 flushed <&"${LOOKER[0]}"
check_eq "and keeps resolving across a flush" "Alice Renamed" "$flushed"
exec {LOOKER[1]}>&-
wait "$LOOKER_PID" 2>/dev/null
dird_wait_refresh || exit 1

# --- threads and forks look up while refreshes and a flush run ------------------------------
STRESS=()
for n in 1 2 3; do
	in_ns "$ONLY" timeout 60 "$BUILD/tests/nss_stress" 6 2 3000 >"$WORK/stress.$n" 2>&1 &
	STRESS+=($!)
done
sleep 1
"${CTL[@]}" cache refresh >/dev/null
"${CTL[@]}" cache refresh >/dev/null
"${CTL[@]}" cache flush >/dev/null
dird_wait_refresh
"${CTL[@]}" cache refresh >/dev/null
wait "${STRESS[@]}"
cat "$WORK"/stress.[123] >"$WORK/stress.out"
check_eq "3 processes of 2 threads and forked children: no error, no wrong answer during refreshes and a flush" \
	"0 0 0" "$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$WORK/stress.out" | tr '\n' ' ' | sed 's/ $//')"
lookups=$(sed -n 's/^lookups=\([0-9]*\).*/\1/p' "$WORK/stress.out" | awk '{s += $1} END {print s + 0}')
if [ "${lookups:-0}" -gt 1000 ]; then ok "the stress run did real work ($lookups lookups)"; else not_ok "the stress run did real work" "$(head -5 "$WORK/stress.out")"; fi

# --- a cached lookup makes no IPC -------------------------------------------------------------
if command -v strace >/dev/null; then
	check_eq "a cached lookup never connects to dird" "" \
		"$(in_ns "$ONLY" strace -f -e trace=connect getent passwd alice 2>&1 >/dev/null | grep dird.sock)"
	check_eq "a name dird said is not there is asked for once per process, not again" "1" \
		"$(in_ns "$ONLY" strace -f -e trace=connect getent passwd ghost ghost ghost 2>&1 >/dev/null | grep -c dird.sock)"
fi

# --- SIGHUP reloads the configuration -----------------------------------------------------------
sed -i 's/^page_size = 200/page_size = 200\nmin_id = 20002/' "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/dird.log" && break; sleep 0.1; done
dird_wait_refresh
# Every user's primary gid is now below min_id: the refresh would empty the cache of users, so
# it is kept out until the administrator says it is meant (test_refresh_shrink.sh).
check_eq "after SIGHUP with min_id = 20002: the refresh that drops every user is kept out" "20001" \
	"$(in_ns "$ONLY" getent passwd alice | cut -d: -f3)"
"${CTL[@]}" cache refresh --accept-shrink >/dev/null
check_fails "after SIGHUP with min_id = 20002 and --accept-shrink, uid 20001 is gone" in_ns "$ONLY" getent passwd alice
check_fails "and so is uid 20002, whose primary gid 20000 is below it" in_ns "$ONLY" getent passwd bob
check_eq "groups with a gid from 20002 on are still there" "20100" "$(in_ns "$ONLY" getent group devs | cut -d: -f3)"
sed -i 's/^min_id = 20002$/nonsense/' "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do grep -q "keeping the running configuration" "$WORK/dird.log" && break; sleep 0.1; done
check "a bad file on SIGHUP is reported and the running configuration kept" grep -q "keeping the running configuration" "$WORK/dird.log"
sed -i '/^nonsense$/d' "$DIR_CONF"
kill -HUP "$DIRD_PID"
for _ in $(seq 50); do [ "$(grep -c "configuration reloaded" "$WORK/dird.log")" -ge 2 ] && break; sleep 0.1; done
dird_wait_refresh
check_eq "back to min_id 1000: uid 20001 is served again" "20001" "$(in_ns "$ONLY" getent passwd alice | cut -d: -f3)"

# --- dird never loads libnss_dir -------------------------------------------------------------
check_fails "libnss_dir is not mapped into dird" grep -q libnss_dir "/proc/$DIRD_PID/maps"

# --- dird stopped: cached entries still answer, unknown names fail fast ----------------------
in_ns "$FD" getent passwd dave >/dev/null
sleep 0.5 # the index is rewritten 200 ms after a miss
dird_stop
check_eq "dird exits cleanly on SIGTERM" "0" "$DIRD_RC"
check_eq "dird stopped: a cached user resolves" "alice:*:20001:20000:Alice Renamed:/home/alice:/bin/bash" \
	"$(in_ns "$FD" getent passwd alice)"
check_eq "dird stopped: a user cached on a miss resolves" "20050" "$(in_ns "$FD" getent passwd dave | cut -d: -f3)"
check_eq "dird stopped: id still works" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_ns "$FD" id alice)"
t0=$(now_ms)
in_ns "$FD" getent passwd nosuchuser >/dev/null
rc=$?
t1=$(now_ms)
check_eq "dird stopped: an unknown name is not found" "2" "$rc"
# The bound includes starting unshare, getent and the sanitizer runtime; the module's own
# share is measured by the unit tests.  Nothing may wait for a timeout here.
if [ $((t1 - t0)) -lt 1000 ]; then ok "dird stopped: it fails fast ($((t1 - t0)) ms)"; else not_ok "dird stopped: it fails fast" "$((t1 - t0)) ms"; fi
check_eq "dirctl status without dird exits 3" "3" "$("${CTL[@]}" status >/dev/null 2>&1; echo $?)"

# --- dird starts from the cache with the directory down ---------------------------------------
slapd_stop
dird_start || exit 1
check_eq "directory down, dird restarted: cached user resolves" "20001" \
	"$(in_ns "$FD" getent passwd alice | cut -d: -f3)"
check_eq "directory down: unknown name is not found" "2" "$(in_ns "$FD" getent passwd nosuchuser >/dev/null; echo $?)"
dird_stop

# --- configuration errors stop dird with file:line ----------------------------------------
printf '[global]\ncache_dir = %s/cache\nbogus_key = 1\n' "$WORK" >"$WORK/bad.conf"
out=$("$BUILD/dird/dird" -f -c "$WORK/bad.conf" 2>&1); rc=$?
check_eq "unknown key: dird refuses to start" "1" "$rc"
case $out in *"bad.conf:3: unknown key 'bogus_key'"*) ok "unknown key: reported as file:line";; *) not_ok "unknown key: reported as file:line" "$out";; esac
chmod 644 "$WORK/bindpw"
out=$("$BUILD/dird/dird" -f -c "$DIR_CONF" 2>&1); rc=$?
check_eq "world-readable password file: dird refuses to start" "1" "$rc"
case $out in *"readable by group or others"*) ok "world-readable password file: says why";; *) not_ok "world-readable password file: says why" "$out";; esac
case $out in *readerpw*) not_ok "the password never appears in messages";; *) ok "the password never appears in messages";; esac

finish
