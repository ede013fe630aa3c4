#!/usr/bin/python3
"""The benchmark's directory, written three ways from one seed: LDIF for slapd, passwd and group
lines for nss_files, and the names each measurement looks up.

Usage: gen.py OUTDIR [--users N] [--groups N] [--turbo]

Default: 10,000 users in 1,000 groups (each user in about 7 of them; big1, big2 and big3 hold
5,000, 3,000 and 2,000 members), and the user "wide" in 5,000 groups of its own.  --turbo:
10,000 users and 10,000 groups of 500 members each.
"""
import argparse
import os
import random

BASE = "dc=bench,dc=test"
UID0, GID0, WIDE_GID0 = 100000, 200000, 300000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--turbo", action="store_true")
    a = ap.parse_args()
    rng = random.Random(2026)
    if a.turbo:
        a.users, a.groups = 10000, 10000
    users = [f"u{i:06d}" for i in range(a.users)]
    members = {f"g{i:05d}": set() for i in range(a.groups)}
    gnames = list(members)
    if a.turbo:
        for g in gnames:
            members[g].update(rng.sample(users, 500))
    else:
        for u in users:
            for g in rng.sample(gnames[3:], min(7, len(gnames) - 3)):
                members[g].add(u)
        for g, n in zip(gnames[:3], (5000, 3000, 2000)):
            members[g].update(users[: min(n, len(users))])
    big = gnames[:3]
    wide = {f"w{i:05d}": {"wide"} for i in range(5000)}

    os.makedirs(a.outdir, exist_ok=True)
    out = lambda name: open(os.path.join(a.outdir, name), "w")
    with out("data.ldif") as f, out("passwd") as pw, out("group") as gr:
        f.write(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Bench\ndc: bench\n\n")
        for ou in ("people", "groups", "system"):
            f.write(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
        f.write(f"dn: cn=reader,ou=system,{BASE}\nobjectClass: organizationalRole\n"
                "objectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n\n")
        for i, u in enumerate(users + ["wide"]):
            uid = UID0 + i
            f.write(f"dn: uid={u},ou=people,{BASE}\nobjectClass: account\nobjectClass: posixAccount\n"
                    f"uid: {u}\ncn: {u}\nuidNumber: {uid}\ngidNumber: {GID0}\n"
                    f"homeDirectory: /home/{u}\nloginShell: /bin/sh\ngecos: Bench user {i}\n\n")
            pw.write(f"{u}:x:{uid}:{GID0}:Bench user {i}:/home/{u}:/bin/sh\n")
        for i, g in enumerate(gnames):
            write_group(f, gr, g, GID0 + 1 + i, sorted(members[g]))
        for i, g in enumerate(wide):
            write_group(f, gr, g, WIDE_GID0 + i, ["wide"])

    sample_users = rng.sample(users, min(1000, len(users)))
    sample_groups = rng.sample(gnames, min(1000, len(gnames)))
    lines = {
        "users.txt": sample_users,
        "uids.txt": [str(UID0 + users.index(u)) for u in sample_users],
        "groups.txt": sample_groups,
        "gids.txt": [str(GID0 + 1 + gnames.index(g)) for g in sample_groups],
        "big.txt": big,
        "wide.txt": ["wide"],
        "miss.txt": ["nosuchuser"],
    }
    for name, values in lines.items():
        with out(name) as f:
            f.write("\n".join(values) + "\n")
    with out("counts") as f:
        f.write(f"users={len(users) + 1}\ngroups={len(gnames) + len(wide)}\n")


def write_group(ldif, group_file, name, gid, users):
    ldif.write(f"dn: cn={name},ou=groups,{BASE}\nobjectClass: posixGroup\ncn: {name}\n"
               f"gidNumber: {gid}\n" + "".join(f"memberUid: {u}\n" for u in users) + "\n")
    group_file.write(f"{name}:x:{gid}:{','.join(users)}\n")


if __name__ == "__main__":
    main()
