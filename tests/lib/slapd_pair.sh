# Two slapd providers of one suffix replicating each other (multi-provider syncrepl, both with
# syncprov), on loopback ports of their own.  Source this file; then:
#   slapd_pair_start DIR LDIF   -> PROVIDER_URI[1], PROVIDER_URI[2], PROVIDER_PID[1], PROVIDER_PID[2]
#   provider_kill N             kill -9 provider N
#   provider_resume N           start provider N again on its port and data
#   provider_modify N           ldapmodify on provider N as the admin (LDIF on stdin)
#   slapd_pair_stop
# Provider 2 is loaded from provider 1's slapcat, so both hold the same entryUUIDs and CSNs: a
# second provider loaded from the same LDIF would give every entry another entryUUID, and one
# filled by replication stops at the first value its syntax refuses (gen_ldif.py's UTF-8 gecos:
# slapadd -q does not check, syncrepl does).
. "$(dirname "${BASH_SOURCE[0]}")/slapd.sh"

declare -A PROVIDER_URI PROVIDER_PID PROVIDER_DIR

# provider_syncrepl ID PEER_URI: the database lines that make a provider replicate from its peer
provider_syncrepl() {
	cat <<CONF
syncrepl rid=00$1 provider=$2 bindmethod=simple binddn="$SLAPD_ADMIN" credentials=$SLAPD_ADMIN_PW
  searchbase="$SLAPD_BASE" type=refreshAndPersist retry="1 +" timeout=3 network-timeout=3
multiprovider on
CONF
}

slapd_pair_start() {
	local dir=$1 ldif=$2 n peer
	local -A port=([1]=$(free_port) [2]=$(free_port))
	for n in 1 2; do
		peer=$((3 - n))
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
			SLAPD_DB_EXTRA=$(provider_syncrepl "$n" "ldap://127.0.0.1:${port[$peer]}") \
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

provider_modify() {
	ldapmodify -x -H "${PROVIDER_URI[$1]}" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null
}

slapd_pair_stop() {
	local n
	for n in 1 2; do
		[ -n "${PROVIDER_PID[$n]:-}" ] || continue
		provider_use "$n"
		slapd_stop
		PROVIDER_PID[$n]=
	done
}
