#!/bin/bash
# The documentation keeps up with the code: every dird.conf key the parser knows is in the
# README's table and in etc/dird.conf, and etc/dird.conf parses (the unit tests check that).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TOP=$HERE/../..
keys=$(grep -oE '"[a-z0-9_]+"' "$TOP/libcommon/config.c" |
	tr -d '"' | sort -u | while read -r k; do
		grep -qE "(strcmp\\(k, \"$k\"\\)|\\{ \"$k\", offsetof)" "$TOP/libcommon/config.c" && echo "$k"
	done)
check "the parser's keys were found" test "$(wc -w <<<"$keys")" -gt 40
for k in $keys; do
	check "README documents $k" grep -q "\`$k\`" "$TOP/README.md"
	check "etc/dird.conf shows $k" grep -qE "^#? *$k *=" "$TOP/etc/dird.conf"
done
finish
