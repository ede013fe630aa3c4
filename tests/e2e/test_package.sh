#!/bin/bash
# The Debian packages: dpkg-buildpackage builds them from a copy of the tree, lintian finds no
# error in them, and unpacked into a throwaway root every file is where it should be.  Nothing
# is installed on this host.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TOP=$(cd "$HERE/../.." && pwd)

WORK=$(mktemp -d /tmp/dir-e2e-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/src"
(cd "$TOP" && tar --exclude='./build*' --exclude=./.git --exclude=./bench/results -cf - .) |
	tar -xf - -C "$WORK/src"
(cd "$WORK/src" && dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1
rc=$?
check_eq "dpkg-buildpackage builds the packages" "0" "$rc"
[ "$rc" = 0 ] || tail -30 "$WORK/build.log"
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for p in dird dirctl libnss-dir libpam-dir; do
	deb=$(ls "$WORK"/${p}_*.deb 2>/dev/null | head -1)
	check "package $p was built" test -n "$deb"
	[ -n "$deb" ] || continue
	errors=$(lintian --no-tag-display-limit "$deb" 2>&1 | grep '^E:')
	check_eq "lintian finds no error in $p" "" "$errors"
	dpkg-deb -x "$deb" "$WORK/root"
done
for f in usr/sbin/dird usr/bin/dirctl "usr/lib/$arch/libnss_dir.so.2" "usr/lib/$arch/security/pam_dir.so" \
	lib/systemd/system/dird.service usr/share/man/man8/dird.8.gz usr/share/man/man8/dirctl.8.gz \
	usr/share/man/man5/dird.conf.5.gz usr/share/man/man8/pam_dir.8.gz usr/share/man/man8/libnss_dir.8.gz \
	usr/share/bash-completion/completions/dirctl usr/share/doc/dird/examples/dird.conf \
	usr/share/doc/dird/examples/pam.d/truenas usr/share/pam-configs/dir; do
	check "the packages put $f in place" test -e "$WORK/root/$f"
done
for deb in "$WORK"/*.deb; do
	dpkg-deb -e "$deb" "$WORK/ctl-$(basename "$deb")"
done
check "the packages' maintainer scripts were found" test -n "$(ls "$WORK"/ctl-*/post* 2>/dev/null)"
# Installing changes no login: the pam-auth-update profile is off until dirctl enable; removing
# libpam-dir takes it out of /etc/pam.d/common-* (which would otherwise name a module that is gone).
check_fails "no maintainer script touches nsswitch.conf or the PAM configuration (but that prerm)" \
	sh -c "ls '$WORK'/ctl-*/*inst '$WORK'/ctl-*/*rm | grep -v 'ctl-libpam-dir_.*/prerm' | xargs cat |
		grep -E 'nsswitch|pam-auth-update|/etc/pam'"
check "the profile is off until dirctl enable turns it on" grep -qx "Default: no" "$WORK/root/usr/share/pam-configs/dir"
check "libpam-dir's prerm takes the profile out on remove (only)" \
	sh -c "grep -B1 'pam-auth-update --package --remove dir' '$WORK'/ctl-libpam-dir_*/prerm | grep -q '\"\$1\" = remove'"
cp -r "$WORK"/ctl-dird_* "$WORK/ctl"
# debhelper's postinst: "was-enabled defaults to true, so new installations run enable" for a
# unit it enables; one it does not is enabled only if it was installed and enabled before.
check "dird.service is enabled on install" \
	sh -c "grep -B3 \"was-enabled 'dird.service'\" '$WORK/ctl/postinst' | grep -q 'defaults to true'"
check "...but starts only once /etc/dird.conf exists" \
	grep -qx "ConditionPathExists=/etc/dird.conf" "$WORK/root/lib/systemd/system/dird.service"
cp -r "$WORK"/ctl-dirctl_* "$WORK/ctl-dirctl"
check "the machine password timer is not enabled on install (dirctl ads join does it)" \
	grep -q "deb-systemd-helper debian-installed 'dird-machine-password.timer'" "$WORK/ctl-dirctl/postinst"
check_fails "...nor started" grep -q "deb-systemd-invoke.*dird-machine-password" "$WORK/ctl-dirctl/postinst"
finish
