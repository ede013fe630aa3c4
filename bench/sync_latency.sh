#!/bin/bash
# bench/sync_latency.sh [--users N] [--changes N]: how long a change in slapd (syncprov) takes to
# reach getpwnam on the host, through dird's change stream.  One process in the test namespace
# (nsswitch.conf "files dir") changes a user's shell with ldapmodify, then asks getpwnam every
# millisecond until it sees the new shell; the time from ldapmodify's return to that answer is one
# sample.  Prints p50, p99 and the largest of N changes (each a different user), and the first
# full read's times.  Default: 10,000 users, 100 changes.  BUILD: the build to run (default
# build-release).  As root, like tests/e2e.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build-release}
export BUILD
USERS=10000
CHANGES=100
while [ $# -gt 0 ]; do
	case $1 in
	--users) USERS=$2; shift 2 ;;
	--changes) CHANGES=$2; shift 2 ;;
	*) echo "usage: bench/sync_latency.sh [--users N] [--changes N]" >&2; exit 2 ;;
	esac
done
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/slapd.sh"

make_workdir
cleanup() { dird_stop; slapd_stop; rm -rf "$WORK"; }
trap cleanup EXIT

python3 "$TOP/tests/lib/gen_ldif.py" "$WORK/data" --users "$USERS" --big-group 10 --many-groups 3 >/dev/null
SLAPD_SYNCPROV=1 slapd_start "$WORK/slapd" "$WORK/data/data.ldif" || exit 1
export DIR_CONF=$WORK/dird.conf
write_dird_conf "$DIR_CONF" "$SLAPD_URI"
sed -i 's/^log_level = debug/log_level = info/' "$DIR_CONF"
write_nsswitch "$WORK/nss" "files dir"
t0=$(now_ms)
dird_start || exit 1
dird_wait_refresh || exit 1
t1=$(now_ms)
in_sync() {
	"$BUILD/dirctl/dirctl" -c "$DIR_CONF" --json status 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["domains"][0]["in_sync"] else 1)' 2>/dev/null
}
for _ in $(seq 6000); do in_sync && break; sleep 0.1; done
in_sync || { echo "the stream did not get in sync" >&2; tail "$WORK/dird.log" >&2; exit 1; }
t2=$(now_ms)
echo "$USERS users: full refresh done after $((t1 - t0)) ms, the stream in sync $((t2 - t1)) ms later"

in_ns "$WORK/nss" python3 - "$SLAPD_URI" "$SLAPD_ADMIN" "$SLAPD_ADMIN_PW" "$CHANGES" "$USERS" <<'PY'
import pwd, subprocess, sys, time
uri, admin, pw, n, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
samples = []
for i in range(n):
    name = "u%05d" % (1 + i * max(1, users // n))
    shell = "/bin/sh-%d" % i
    ldif = "dn: uid=%s,ou=people,dc=example,dc=test\nchangetype: modify\nreplace: loginShell\nloginShell: %s\n" % (name, shell)
    subprocess.run(["ldapmodify", "-x", "-H", uri, "-D", admin, "-w", pw], input=ldif.encode(),
                   stdout=subprocess.DEVNULL, check=True)
    t0 = time.monotonic()
    while True:
        try:
            if pwd.getpwnam(name).pw_shell == shell:
                break
        except KeyError:
            pass
        if time.monotonic() - t0 > 30:
            print("FAILED: %s never showed %s" % (name, shell))
            sys.exit(1)
        time.sleep(0.001)
    samples.append((time.monotonic() - t0) * 1000)
samples.sort()
p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
print("%d changes: ldapmodify -> getpwnam p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (n, p(0.5), p(0.99), samples[-1]))
PY
