#!/usr/bin/python3
"""The benchmark's directory, written three ways from one seed: LDIF for slapd, passwd and group
lines for nss_files, and the names each measurement looks up with the answer each must get.

Usage: gen.py OUTDIR [--users N] [--groups N]

Default: 10,000 users in 1,000 groups, each user in 3 of them; besides, big1, big2 and big3
(g00000..g00002) hold the first 5,000, 3,000 and 2,000 users, and the user "wide" is in 5,000
groups of its own.  Up to 1,000,000 users and 100,000 groups.

Each lookup file has one line per lookup, "KEY NAME ID NUMBER" (see nss_bench.c): users.txt
(getpwnam), uids.txt (getpwuid), groups.txt (getgrnam), gids.txt (getgrgid), ingroups.txt
(getgrouplist of users.txt's users), big.txt, wide.txt; miss.txt holds a name nobody has,
unknown.txt 1,000 of them, local.txt root (the host's).
counts says how many users and groups there are and from which ids they start.
"""
import argparse
import os
import random

BASE = "dc=bench,dc=test"
# Far apart, so that no id range reaches another at 1,000,000 users and 100,000 groups.
UID0, GID0, WIDE_GID0 = 100000, 2000000, 3000000
PER_USER, WIDE_GROUPS, BIG = 3, 5000, (5000, 3000, 2000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=1000)
    a = ap.parse_args()
    if not (10 <= a.users <= 1000000 and 10 <= a.groups <= 100000):
        ap.error("from 10 to 1,000,000 users and from 10 to 100,000 groups")
    rng = random.Random(2026)
    gnames = [f"g{i:05d}" for i in range(a.groups)]
    members = [[] for _ in gnames]
    user_groups = []  # per user: how many groups list it
    for i in range(a.users):
        mine = rng.sample(range(3, a.groups), PER_USER)
        mine += [b for b, n in enumerate(BIG) if i < n]
        for g in mine:
            members[g].append(i)
        user_groups.append(len(mine))
    uname = lambda i: f"u{i:06d}"

    os.makedirs(a.outdir, exist_ok=True)
    out = lambda name: open(os.path.join(a.outdir, name), "w")
    with out("data.ldif") as f, out("passwd") as pw, out("group") as gr:
        f.write(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Bench\ndc: bench\n\n")
        for ou in ("people", "groups", "system"):
            f.write(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
        f.write(f"dn: cn=reader,ou=system,{BASE}\nobjectClass: organizationalRole\n"
                "objectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n")
        for i, u in enumerate([uname(i) for i in range(a.users)] + ["wide"]):
            uid = UID0 + i
            f.write(f"dn: uid={u},ou=people,{BASE}\nobjectClass: account\nobjectClass: posixAccount\n"
                    f"uid: {u}\ncn: {u}\nuidNumber: {uid}\ngidNumber: {GID0}\n"
                    f"homeDirectory: /home/{u}\nloginShell: /bin/sh\ngecos: Bench user {i}\n\n")
            pw.write(f"{u}:x:{uid}:{GID0}:Bench user {i}:/home/{u}:/bin/sh\n")
        for g, name in enumerate(gnames):
            write_group(f, gr, name, GID0 + 1 + g, [uname(i) for i in members[g]])
        for w in range(WIDE_GROUPS):
            write_group(f, gr, f"w{w:05d}", WIDE_GID0 + w, ["wide"])

    sample_users = rng.sample(range(a.users), min(1000, a.users))
    sample_groups = rng.sample(range(a.groups), min(1000, a.groups))
    user_line = lambda key, i: f"{key} {uname(i)} {UID0 + i} {GID0}"
    group_line = lambda key, g: f"{key} {gnames[g]} {GID0 + 1 + g} {len(members[g])}"
    lines = {
        "users.txt": [user_line(uname(i), i) for i in sample_users],
        "uids.txt": [user_line(UID0 + i, i) for i in sample_users],
        "groups.txt": [group_line(gnames[g], g) for g in sample_groups],
        "gids.txt": [group_line(GID0 + 1 + g, g) for g in sample_groups],
        # getgrouplist counts the primary group too
        "ingroups.txt": [f"{uname(i)} {uname(i)} {GID0} {user_groups[i] + 1}" for i in sample_users],
        "big.txt": [group_line(gnames[b], b) for b in range(len(BIG))],
        "wide.txt": [f"wide wide {GID0} {WIDE_GROUPS + 1}"],
        "miss.txt": ["nosuchuser"],
        "unknown.txt": [f"nosuch{i:06d}" for i in range(1000)],
        "local.txt": ["root root 0 0"],
    }
    for name, values in lines.items():
        with out(name) as f:
            f.write("\n".join(values) + "\n")
    with out("counts") as f:
        f.write(f"users={a.users + 1}\ngroups={a.groups + WIDE_GROUPS}\nuid0={UID0}\ngid0={GID0}\n"
                f"wide_groups={WIDE_GROUPS}\n")


def write_group(ldif, group_file, name, gid, users):
    ldif.write(f"dn: cn={name},ou=groups,{BASE}\nobjectClass: posixGroup\ncn: {name}\n"
               f"gidNumber: {gid}\n" + "".join(f"memberUid: {u}\n" for u in users) + "\n")
    group_file.write(f"{name}:x:{gid}:{','.join(users)}\n")


if __name__ == "__main__":
    main()
