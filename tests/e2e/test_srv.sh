#!/bin/bash
# uri = _srv_: dird finds its servers through DNS SRV records, in priority order, and fails over
# from a dead one.  Runs in a network and mount namespace of its own, with dnsmasq answering on
# 127.0.0.1:53 and a private /etc/resolv.conf.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DIR_TEST_IN_NETNS:-}" ]; then
	exec unshare --net --mount --propagation private env DIR_TEST_IN_NETNS=1 bash "$0" "$@"
fi
. "$HERE/../lib/common.sh"
ip link set lo up
e2e_start slapd
DNSMASQ=
cleanup_first() { [ -z "$DNSMASQ" ] || kill "$DNSMASQ" 2>/dev/null; }

slapd_generated 20 5 2 || exit 1
DEAD_PORT=$(free_port)

# This namespace's resolver: dnsmasq with the domain's SRV records, nothing else.
echo "nameserver 127.0.0.1" >"$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$WORK/nsswitch.host"
mount --bind "$WORK/nsswitch.host" /etc/nsswitch.conf
dnsmasq --no-daemon --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
	--pid-file="$WORK/dnsmasq.pid" \
	--srv-host=_ldap._tcp.example.test,ldap1.example.test,"$SLAPD_PORT",10,100 \
	--srv-host=_ldap._tcp.example.test,dead.example.test,"$DEAD_PORT",0,100 \
	--host-record=ldap1.example.test,127.0.0.1 --host-record=dead.example.test,127.0.0.1 \
	>"$WORK/dnsmasq.log" 2>&1 &
DNSMASQ=$!
for _ in $(seq 50); do getent hosts ldap1.example.test >/dev/null && break; sleep 0.1; done

write_dird_conf "$DIR_CONF" "_srv_"
write_nsswitch "$WORK/nss-dir" "dir"
dird_start || exit 1
dird_wait_refresh || exit 1

check_eq "uri = _srv_: users come from the server DNS names" "20001" \
	"$(in_ns "$WORK/nss-dir" getent passwd alice | cut -d: -f3)"
check_eq "uri = _srv_: the dead server of priority 0 was tried, then priority 10 was used" \
	"ldap://ldap1.example.test:$SLAPD_PORT" \
	"$("${CTL[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["domains"][0]["server"])')"
check "uri = _srv_: the priority 0 server was tried first" grep -q "dead.example.test:$DEAD_PORT" "$WORK/dird.log"
dird_stop

# No SRV records for the domain: a clear error, and dird keeps running, offline.
sed -i 's/^base_dn = dc=example,dc=test/base_dn = dc=example,dc=test\ndns_domain = nowhere.test/' "$DIR_CONF"
rm -f "$WORK"/cache/*
dird_start || exit 1
for _ in $(seq 50); do "${CTL[@]}" --json status 2>/dev/null | grep -q "no SRV records" && break; sleep 0.1; done
check "no SRV records: status says so" sh -c '"$0" -c "$1" status | grep -q "no SRV records for _ldap._tcp.nowhere.test"' "$BUILD/dirctl/dirctl" "$DIR_CONF"

finish
