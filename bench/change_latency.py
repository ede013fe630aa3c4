#!/usr/bin/python3
"""bench/run's change latency: N changes made in slapd, each timed from ldapmodify's return to
the first answer of this process's own lookups (through /etc/nsswitch.conf, as a host has it)
that shows it.  The changes take turns: a user's shell modified, a user added, that user
deleted, a user added to a group (seen through getgrouplist and getgrnam both).  Every answer
is checked: before the change it must be the old state; after it, the old state or the new one
and nothing else (each of the two calls of a membership on its own) (a wrong answer fails the change, never a time), and the new one within WAIT
seconds.  The lookups run every millisecond.

Usage: change_latency.py URI ADMIN_DN PASSWORD BASE N USERS GROUPS [WAIT]
  USERS, GROUPS: how many of gen.py's u000000... and g00000... there are

Prints "changes=N failed=F median_ns=P50 p99_ns=P99 max_ns=MAX" (failed: changes seen wrong or
not seen, and after one not seen the rest, not made; with any, no times), and on stderr the first failure and each kind's median.
"""
import grp
import os
import pwd
import subprocess
import sys
import time

GID0 = 2000000        # gen.py's primary gid
NEW_UID0 = 90000000   # the added users' uids: none of gen.py's


def user(name):
    try:
        p = pwd.getpwnam(name)
        return ((p.pw_name, p.pw_uid, p.pw_gid, p.pw_shell),)
    except KeyError:
        return (None,)


def membership(name, group):
    """(the user's groups by getgrouplist, the group's members by getgrnam): two calls, so a
    change may come between them, and each is checked on its own"""
    try:
        members = tuple(sorted(grp.getgrnam(group).gr_mem))
    except KeyError:
        members = None
    return (tuple(sorted(os.getgrouplist(name, GID0))), members)


def plan(i, base, users, groups, added):
    """Change i: (kind, LDIF, the lookup, its answer before, its answer after)."""
    name = f"u{(7 + i * 7919) % users:06d}"  # spread over the directory; not inner.sh's u000004..6
    kind = i % 4
    if kind == 0:
        shell = f"/bin/changed-{i}"
        before = user(name)
        after = (before[0][:3] + (shell,),) if before[0] else ((),)
        return ("modify a shell", f"dn: uid={name},ou=people,{base}\nchangetype: modify\n"
                f"replace: loginShell\nloginShell: {shell}\n", lambda: user(name), before, after)
    if kind == 1:
        new, uid = f"live{i:05d}", NEW_UID0 + i
        added.append((new, uid))
        return ("add a user", f"dn: uid={new},ou=people,{base}\nchangetype: add\n"
                "objectClass: account\nobjectClass: posixAccount\n"
                f"uid: {new}\ncn: {new}\nuidNumber: {uid}\ngidNumber: {GID0}\n"
                f"homeDirectory: /home/{new}\nloginShell: /bin/sh\n",
                lambda: user(new), (None,), ((new, uid, GID0, "/bin/sh"),))
    if kind == 2:
        gone, uid = added[-1]
        return ("delete a user", f"dn: uid={gone},ou=people,{base}\nchangetype: delete\n",
                lambda: user(gone), ((gone, uid, GID0, "/bin/sh"),), (None,))
    # a group the user is not in yet: gen.py's g00003 and on (not the big ones)
    g = 3 + (i * 104729) % (groups - 3)
    for _ in range(groups):
        before = membership(name, f"g{g:05d}")
        if before[1] is not None and name not in before[1]:
            break
        g = 3 + (g - 2) % (groups - 3)
    gname = f"g{g:05d}"
    gid = grp.getgrnam(gname).gr_gid
    after = (tuple(sorted(before[0] + (gid,))), tuple(sorted(before[1] + (name,))))
    return ("add a member to a group", f"dn: cn={gname},ou=groups,{base}\nchangetype: modify\n"
            f"add: memberUid\nmemberUid: {name}\n", lambda: membership(name, gname), before, after)


def one(uri, admin, pw, change, wait):
    """Makes one change and waits for it: the ns it took, or why not."""
    kind, ldif, look, before, after = change
    got = look()
    if got != before:
        return f"{kind}: before the change the lookup said {got!r}, not {before!r}"
    subprocess.run(["ldapmodify", "-x", "-H", uri, "-D", admin, "-w", pw], input=ldif.encode(),
                   stdout=subprocess.DEVNULL, check=True)
    t0 = time.monotonic_ns()
    while True:
        got = look()
        if got == after:
            return time.monotonic_ns() - t0
        if any(g not in (b, a) for g, b, a in zip(got, before, after)):
            return f"{kind}: the lookup said {got!r}, neither {before!r} nor {after!r}"
        if time.monotonic_ns() - t0 > wait * 1e9:
            return f"{kind}: not seen within {wait} s"
        time.sleep(0.001)


def main():
    uri, admin, pw, base = sys.argv[1:5]
    n, users, groups = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    wait = int(sys.argv[8]) if len(sys.argv) > 8 else 30
    added, samples, kinds, failed = [], [], {}, 0
    for i in range(n):
        change = plan(i, base, users, groups, added)
        r = one(uri, admin, pw, change, wait)
        if isinstance(r, str):
            failed += 1
            if failed == 1:
                print(f"change {i}: {r}", file=sys.stderr)
            if "not seen" in r:
                break  # the peer does not follow changes: waiting for the rest tells nothing more
            continue
        samples.append(r)
        kinds.setdefault(change[0], []).append(r)
    for kind, ts in kinds.items():
        print(f"{kind}: median {sorted(ts)[len(ts) // 2] / 1e6:.1f} ms of {len(ts)}", file=sys.stderr)
    samples.sort()
    if failed or not samples:
        print(f"changes={n} failed={n - len(samples)}")
        return
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(f"changes={n} failed=0 median_ns={p(0.5)} p99_ns={p(0.99)} max_ns={samples[-1]}")


if __name__ == "__main__":
    main()
