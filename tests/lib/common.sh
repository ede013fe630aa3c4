# Shared by the end-to-end tests: assertions, dird, and the real getent/id/ls inside a private
# mount namespace whose /etc/nsswitch.conf names our module.
#
# Environment: BUILD (the meson build dir, absolute), WORK (a temp dir, mode 0755).

PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '    %s\n' "$2"; return 0; }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2] got [$3]"; fi
}

# check NAME CMD... : passes when CMD succeeds
check() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# check_fails NAME CMD... : passes when CMD fails
check_fails() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then not_ok "$name" "command succeeded: $*"; else ok "$name"; fi
}

finish() {
	dird_stop # its exit's leak check is a report too
	sanitizer_reports
	echo "e2e: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# within SECONDS COMMAND...: COMMAND succeeds within SECONDS (tried every 0.1 s, by the clock: a
# loaded machine's slow tries do not stretch the bound)
within() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# Under the sanitizer build an uninstrumented host program (getent, id) needs the runtime first.
# Leaks are checked in our programs (dird, dirctl), not in getent or id.  libcrypt goes first
# too: ASan's crypt_r interceptor looks the real one up at start, and pam_unix (loaded later by
# libpam) would call a NULL crypt_r without it.
SAN_PRELOAD=
HOST_ASAN_OPTIONS=
if [ -n "${DIR_SANITIZE:-}" ]; then
	SAN_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so):libcrypt.so.1
	HOST_ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:abort_on_error=1
fi

# make_workdir: WORK, a new temp directory that unprivileged commands of the tests may enter
make_workdir() {
	WORK=$(mktemp -d /tmp/dir-e2e-XXXXXX)
	chmod 755 "$WORK"
	# Sanitizer reports go to files of their own, which finish() prints and counts: a test's
	# own truncation of dird.log or a crash in a program whose output is not looked at cannot
	# hide one (ASan's and LeakSanitizer's; UBSan's stay on stderr, see sanitizer_reports).
	if [ -n "${DIR_SANITIZE:-}" ]; then
		mkdir -m 1777 "$WORK/sanitizer"
		local to=log_path=$WORK/sanitizer/report
		export ASAN_OPTIONS="${ASAN_OPTIONS:-}:$to" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:$to"
		export LSAN_OPTIONS="print_suppressions=0:suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lsan.supp"
		HOST_ASAN_OPTIONS="$HOST_ASAN_OPTIONS:$to"
	fi
}

# sanitizer_reports: each report a sanitizer wrote in this test, printed as "# " lines (tests/run
# shows them) and counted as a failure
sanitizer_reports() {
	local f
	for f in "${WORK:-/nonexistent}"/sanitizer/report*; do
		[ -f "$f" ] || continue
		not_ok "no sanitizer report ($(basename "$f"))" "$(head -1 "$f")"
		head -60 "$f" | sed 's/^/# /'
	done
	# UBSan (gcc 12, beside ASan) writes to stderr whatever log_path says: dird.log and the
	# like, unless the test emptied them since.
	for f in "${WORK:-/nonexistent}"/*.log; do
		[ -f "$f" ] && grep -q 'runtime error: ' "$f" || continue
		not_ok "no undefined behaviour ($(basename "$f"))" "$(grep -m1 'runtime error: ' "$f")"
		grep -m1 -A20 'runtime error: ' "$f" | sed 's/^/# /'
	done
}

E2E_SERVERS=()
# E2E_PIDS: processes of the test's own (sessions, rogue servers, clients holding dird) that the
# exit trap ends; a test empties it once it has waited for them.
E2E_PIDS=()
# e2e_start [LIB...]: the usual start of a test: tests/lib/LIB.sh sourced for each LIB (slapd,
# kdc, tls), WORK made, DIR_CONF naming $WORK/dird.conf (which CTL, the dirctl built here, reads),
# and a trap that on exit runs the test's own cleanup_first when it defines one, lets go of
# sessions waiting for $WORK/release, ends E2E_PIDS, stops dird and the servers of those
# libraries (LIB_stop: slapd_stop, kdc_stop) and removes WORK.
e2e_start() {
	local lib
	for lib in "$@"; do
		. "$(dirname "${BASH_SOURCE[0]}")/$lib.sh"
		! declare -F "${lib}_stop" >/dev/null || E2E_SERVERS+=("$lib")
	done
	make_workdir
	export DIR_CONF=$WORK/dird.conf
	CTL=("$BUILD/dirctl/dirctl")
	trap e2e_cleanup EXIT
}

e2e_cleanup() {
	local lib
	! declare -F cleanup_first >/dev/null || cleanup_first
	touch "$WORK/release" 2>/dev/null
	[ ${#E2E_PIDS[@]} = 0 ] || kill "${E2E_PIDS[@]}" 2>/dev/null
	dird_stop
	for lib in "${E2E_SERVERS[@]}"; do
		"${lib}_stop"
	done
	rm -rf "$WORK"
}

# slapd_generated USERS BIG_GROUP MANY_GROUPS: a slapd serving the users and groups gen_ldif.py
# makes in $WORK/data (its passwd and group files say what they are).  Needs slapd.sh.
slapd_generated() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/gen_ldif.py" "$WORK/data" --users "$1" \
		--big-group "$2" --many-groups "$3" &&
		slapd_start "$WORK/slapd" "$WORK/data/data.ldif"
}

# serve_directory USERS BIG_GROUP MANY_GROUPS [global dird.conf lines]: the usual start of a
# test: a slapd with generated users (gen_ldif.py), dird serving it after its first refresh
# (DIR_CONF), and $WORK/nss naming "files dir".  Needs slapd.sh.
serve_directory() {
	slapd_generated "$1" "$2" "$3" || return 1
	shift 3
	export DIR_CONF=$WORK/dird.conf
	write_dird_conf "$DIR_CONF" "$SLAPD_URI" "$(printf '%s\n' "$@")"
	write_nsswitch "$WORK/nss" "files dir"
	dird_start && dird_wait_refresh
}

# local_user_files: $WORK/passwd, $WORK/group and $WORK/shadow, the host's with a local user
# localuser (uid and gid 4242, password localpw) added, to bind over /etc's in a namespace.
local_user_files() {
	local hash
	cp /etc/passwd /etc/group "$WORK/"
	cp /etc/shadow "$WORK/shadow"
	chmod 600 "$WORK/shadow"
	echo "localuser:x:4242:4242:Local User:/tmp:/bin/sh" >>"$WORK/passwd"
	echo "localuser:x:4242:" >>"$WORK/group"
	hash=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("localpw", crypt.mksalt(crypt.METHOD_SHA512)))')
	echo "localuser:$hash:19000:0:99999:7:::" >>"$WORK/shadow"
}

# write_nsswitch FILE SOURCES : passwd/group/initgroups lines naming SOURCES
write_nsswitch() {
	printf 'passwd: %s\ngroup: %s\nshadow: files\nhosts: files\n' "$2" "$2" >"$1"
}

# in_ns NSSWITCH [--bind SRC DST]... [--as-nobody] CMD... : runs CMD with that nsswitch.conf
# (and each SRC mounted over DST: a private /etc/pam.d, passwd, shadow) and our module
in_ns() {
	local nss=$1; shift
	local as=() mounts='mount --bind "$0" /etc/nsswitch.conf'
	local binds=()
	while [ "${1:-}" = --bind ]; do
		binds+=("$2" "$3")
		mounts="$mounts && mount --bind \"\$$((${#binds[@]} - 1))\" \"\$${#binds[@]}\""
		shift 3
	done
	if [ "${1:-}" = --as-nobody ]; then
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
		shift
	fi
	unshare -m --propagation private sh -c "$mounts && shift ${#binds[@]} && exec \"\$@\"" \
		"$nss" "${binds[@]}" "${as[@]}" env LD_LIBRARY_PATH="$BUILD/nss_dir" LD_PRELOAD="$SAN_PRELOAD" \
		ASAN_OPTIONS="${HOST_ASAN_OPTIONS:-${ASAN_OPTIONS:-}}" DIR_CONF="$DIR_CONF" "$@"
}

# write_dird_conf FILE URI [extra global lines] : a config for the test slapd
write_dird_conf() {
	local file=$1 uri=$2 extra=${3:-}
	mkdir -p "$WORK/cache" "$WORK/run"
	printf 'readerpw\n' >"$WORK/bindpw"
	chmod 600 "$WORK/bindpw"
	cat >"$file" <<CONF
[global]
cache_dir = $WORK/cache
run_dir = $WORK/run
nss_timeout = 2
log_level = debug
$extra

[domain/example]
type = ldap
uri = $uri
base_dn = dc=example,dc=test
user_base = ou=people,dc=example,dc=test
group_base = ou=groups,dc=example,dc=test
bind_dn = cn=reader,ou=system,dc=example,dc=test
bind_password_file = $WORK/bindpw
page_size = 200
CONF
	chmod 644 "$file"
}

# positions_store POSITION: dird stopped, every stream position of domain example in both tdb
# files of $WORK/cache made POSITION (a position the server never gave)
positions_store() {
	local f s
	for f in "$WORK/cache"/directoryservice_cache_user.tdb "$WORK/cache"/directoryservice_cache_group.tdb; do
		for s in example/users example/groups; do
			tdbtool "$f" store "SYNC_POSITION_$s" "$1" >/dev/null
		done
	done
}

# pam_stacks DIR [session options]: the shipped PAM services in DIR, naming the module built
# here (MOD), and "bare", pam_dir alone in every phase, for exact result codes.
pam_stacks() {
	local dir=$1 f
	MOD=$BUILD/pam_dir/pam_dir.so
	mkdir -p "$dir"
	for f in "$(dirname "${BASH_SOURCE[0]}")"/../../etc/pam.d/*; do
		sed "s|pam_dir\.so|$MOD|" "$f" >"$dir/$(basename "$f")"
	done
	printf 'auth\trequired\t%s\naccount\trequired\t%s\nsession\trequired\t%s %s\npassword\trequired\t%s\n' \
		"$MOD" "$MOD" "$MOD" "${2:-}" "$MOD" >"$dir/bare"
}

DIRD_PID=
# dird_start [WRAPPER...]: dird in the foreground, logging to $WORK/dird.log, run through
# WRAPPER (setpriv ...) when given
dird_start() {
	"$@" "$BUILD/dird/dird" -f -c "$DIR_CONF" >>"$WORK/dird.log" 2>&1 &
	DIRD_PID=$!
	for _ in $(seq 100); do
		[ -S "$WORK/run/dird.sock" ] && return 0
		kill -0 "$DIRD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "dird did not start:" >&2
	tail -20 "$WORK/dird.log" >&2
	return 1
}

# dird_private [CMD...]: dird (run through CMD) in a mount namespace with $WORK/passwd and
# $WORK/group over /etc/passwd and /etc/group
dird_private() {
	unshare -m --propagation private sh -c 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group &&
		shift 2 && exec "$@"' sh "$WORK/passwd" "$WORK/group" "$@" \
		"$BUILD/dird/dird" -f -c "$DIR_CONF" >>"$WORK/dird.log" 2>&1 &
	DIRD_PID=$!
	for _ in $(seq 100); do [ -S "$WORK/run/dird.sock" ] && return 0; sleep 0.05; done
	tail -20 "$WORK/dird.log" >&2
	return 1
}

# Waits until dird has finished a refresh and is not running another.
dird_wait_refresh() {
	for _ in $(seq 300); do
		local n
		n=$("$BUILD/dirctl/dirctl" -c "$DIR_CONF" --json status 2>/dev/null |
			python3 -c 'import json,sys; d=json.load(sys.stdin); print(0 if d["refreshing"] else d["last_refresh"])' 2>/dev/null)
		[ -n "$n" ] && [ "$n" != 0 ] && return 0
		sleep 0.1
	done
	echo "dird did not finish a refresh" >&2
	tail -20 "$WORK/dird.log" >&2
	return 1
}

# stream_in_sync: dirctl status says the first domain's change stream keeps the cache whole
stream_in_sync() {
	"$BUILD/dirctl/dirctl" --json status 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["domains"][0]["in_sync"] else 1)'
}

dird_stop() {
	[ -n "$DIRD_PID" ] || return 0
	kill "$DIRD_PID" 2>/dev/null
	wait "$DIRD_PID" 2>/dev/null
	DIRD_RC=$?
	DIRD_PID=
}

# cache_refresh: `dirctl cache refresh` (bounded by 120 s); logged_since_refresh TEXT: dird.log
# has a line matching TEXT (grep) since the last cache_refresh began
REFRESH_LOG_LINE=0
cache_refresh() {
	REFRESH_LOG_LINE=$(wc -l <"$WORK/dird.log")
	timeout 120 "${CTL[@]}" cache refresh >/dev/null 2>&1
}
logged_since_refresh() { tail -n +$((REFRESH_LOG_LINE + 1)) "$WORK/dird.log" | grep -q "$1"; }

# The folder libpam loads modules named without a path from (the security/ folder beside it).
PAM_MODULE_DIR=$(dirname "$(ldconfig -p | awk '/libpam\.so\.0 /{print $NF; exit}')")/security
# pam_modules DIR: DIR holds the host's PAM modules and the pam_dir.so built here, to bind over
# PAM_MODULE_DIR (dirctl pam render refuses stacks naming a module that is not installed)
pam_modules() {
	mkdir -p "$1"
	cp -a "$PAM_MODULE_DIR"/. "$1/" # copies: links would point back into the bound folder
	ln -sf "$BUILD/pam_dir/pam_dir.so" "$1/pam_dir.so"
}
