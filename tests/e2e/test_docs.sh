#!/bin/bash
# The documentation keeps up with the code: every dird.conf key the parser knows is in the
# README's table, in dird.conf(5) and in etc/dird.conf (which the unit tests parse); the man
# pages render without warnings; every dirctl command of --help is in dirctl(8).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TOP=$HERE/../..
make_workdir
trap 'rm -rf "$WORK"' EXIT
keys=$(grep -oE '"[a-z0-9_]+"' "$TOP/libcommon/config.c" |
	tr -d '"' | sort -u | while read -r k; do
		grep -qE "(strcmp\\(k, \"$k\"\\)|\\{ \"$k\", offsetof)" "$TOP/libcommon/config.c" && echo "$k"
	done)
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
