#!/bin/bash
# A cache whose stream keys a dird before this layout wrote (dird/stream_keys.h: three keys an
# entry, SYNC_ID_, SYNC_NAME_ and SYNC_DN_, ids as text, positions under SYNC_POS_): none of it
# is read.  Each stream reads everything once (a user deleted while dird was down is gone), the
# old keys leave the files, and from then on the stream resumes from its new position.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/streamed.sh"
SLAPD_SYNCPROV=1 serve_directory 20 5 3 || exit 1
modify() { ldap ldapmodify; }
# keys PREFIX: how many keys of the user file begin with PREFIX
keys() {
	/usr/bin/python3 - "$WORK/cache/directoryservice_cache_user.tdb" "$1" <<'PY'
import os, sys, tdb
t = tdb.Tdb(sys.argv[1], 0, tdb.DEFAULT, os.O_RDONLY)
print(sum(1 for k in t.keys() if k.startswith(sys.argv[2].encode())))
PY
}

within 30 in_sync || not_ok "the stream is in sync" "$(tail -5 "$WORK/dird.log")"
dird_stop
# The files as the layout before left them: every entry's three keys, from the server's
# entryUUIDs, and each stream's position (a valid one) under SYNC_POS_.
ldapsearch -x -LLL -o ldif-wrap=no -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" \
	-b dc=example,dc=test '(|(objectClass=posixAccount)(objectClass=posixGroup))' \
	entryUUID uid cn objectClass >"$WORK/entries.ldif"
/usr/bin/python3 - "$WORK/cache" "$WORK/entries.ldif" <<'PY' || not_ok "the old layout is written"
import os, sys, tdb
entries, e = [], {}
for line in open(sys.argv[2]).read().splitlines() + [""]:
    if not line:
        if e:
            entries.append(e)
        e = {}
        continue
    k, v = line.split(": ", 1)
    e.setdefault(k, []).append(v)
for kind in ("user", "group"):
    t = tdb.Tdb(os.path.join(sys.argv[1], "directoryservice_cache_%s.tdb" % kind), 0, tdb.DEFAULT, os.O_RDWR)
    t.transaction_start()
    for k in [k for k in t.keys() if k.startswith(b"SYNC_")]:
        if k.startswith(b"SYNC_POSITION_"):
            t.store(b"SYNC_POS_" + k[len(b"SYNC_POSITION_"):], t[k])
        t.delete(k)
    for e in entries:
        user = "posixAccount" in e["objectClass"]
        if user != (kind == "user"):
            continue
        name, uuid, dn = (e["uid"] if user else e["cn"])[0], e["entryUUID"][0], e["dn"][0].lower()
        t.store(("SYNC_ID_example/" + uuid).encode(), name.encode())
        t.store(("SYNC_NAME_example/" + name).encode(), (uuid + "\0" + dn).encode())
        t.store(("SYNC_DN_example/" + dn).encode(), uuid.encode())
    t.transaction_commit()
PY
users=$(grep -c "^objectClass: posixAccount" "$WORK/entries.ldif")
check_eq "the old layout holds every user's keys" "$users" "$(keys SYNC_ID_)"
printf 'dn: uid=u00003,%s\nchangetype: delete\n' "$P" | modify
: >"$WORK/dird.log"
dird_start || exit 1
within 30 in_sync || not_ok "in sync after a start on the old layout" "$(tail -5 "$WORK/dird.log")"
grep -q "users: reading everything (no stored position)" "$WORK/dird.log" &&
	grep -q "groups: reading everything (no stored position)" "$WORK/dird.log" &&
	ok "on the old layout both streams read everything" ||
	not_ok "on the old layout both streams read everything" "$(grep stream "$WORK/dird.log" | head -5)"
within 10 absent u00003 && ok "a user deleted while dird was down is gone" ||
	not_ok "a user deleted while dird was down is gone"
check_eq "the others are served" 19 "$(in_ns "$NSS" getent passwd | grep -c "^u000")"
for k in SYNC_ID_ SYNC_NAME_ SYNC_DN_ SYNC_POS_; do
	check_eq "no $k key is left" 0 "$(keys $k)"
done
check_eq "every user served has its entry key" "$(keys NAME_)" "$(keys SYNC_E_)"
check_eq "and its name's" "$(keys NAME_)" "$(keys SYNC_N_)"
check "the users file holds more than a user" test "$(keys NAME_)" -gt 1

# from then on the new position: a restart resumes, and sees a delete made while down
dird_stop
printf 'dn: uid=u00004,%s\nchangetype: delete\n' "$P" | modify
: >"$WORK/dird.log"
dird_start || exit 1
within 30 in_sync || not_ok "in sync after a restart" "$(tail -5 "$WORK/dird.log")"
grep -q "users: resuming from the stored position" "$WORK/dird.log" &&
	ok "then a restart resumes from the stored position" ||
	not_ok "then a restart resumes from the stored position" "$(grep stream "$WORK/dird.log" | head -5)"
within 10 absent u00004 && ok "and a user deleted while dird was down is gone" ||
	not_ok "and a user deleted while dird was down is gone"
printf 'dn: uid=u00001,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/sh9\n' "$P" | modify
within 10 shell_is u00001 /bin/sh9 &&
	ok "and changes flow" || not_ok "and changes flow"
finish
