# Two slapd providers of one suffix replicating each other (multi-provider syncrepl, both with
# syncprov), on loopback ports of their own.  Source this file; then:
#   slapd_pair_start DIR LDIF   -> PROVIDER_URI[1], PROVIDER_URI[2], PROVIDER_PID[1], PROVIDER_PID[2]
#   provider_kill N             kill -9 provider N
#   provider_resume N           start provider N again on its port and data
#   provider_modify N           ldapmodify on provider N as the admin (LDIF on stdin)
#   provider_stop N             stop provider N (SIGTERM: it writes its contextCSN)
#   slapd_pair_stop
# SLAPD_PAIR_LAG=1: provider 2 replicates provider 1 through a proxy (tests/lib/tcp_proxy.py,
# PAIR_PROXY_PID), so that it can be made to lag:
#   provider2_lag               provider 2 stops receiving provider 1's changes (the proxy frozen)
#   provider2_catch_up          it receives them again
# Provider 2 is loaded from provider 1's slapcat, so both hold the same entryUUIDs and CSNs: a
# second provider loaded from the same LDIF would give every entry another entryUUID, and one
# filled by replication stops at the first value its syntax refuses (gen_ldif.py's UTF-8 gecos:
# slapadd -q does not check, syncrepl does).
. "$(dirname "${BASH_SOURCE[0]}")/slapd.sh"

declare -A PROVIDER_URI PROVIDER_PID PROVIDER_DIR
PAIR_PROXY_PID=

# provider_syncrepl ID PEER_URI: the database lines that make a provider replicate from its peer
provider_syncrepl() {
	cat <<CONF
syncrepl rid=00$1 provider=$2 bindmethod=simple binddn="$SLAPD_ADMIN" credentials=$SLAPD_ADMIN_PW
  searchbase="$SLAPD_BASE" type=refreshAndPersist retry="1 +" timeout=3 network-timeout=3
multiprovider on
CONF
}

slapd_pair_start() {
	local dir=$1 ldif=$2 n
	local -A port=([1]=$(free_port) [2]=$(free_port)) peer_port
	peer_port=([1]=${port[2]} [2]=${port[1]})
	if [ -n "${SLAPD_PAIR_LAG:-}" ]; then
		peer_port[2]=$(free_port)
		/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/tcp_proxy.py" "${peer_port[2]}" "${port[1]}" &
		PAIR_PROXY_PID=$!
	fi
	for n in 1 2; do
		mkdir -p "$dir/p$n"
		if [ "$n" = 2 ]; then
			# Provider 1 writes its contextCSN when it stops: the seed carries it, so
			# provider 2 starts knowing it is in step with provider 1.
			provider_use 1
			slapd_stop
			slapcat -f "$SLAPD_DIR/slapd.conf" -l "$dir/p2/seed.ldif" 2>>"$dir/p2/slapcat.log" &&
				grep -q '^contextCSN:' "$dir/p2/seed.ldif" || return 1
			provider_resume 1 || return 1
			ldif=$dir/p2/seed.ldif
		fi
		SLAPD_SYNCPROV=1 SLAPD_GLOBAL="serverID $n" SLAPD_LISTEN_PORT=${port[$n]} \
			SLAPD_DB_EXTRA=$(provider_syncrepl "$n" "ldap://127.0.0.1:${peer_port[$n]}") \
			slapd_start "$dir/p$n" "$ldif" || return 1
		PROVIDER_URI[$n]=$SLAPD_URI
		PROVIDER_PID[$n]=$SLAPD_PID
		PROVIDER_DIR[$n]=$SLAPD_DIR
	done
	SLAPD_PID=
}

# provider_use N: slapd.sh's variables name provider N
provider_use() {
	SLAPD_URI=${PROVIDER_URI[$1]}
	SLAPD_PID=${PROVIDER_PID[$1]:-}
	SLAPD_DIR=${PROVIDER_DIR[$1]}
	SLAPD_LDAPS_URI=
}

provider_kill() {
	[ -n "${PROVIDER_PID[$1]:-}" ] || return 0
	kill -9 "${PROVIDER_PID[$1]}" 2>/dev/null
	wait "${PROVIDER_PID[$1]}" 2>/dev/null
	PROVIDER_PID[$1]=
}

provider_resume() {
	provider_use "$1"
	slapd_resume || return 1
	PROVIDER_PID[$1]=$SLAPD_PID
	SLAPD_PID=
}

provider_stop() {
	provider_use "$1"
	slapd_stop
	PROVIDER_PID[$1]=
}

provider2_lag() {
	kill -STOP "$PAIR_PROXY_PID"
}

provider2_catch_up() {
	kill -CONT "$PAIR_PROXY_PID"
}

provider_modify() {
	ldapmodify -x -H "${PROVIDER_URI[$1]}" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null
}

slapd_pair_stop() {
	local n
	if [ -n "$PAIR_PROXY_PID" ]; then
		kill -CONT "$PAIR_PROXY_PID" 2>/dev/null
		kill "$PAIR_PROXY_PID" 2>/dev/null
		wait "$PAIR_PROXY_PID" 2>/dev/null
		PAIR_PROXY_PID=
	fi
	for n in 1 2; do
		[ -n "${PROVIDER_PID[$n]:-}" ] || continue
		provider_use "$n"
		slapd_stop
		PROVIDER_PID[$n]=
	done
}
