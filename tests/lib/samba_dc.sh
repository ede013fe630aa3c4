# A throwaway Samba AD DC (realm AD.TEST, domain ADTEST, host dc1.ad.test) for the AD tests.
#
# The test must already run in network, mount and PID namespaces of its own (ad_enter_namespaces
# does that): the DC listens on 10.53.0.2, an address of a veth pair inside that network
# namespace; /etc/hosts and /etc/resolv.conf are bind-mounted there so that dc1.ad.test resolves
# and DNS SRV discovery asks the DC; everything the DC starts dies with the PID namespace.
#
#   ad_enter_namespaces "$0" "$@"   re-runs the test inside fresh namespaces (call it first)
#   ad_test_start "$0" "$@"         the usual start of an AD test: ad_enter_namespaces, e2e_start
#                                   (WORK, DIR_CONF, the exit trap, which stops the DC too) and
#                                   ad_dc_start "$WORK/ad"
#   ad_dc_start DIR                 provisions, populates (ad_populate.py) and starts the DC;
#                                   sets AD_DIR, AD_CA (its TLS CA), AD_KRB5_CONF, AD_SID
#   seen DESC CMD...                CMD succeeds within a wide margin ($INTERVAL: the poll's
#                                   sync_interval; the bound only proves it comes), the time
#                                   it took to the log
#   ad_dc2_start DIR                joins a second DC (dc2.ad.test) to the domain and starts it
#   ad_dc_stop                      stops both
#   ad_dird_conf FILE GLOBAL_LINES DOMAIN_LINES
#                                   a dird.conf for the DC's domain (simple bind over LDAPS as
#                                   svc_dird), with extra lines for each section
# Needs tls.sh and common.sh ($WORK).

AD_IP=10.53.0.2
AD_REALM=AD.TEST
AD_DOMAIN=ADTEST
AD_HOST=dc1.ad.test
AD_SID=S-1-5-21-1111111111-2222222222-3333333333
AD_ADMIN_PASSWORD='Adm1n-Pass.word'
AD_USER_PASSWORD='Secret-Pass.123'
AD_PID=

ad_enter_namespaces() {
	[ -n "${DIR_AD_NAMESPACES:-}" ] && return 0
	export DIR_AD_NAMESPACES=1
	exec unshare --net --mount --propagation private --pid --fork --mount-proc bash "$@"
}

ad_test_start() {
	ad_enter_namespaces "$@"
	e2e_start tls
	E2E_SERVERS+=(ad_dc)
	ad_dc_start "$WORK/ad"
}

# The veth pair, the names and the resolver of the namespace.
ad_network() {
	local dir=$1
	ip link set lo up
	ip link add dirad0 type veth peer name dirad1 || return 1
	ip addr add 10.53.0.1/24 dev dirad0
	ip addr add "$AD_IP/24" dev dirad1
	ip link set dirad0 up
	ip link set dirad1 up
	printf '127.0.0.1 localhost\n%s %s dc1\n' "$AD_IP" "$AD_HOST" >"$dir/hosts"
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$AD_IP" >"$dir/resolv.conf"
	chmod 644 "$dir/hosts" "$dir/resolv.conf"
	mount --bind "$dir/hosts" /etc/hosts && mount --bind "$dir/resolv.conf" /etc/resolv.conf
}

ad_dc_start() {
	local dir=$1
	AD_DIR=$dir
	mkdir -p "$dir/tls" "$dir/run"
	ad_network "$dir" || { echo "ad_dc_start: no veth pair" >&2; return 1; }
	: >"$dir/empty.conf"
	if ! /usr/bin/python3 /usr/bin/samba-tool domain provision -s "$dir/empty.conf" \
		--targetdir="$dir/dc" --use-rfc2307 --realm="$AD_REALM" --domain="$AD_DOMAIN" \
		--server-role=dc --dns-backend=SAMBA_INTERNAL --adminpass="$AD_ADMIN_PASSWORD" \
		--domain-sid="$AD_SID" --host-ip="$AD_IP" --host-name=dc1 \
		--option="interfaces=lo dirad1" --option="bind interfaces only=yes" \
		--option="dns forwarder=" --option="pid directory=$dir/run" \
		>"$dir/provision.log" 2>&1; then
		echo "provisioning the DC failed:" >&2
		tail -20 "$dir/provision.log" >&2
		return 1
	fi
	# A certificate for the DC's name and address (Samba's own has no subjectAltName).
	tls_ca "$dir/tls" adca && tls_cert "$dir/tls" adca dc1 "DNS:$AD_HOST,IP:$AD_IP" || return 1
	AD_CA=$dir/tls/adca.crt
	ad_smb_conf "$dir" "$dir/tls/dc1"
	/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/ad_populate.py" "$dir/dc/etc/smb.conf" \
		>"$dir/populate.log" 2>&1 || { cat "$dir/populate.log" >&2; return 1; }
	AD_KRB5_CONF=$dir/krb5.conf
	cat >"$AD_KRB5_CONF" <<CONF
[libdefaults]
	default_realm = $AD_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
[realms]
	$AD_REALM = {
		kdc = $AD_IP
		admin_server = $AD_IP
		kpasswd_server = $AD_IP
	}
[domain_realm]
	.ad.test = $AD_REALM
CONF
	ad_samba_run "$dir" "$AD_HOST"
	local rc=$?
	AD_PID=$SAMBA_PID # stopped by ad_dc_stop, with the second DC if any
	return $rc
}

# ad_smb_conf DIR CERT: the DC's smb.conf (DIR/dc/etc) with TLS from CERT.key and CERT.crt (of
# our CA), its log in DIR, and only the services the tests use.
ad_smb_conf() {
	sed -i "/^\[global\]/a\\
	tls enabled = yes\\
	tls keyfile = $2.key\\
	tls certfile = $2.crt\\
	tls cafile = $AD_CA\\
	log file = $1/samba.log\\
	server services = -nbt -wrepl -dnsupdate -ntp_signd -kcc -winbindd\\
	old password allowed period = 0\\
	dcerpc endpoint servers = -winreg -srvsvc" "$1/dc/etc/smb.conf"
}

# ad_samba_run DIR HOST: starts the DC of DIR (SAMBA_PID) and waits until it serves, that is
# until an anonymous rootDSE read of HOST over LDAPS (with our CA) answers.
ad_samba_run() {
	local dir=$1 host=$2
	samba --foreground --no-process-group -s "$dir/dc/etc/smb.conf" >"$dir/samba.out" 2>&1 &
	SAMBA_PID=$!
	for _ in $(seq 150); do
		LDAPTLS_CACERT=$AD_CA ldapsearch -x -H "ldaps://$host" -s base -b "" \
			defaultNamingContext >/dev/null 2>&1 && return 0
		kill -0 "$SAMBA_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "the DC $host did not start:" >&2
	tail -20 "$dir/samba.out" "$dir/samba.log" >&2
	return 1
}

# Stops the DC and whatever it left (samba-dcerpcd outlives it): the test is PID 1 of its own PID
# namespace (ad_enter_namespaces), so every other process in it is the DC's or the test's.
ad_dc_stop() {
	[ -n "$AD_PID" ] || return 0
	kill "$AD_PID" 2>/dev/null
	wait "$AD_PID" 2>/dev/null
	AD_PID=
	[ "$$" = 1 ] || return 0
	kill -TERM -1 2>/dev/null
	for _ in $(seq 50); do
		[ "$(ps -e -o pid= | wc -l)" -le 2 ] && break # this shell and ps
		sleep 0.1
	done
	kill -KILL -1 2>/dev/null
	wait 2>/dev/null
}

ad_dird_conf() {
	local file=$1 global=$2 domain=$3
	mkdir -p "$WORK/cache" "$WORK/run"
	printf '%s\n' "$AD_USER_PASSWORD" >"$WORK/bindpw"
	chmod 600 "$WORK/bindpw"
	# realm and workgroup in lower case: dird.conf takes them in any case
	cat >"$file" <<CONF
[global]
cache_dir = $WORK/cache
run_dir = $WORK/run
nss_timeout = 5
log_level = debug
krb5_config = $AD_KRB5_CONF
$global

[domain/adtest]
type = ad
realm = ad.test
workgroup = adtest
uri = ${AD_URIS:-ldaps://$AD_HOST}
tls_ca_file = $AD_CA
bind_dn = svc_dird@ad.test
bind_password_file = $WORK/bindpw
$domain
CONF
	chmod 644 "$file"
}

# A second DC (dc2.ad.test, 10.53.1.3, on a veth pair of its own) joined to the running DC's
# domain with `samba-tool domain join ... DC`, replicating from it, with a certificate of the same
# CA; sets AD2_DIR.  It listens only on its own address: lo is the first DC's.
AD2_IP=10.53.1.3
AD2_HOST=dc2.ad.test
ad_dc2_start() {
	local dir=$1
	AD2_DIR=$dir
	mkdir -p "$dir/run"
	ip link add dirad2 type veth peer name dirad3 || return 1
	ip addr add 10.53.1.1/24 dev dirad2
	ip addr add "$AD2_IP/24" dev dirad3
	ip link set dirad2 up
	ip link set dirad3 up
	printf '%s %s dc2\n' "$AD2_IP" "$AD2_HOST" >>"$AD_DIR/hosts"
	if ! /usr/bin/python3 /usr/bin/samba-tool domain join "${AD_REALM,,}" DC \
		-s "$AD_DIR/empty.conf" -U "$AD_DOMAIN\\Administrator" --password="$AD_ADMIN_PASSWORD" \
		--server="$AD_HOST" --targetdir="$dir/dc" --dns-backend=SAMBA_INTERNAL \
		--option="netbios name=DC2" --option="interfaces=dirad3" \
		--option="bind interfaces only=yes" --option="dns forwarder=" \
		--option="pid directory=$dir/run" >"$dir/join.log" 2>&1; then
		echo "joining the second DC failed:" >&2
		tail -20 "$dir/join.log" >&2
		return 1
	fi
	tls_cert "$AD_DIR/tls" adca dc2 "DNS:$AD2_HOST,IP:$AD2_IP" || return 1
	ad_smb_conf "$dir" "$AD_DIR/tls/dc2"
	ad_samba_run "$dir" "$AD2_HOST"
}

seen() {
	local desc=$1 start; shift
	start=$(now_ms)
	for _ in $(seq 300); do
		if "$@" >/dev/null 2>&1; then
			echo "    $desc: seen after $(($(now_ms) - start)) ms (sync_interval $INTERVAL s)"
			check "$desc" true
			return 0
		fi
		sleep 0.1
	done
	check "$desc (not seen within 30 s)" false
}
