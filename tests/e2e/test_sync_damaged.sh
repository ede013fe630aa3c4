#!/bin/bash
# Stored stream positions slapd cannot resume from (a damaged cache: no CSN, an empty one, one
# of the wrong shape): slapd takes such a cookie for none and reads out every entry as added,
# with a delete phase that lists nothing.  dird must not count that as a resume: a user deleted
# while dird was down is gone after its start, and changes flow again.  A stream key damaged to
# name another user (dird/stream_keys.h) is not believed: the user deleted while dird was down
# is gone, the one the key named still served.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
SLAPD_SYNCPROV=1 serve_directory 20 5 3 || exit 1
modify() { ldap ldapmodify; }

within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
n=2
for pos in "rid=000" "rid=000,sid=001" "rid=000,csn=" "rid=000,csn=garbage#a#b#c"; do
	n=$((n + 1))
	user=$(printf 'u%05d' "$n")
	in_ns "$NSS" getent passwd "$user" >/dev/null || not_ok "$user is served before"
	dird_stop
	printf 'dn: uid=%s,%s\nchangetype: delete\n' "$user" "$P" | modify
	positions_store "$pos"
	: >"$WORK/dird.log"
	dird_start || exit 1
	within 30 in_sync || not_ok "in sync after a start from position '$pos'" "$(tail -5 "$WORK/dird.log")"
	within 10 absent "$user" && ok "from a stored position '$pos' a user deleted while dird was down is gone" ||
		not_ok "from a stored position '$pos' a user deleted while dird was down is gone" \
			"$(grep stream "$WORK/dird.log" | head -5)"
	printf 'dn: uid=u00001,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/sh%d\n' "$P" "$n" | modify
	within 10 shell_is u00001 "/bin/sh$n" && ok "and changes flow again" || not_ok "and changes flow again"
done
check_eq "the other users stay" 16 "$(in_ns "$NSS" getent passwd | grep -c "^u000")"

# u00010's entry key (its entryUUID's 16 bytes, escaped) made to name u00011, then u00010 deleted
uuid=$(ldapsearch -x -LLL -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" \
	-b "uid=u00010,$P" -s base entryUUID | sed -n 's/^entryUUID: //p')
dird_stop
/usr/bin/python3 - "$WORK/cache/directoryservice_cache_user.tdb" "$uuid" <<'PY' ||
import os, sys, tdb
t = tdb.Tdb(sys.argv[1], 0, tdb.DEFAULT, os.O_RDWR)
packed = b"u" + bytes.fromhex(sys.argv[2].replace("-", "")).replace(b"\1", b"\1\2").replace(b"\0", b"\1\1")
key = b"SYNC_E_example/" + packed
assert t.get(key) == b"u00010", t.get(key)
t.store(key, b"u00011", tdb.REPLACE)
PY
	not_ok "u00010's entry key is found and damaged"
printf 'dn: uid=u00010,%s\nchangetype: delete\n' "$P" | modify
: >"$WORK/dird.log"
dird_start || exit 1
within 30 in_sync || not_ok "in sync after a start with a damaged key" "$(tail -5 "$WORK/dird.log")"
within 10 absent u00010 && ok "with its key damaged, a user deleted while dird was down is gone" ||
	not_ok "with its key damaged, a user deleted while dird was down is gone" \
		"$(grep -i "stream\|damaged" "$WORK/dird.log" | head -5)"
in_ns "$NSS" getent passwd u00011 >/dev/null && ok "and the user the key named is served" ||
	not_ok "and the user the key named is served"
check_eq "the others stay" 15 "$(in_ns "$NSS" getent passwd | grep -c "^u000")"
finish
