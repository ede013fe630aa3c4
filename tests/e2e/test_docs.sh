#!/bin/bash
# The documentation keeps up with the code: every dird.conf key the parser knows (its table) is in
# the README's table, in dird.conf(5) and in etc/dird.conf (which the unit tests parse); the man
# pages render without warnings; every dirctl command of --help is in dirctl(8).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TOP=$HERE/../..
make_workdir
trap 'rm -rf "$WORK"' EXIT
# The parser's table of keys (libcommon/config_keys.c), as tests/tools/config_keys prints it.
keys=$("$BUILD/tests/config_keys" | cut -f2 | sort -u)
check "the parser's keys were found" test "$(wc -w <<<"$keys")" -gt 40
for k in $keys; do
	check "README documents $k" grep -q "\`$k\`" "$TOP/README.md"
	check "etc/dird.conf shows $k" grep -qE "^#? *$k *=" "$TOP/etc/dird.conf"
	check "dird.conf(5) documents $k" grep -qE "(\\\\fB|^\\.B )$k" "$TOP/man/dird.conf.5"
done
for page in "$TOP"/man/*.[58]; do
	check "$(basename "$page") renders without warnings" \
		test -z "$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)"
done
for cmd in $("$BUILD/dirctl/dirctl" --help | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' | sort -u); do
	check "dirctl(8) documents $cmd" grep -q "^\\.B.* $cmd\|^\\.B $cmd\|^\\.BR $cmd\|^\\.BI $cmd\|^\\.B[RI]* \"$cmd" \
		<(sed 's/\\-/-/g' "$TOP/man/dirctl.8") # roff writes a hyphen \-
done
for cmd in $("$BUILD/dirctl/dirctl" --help | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' | sort -u); do
	check "dirctl $cmd --help shows that command's usage" \
		sh -c "'$BUILD/dirctl/dirctl' $cmd --help | grep -q '^  $cmd'"
done
# The README's dird.conf examples parse as they stand (each block that starts with a section)
python3 - "$TOP/README.md" "$WORK" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^ *```ini\n(.*?)^ *```", text, re.S | re.M)
n = 0
for b in blocks:
    lines = [l.strip() for l in b.splitlines()]
    if lines and lines[0].startswith("["):
        n += 1
        open(f"{sys.argv[2]}/readme-{n}.conf", "w").write("\n".join(lines) + "\n")
PY
check "the README has dird.conf examples" test -e "$WORK/readme-3.conf"
for f in "$WORK"/readme-*.conf; do
	out=$("$BUILD/dirctl/dirctl" -c "$f" test no-such-domain 2>&1)
	rc=$?
	check_eq "README example $(basename "$f") parses (then: no such domain)" "2" "$rc"
	check "README example $(basename "$f"): no error of the file" bash -c '! grep -q "^dirctl: $1:" <<<"$2"' _ "$f" "$out"
done
# dirctl CMD --help explains each option its usage names (item 10 of issue 23)
for cmd in $("$BUILD/dirctl/dirctl" --help | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' | sort -u); do
	help=$("$BUILD/dirctl/dirctl" "$cmd" --help)
	for opt in $(sed -n "/^  $cmd/,/^Options/p" <<<"$help" | grep -oE -- '--[a-z0-9-]+' | sort -u); do
		check "dirctl $cmd --help explains $opt" grep -qE -- "^  (the options of .*)?$opt( |,|$)" <<<"$help"
	done
done
# --json is refused by a command without JSON output, never ignored; nothing is done then
for words in "cache refresh" "cache flush" "ssh-keys alice" "enable --dry-run" "disable" "krb5conf" \
	"pam render --dir $WORK/pam" "apikey add alice" "keytab add x -" "ads join"; do
	out=$(DIR_CONF=/nonexistent "$BUILD/dirctl/dirctl" --json $words 2>&1 </dev/null)
	check_eq "dirctl --json $words: a usage error" "2" "$?"
	check "dirctl --json $words: says it has no JSON output" grep -q "has no JSON output" <<<"$out"
	out=$(DIR_CONF=/nonexistent "$BUILD/dirctl/dirctl" $words --json 2>&1 </dev/null)
	check "dirctl $words --json: the same" grep -q "has no JSON output" <<<"$out"
done
check "nothing was written" test ! -e "$WORK/pam"
# bash completion offers the commands of --help
. "$TOP/etc/bash-completion/dirctl"
COMP_WORDS=(dirctl "")
COMP_CWORD=1
_dirctl
for cmd in $("$BUILD/dirctl/dirctl" --help | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' | sort -u); do
	check "bash completion offers $cmd" grep -qx -- "$cmd" <(tr " " "\n" <<<"${COMPREPLY[*]}")
done
COMP_WORDS=(dirctl cache "")
COMP_CWORD=2
_dirctl
check_eq "and the words after cache" "refresh flush" "${COMPREPLY[*]}"
finish
