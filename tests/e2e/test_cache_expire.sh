#!/bin/bash
# dirctl cache expire NAME|ID (as sss_cache -u): a change in the directory shows at the entry's
# next lookup, not at the next refresh or at entry_ttl; unknown names, groups and non-root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
e2e_start slapd

serve_directory 20 0 0 || exit 1
shell() { in_ns "$WORK/nss" getent passwd "$1" | cut -d: -f7; }
check_eq "alice's shell as cached" "/bin/bash" "$(shell alice)"
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN" -w "$SLAPD_ADMIN_PW" >/dev/null <<LDIF
dn: uid=alice,ou=people,dc=example,dc=test
changetype: modify
replace: loginShell
loginShell: /bin/zsh
-

dn: cn=devs,ou=groups,dc=example,dc=test
changetype: modify
add: memberUid
memberUid: bob
LDIF
check_eq "changed in the directory, the cache still answers the old shell" "/bin/bash" "$(shell alice)"
out=$("${CTL[@]}" cache expire alice 2>&1)
check_eq "dirctl cache expire alice: exit 0" "0" "$?"
check "it says what happens next" grep -q "user alice expired: its next lookup asks the directory" <<<"$out"
check_eq "the next lookup has the new shell" "/bin/zsh" "$(shell alice)"
check "dirctl user shows it too" grep -q "^shell  *.*zsh" <<<"$("${CTL[@]}" user alice)"
check_eq "a group by gid: the new member shows after expiry" "alice,carol,bob" \
	"$("${CTL[@]}" cache expire --group 20100 >/dev/null && in_ns "$WORK/nss" getent group devs | cut -d: -f4)"
check_eq "a name not cached: exit 5" "5" "$("${CTL[@]}" cache expire nosuchuser >/dev/null 2>&1; echo $?)"
check_fails "not root: refused" setpriv --reuid=65534 --regid=65534 --clear-groups "${CTL[@]}" cache expire alice
check_eq "a bad name: a usage error" "2" "$("${CTL[@]}" cache expire 'a:b' >/dev/null 2>&1; echo $?)"
finish
