#!/bin/bash
# Kerberos tickets of login sessions: a real MIT KDC and slapd, dird with auth = krb5, the
# shipped truenas PAM stack through the real libpam.  Tickets of one minute, renewable for
# longer, are renewed by dird while the session is open (in place: owner, mode and the other
# tickets kept), shown by dirctl sessions, and no longer renewed once the session has ended or
# the renew lifetime does.  A user's hostile caches (a link to another's, a FIFO, a huge file,
# one readable by all) are not taken, and hold nobody else's renewals up.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd kdc

kdc_start "$WORK/kdc" EXAMPLE.TEST || exit 1
kdc_admin "modprinc -maxrenewlife 1day krbtgt/EXAMPLE.TEST"
kdc_addprinc alice alicepw -maxlife 1min -maxrenewlife 1day
kdc_addprinc bob bobpw -maxlife 1min -maxrenewlife 70sec
kdc_addprinc carol carolpw -maxlife 1min -maxrenewlife 1day
kdc_keytab host/localhost "$WORK/host.keytab"
kdc_keytab nfs/localhost "$WORK/nfs.keytab"
# Logins ask for tickets of one minute, renewable for a day (the principal may cap both).
sed -i 's/^\[libdefaults\]/[libdefaults]\n\tticket_lifetime = 1m\n\trenew_lifetime = 1d/' "$WORK/kdc/krb5.conf"

mkdir -m 1777 "$WORK/tickets"
serve_directory 5 5 3 "krb5_config = $WORK/kdc/krb5.conf
krb5_ccache_dir = $WORK/tickets" || exit 1
dird_stop
cat >>"$DIR_CONF" <<CONF
auth = krb5
krb5_realm = EXAMPLE.TEST
krb5_keytab = $WORK/host.keytab
CONF
# As its systemd unit runs it: root with no capability but CAP_SETUID and CAP_SETGID (no
# CAP_DAC_OVERRIDE: a user's 0600 ticket cache is out of root's reach but for its owner's).
dird_start setpriv --bounding-set=-all,+setuid,+setgid || exit 1
check_eq "dird runs with CAP_SETUID and CAP_SETGID alone" 00000000000000c0 \
	"$(sed -n 's/^CapEff:\t//p' /proc/$DIRD_PID/status)"
pam_stacks "$WORK/pam.d"
NS=(in_ns "$WORK/nss" --bind "$WORK/pam.d" /etc/pam.d)

# end CACHE: the end time of its TGT, as klist prints it
tgt_end() { klist -c "$1" 2>/dev/null | awk '/krbtgt\/EXAMPLE.TEST@/ { print $3, $4; exit }'; }
# login USER PASSWORD OUT RELEASE: a truenas login holding its session open until RELEASE exists
login() {
	echo "$2" | "${NS[@]}" "$BUILD/tests/pam_run" truenas "$1" auth setcred account open \
		env=KRB5CCNAME wait="$4" close env=KRB5CCNAME >"$3" 2>&1 &
}
wait_cc() { for _ in $(seq 100); do grep -q "^KRB5CCNAME=" "$1" && break; sleep 0.1; done
	sed -n 's/^KRB5CCNAME=FILE://p' "$1"; }

login alice alicepw "$WORK/alice.out" "$WORK/release"
ALICE=$!
login alice alicepw "$WORK/killed.out" "$WORK/never"
KILLED=$!
login bob bobpw "$WORK/bob.out" "$WORK/release"
BOB=$!
E2E_PIDS+=("$ALICE" "$KILLED" "$BOB")
CC=$(wait_cc "$WORK/alice.out")
KCC=$(wait_cc "$WORK/killed.out")
BCC=$(wait_cc "$WORK/bob.out")
check "a ticket cache for each login" test -f "$CC" -a -f "$KCC" -a -f "$BCC"
END0=$(tgt_end "$CC")
check "as alice, kvno nfs/localhost works (the service ticket stays in the cache)" \
	setpriv --reuid=20001 --regid=20000 --clear-groups env KRB5CCNAME="FILE:$CC" kvno nfs/localhost
# The second login's process dies without closing its session: the session no longer lives.
json=$("${CTL[@]}" --json sessions)
check_eq "dirctl sessions: three live ones" 3 "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$json")"
kill -KILL "$(python3 -c 'import json,sys; print([x for x in json.load(sys.stdin) if x["ccache"] == sys.argv[1]][0]["pid"])' 	"$KCC" <<<"$json")"
wait "$KILLED" 2>/dev/null
KEND0=$(tgt_end "$KCC")
json=$("${CTL[@]}" --json sessions)
check_eq "dirctl sessions: the cache and when its tickets end" "$CC $(date -d "$END0" +%s)" \
	"$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["user"] == "alice"]
print(s[0]["ccache"], s[0]["tickets_expire"])' <<<"$json")"
check "dirctl sessions: the same as text" grep -q "alice .* $(date -d "$END0" '+%Y-%m-%d %H:%M:%S')$" \
	<("${CTL[@]}" sessions)

# carol's caches are hers to replace: with a link to alice's (the dead session's, which nothing
# renews), a FIFO, a file of 1 MiB, her cache made readable by all.  dird reads each as carol,
# takes none, and goes on renewing everyone else's.
CAROL=()
for how in link fifo huge open; do
	login carol carolpw "$WORK/carol.$how" "$WORK/release"
	CAROL+=($!)
done
E2E_PIDS+=("${CAROL[@]}")
as_carol() { setpriv --reuid=20003 --regid=20000 --clear-groups sh -c "$1" sh "$2" "$KCC"; }
for how in link fifo huge open; do
	cc=$(wait_cc "$WORK/carol.$how")
	case $how in
	link) as_carol 'rm "$1" && ln -s "$2" "$1"' "$cc" ;;
	fifo) as_carol 'rm "$1" && mkfifo -m 600 "$1"' "$cc" ;;
	huge) as_carol 'head -c 1048576 /dev/zero >"$1"' "$cc" ;;
	open) as_carol 'chmod 644 "$1"' "$cc" ;;
	esac
	eval "CAROL_$how=\$cc"
done
for _ in $(seq 100); do [ "$(grep -c "of carol: renewing the tickets in" "$WORK/dird.log")" -ge 4 ] && break; sleep 0.1; done
check "carol's cache as a link: not followed" \
	grep -q "of carol: renewing the tickets in $CAROL_link failed: $CAROL_link: Too many levels of symbolic links" "$WORK/dird.log"
for how in "fifo:a FIFO" "huge:a file of 1 MiB" "open:readable by all"; do
	eval "cc=\$CAROL_${how%%:*}"
	check "carol's cache as ${how#*:}: not taken" \
		grep -q "of carol: renewing the tickets in $cc failed: $cc: not a ticket cache of uid 20003" "$WORK/dird.log"
done
check "dirctl sessions reads them all without waiting" timeout 10 "${CTL[@]}" sessions

# Renewed once half the minute has passed (dird checks every 5 s): wait for a later end time.
for _ in $(seq 60); do [ "$(tgt_end "$CC")" != "$END0" ] && break; sleep 1; done
END1=$(tgt_end "$CC")
check "the open session's tickets are renewed before they expire ($END0 -> $END1)" \
	test "$(date -d "$END1" +%s)" -gt "$(date -d "$END0" +%s)"
check "dird says so" grep -q "renewed the tickets of alice (session .*): valid until" "$WORK/dird.log"
check_eq "the renewed cache is still alice's, mode 0600" "20001 20000 600" "$(stat -c '%u %g %a' "$CC")"
check "the service ticket is kept" grep -q "nfs/localhost@EXAMPLE.TEST" <(klist -c "$CC")
check "kvno works with the renewed cache" \
	setpriv --reuid=20001 --regid=20000 --clear-groups env KRB5CCNAME="FILE:$CC" kvno -q nfs/localhost
check_eq "the session that died: its cache is not renewed, carol's link to it neither" "$KEND0" \
	"$(tgt_end "$KCC")"
check_eq "...and it is still alice's alone" "20001 600" "$(stat -c '%u %a' "$KCC")"
check_eq "dirctl sessions: the new end time" "$(date -d "$END1" +%s)" \
	"$("${CTL[@]}" --json sessions | python3 -c 'import json,sys
print([x for x in json.load(sys.stdin) if x["user"] == "alice"][0]["tickets_expire"])')"
# bob's may be renewed for 70 s: once, up to that limit, and then no more.
for _ in $(seq 40); do grep -q "session .* of bob: tickets no longer renewed" "$WORK/dird.log" && break; sleep 1; done
check "bob's tickets: renewed up to their renew lifetime, then dird says it stops" \
	grep -q "session .* of bob: tickets no longer renewed (renewed as far as their renew lifetime allows" "$WORK/dird.log"
check_eq "bob's were renewed once" 1 "$(grep -c "renewed the tickets of bob" "$WORK/dird.log")"

touch "$WORK/release"
wait "$ALICE" "$BOB" "${CAROL[@]}"
E2E_PIDS=()
check_eq "close_session removes the cache" "close: Success
KRB5CCNAME unset" "$(tail -2 "$WORK/alice.out")"
renewals=$(grep -c "renewed the tickets of alice" "$WORK/dird.log")
sleep 12
check_eq "after the session closed: no more renewals" "$renewals" \
	"$(grep -c "renewed the tickets of alice" "$WORK/dird.log")"
check_eq "no scratch copy is left in run_dir" "" "$(ls "$WORK/run" | grep ccache)"
dird_stop
check_eq "dird exits cleanly (under the sanitizers: without a report)" 0 "$DIRD_RC"
finish
