#!/bin/bash
# Cache policy: entry_ttl (an entry in use is refreshed in the background before it expires; an
# expired one is asked for again, and served stale when the directory is down), deletions, and
# enumerate = no.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

slapd_generated 50 10 3 || exit 1
TTL=8 # refresh due after 6 s, expired after 8 s
write_dird_conf "$DIR_CONF" "$SLAPD_URI" "entry_ttl = $TTL"
write_nsswitch "$WORK/nss-dir" "dir"
ONLY=$WORK/nss-dir
dird_start || exit 1
dird_wait_refresh || exit 1

set_gecos() { # USER GECOS
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: uid=$1,ou=people,dc=example,dc=test
changetype: modify
replace: gecos
gecos: $2
LDIF
}
gecos() { in_ns "$ONLY" getent passwd "$1" | cut -d: -f5; }

# --- an entry in use is refreshed in the background, before it expires -----------------------
"${CTL[@]}" cache refresh >/dev/null
refreshed_at=$(now_ms) # every entry was fetched before this
set_gecos alice "Alice Changed"
check_eq "entry_ttl: a fresh entry is served from the cache" "Alice Example" "$(gecos alice)"
# Into the last quarter of its life: still served at once, and dird is told.
sleep $(awk -v t=$TTL -v e=$(( $(now_ms) - refreshed_at )) 'BEGIN{s = t * 0.75 - e / 1000 + 0.2; print (s > 0 ? s : 0)}')
t0=$(now_ms); first=$(gecos alice); t1=$(now_ms)
check_eq "entry_ttl: an entry due for a refresh is still served" "Alice Example" "$first"
if [ $((t1 - t0)) -lt 1000 ]; then ok "entry_ttl: without waiting for the directory ($((t1 - t0)) ms)"; else not_ok "entry_ttl: without waiting for the directory" "$((t1 - t0)) ms"; fi
got=
for _ in $(seq 20); do got=$(gecos alice); [ "$got" = "Alice Changed" ] && break; sleep 0.1; done
check_eq "entry_ttl: and the next calls see the refreshed entry" "Alice Changed" "$got"

# --- a deleted user disappears when its entry expires ------------------------------------------
"${CTL[@]}" cache refresh >/dev/null
ldapdelete -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" "uid=carol,ou=people,dc=example,dc=test"
check_eq "deleted in the directory: still cached until it expires" "20003" "$(in_ns "$ONLY" getent passwd carol | cut -d: -f3)"
sleep $((TTL + 1))
check_fails "deleted in the directory: gone once expired" in_ns "$ONLY" getent passwd carol

# --- expired entries are served stale while the directory is down ---------------------------------
in_ns "$ONLY" getent passwd bob >/dev/null
slapd_stop
sleep $((TTL + 1))
t0=$(now_ms); line=$(in_ns "$ONLY" getent passwd bob); t1=$(now_ms)
check_eq "directory down: an expired entry is served stale" "20002" "$(echo "$line" | cut -d: -f3)"
if [ $((t1 - t0)) -lt 2500 ]; then ok "directory down: within nss_timeout ($((t1 - t0)) ms)"; else not_ok "directory down: within nss_timeout" "$((t1 - t0)) ms"; fi
dird_stop
check_eq "dird stopped too: still served stale from the index" "20002" "$(in_ns "$ONLY" getent passwd bob | cut -d: -f3)"
check_eq "dird stopped: id of an expired user still works" "uid=20001(alice) gid=20000(team) groups=20000(team),20100(devs)" \
	"$(in_ns "$ONLY" id alice)"

# --- enumerate = no: only lookups fill the cache -------------------------------------------------
slapd_resume || exit 1
rm -f "$WORK"/cache/*
write_dird_conf "$DIR_CONF" "$SLAPD_URI" "enumerate = no"
dird_start || exit 1
check_eq "enumerate = no: nothing is listed before any lookup" "0" "$(in_ns "$ONLY" getent passwd | wc -l)"
check_eq "enumerate = no: a lookup is answered" "20002" "$(in_ns "$ONLY" getent passwd bob | cut -d: -f3)"
sleep 0.5
check_eq "enumerate = no: and then listed" "bob" "$(in_ns "$ONLY" getent passwd | cut -d: -f1)"
check_eq "enumerate = no: no refresh ran" "0" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_refresh"])')"

finish
