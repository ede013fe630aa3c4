#!/usr/bin/python3
"""Writes an RFC 2307 directory as LDIF, and what getent should show of it.

Usage: gen_ldif.py OUTDIR [--users N] [--big-group N] [--many-groups N]

OUTDIR/data.ldif      the directory (slapadd)
OUTDIR/passwd         expected `getent passwd` lines for directory users (min_id 1000 applied)
OUTDIR/group          expected `getent group` lines
"""
import argparse
import os

BASE = "dc=example,dc=test"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--users", type=int, default=3000, help="generated users u00001...")
    ap.add_argument("--big-group", type=int, default=3000, help="members of biggroup")
    ap.add_argument("--many-groups", type=int, default=300, help="groups the user 'many' is in")
    a = ap.parse_args()

    entries, passwd, group = [], [], []
    entries.append(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n")
    for ou in ("people", "groups", "system", "policies"):
        entries.append(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n")
    # The password policy overlay's default: honour pwdAccountLockedTime, never lock by itself,
    # and make a user whose password an administrator set (pwdReset) change it.
    entries.append(f"dn: cn=default,ou=policies,{BASE}\nobjectClass: organizationalRole\n"
                   "objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\n"
                   "pwdLockout: TRUE\npwdMaxFailure: 0\npwdMustChange: TRUE\n")
    # A non-admin reader: the server's size limit (500) applies to it, so paging is needed.
    entries.append(f"dn: cn=reader,ou=system,{BASE}\nobjectClass: organizationalRole\n"
                   f"objectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n")

    def user(name, uid, gid, gecos=None, home=None, shell=None, cn=None, local=False, extra=()):
        e = [f"dn: uid={name},ou=people,{BASE}", "objectClass: account", "objectClass: posixAccount",
             f"uid: {name}", f"cn: {cn or name}", f"uidNumber: {uid}", f"gidNumber: {gid}",
             f"homeDirectory: {home or '/home/' + name}"]
        # Object classes together: slapadd does not gather them from all over the entry.
        e[3:3] = [x for x in extra if x.startswith("objectClass:")]
        e += [x for x in extra if not x.startswith("objectClass:")]
        if gecos is not None:
            e.append(f"gecos: {gecos}" if gecos.isascii() else
                     "gecos:: " + __import__("base64").b64encode(gecos.encode()).decode())
        if shell:
            e.append(f"loginShell: {shell}")
        entries.append("\n".join(e) + "\n")
        if uid >= 1000 and not local:
            shown = gecos if gecos is not None else (cn or name)
            passwd.append(f"{name}:*:{uid}:{gid}:{shown}:{home or '/home/' + name}:{shell or '/bin/sh'}")

    def grp(name, gid, members):
        e = [f"dn: cn={name},ou=groups,{BASE}", "objectClass: posixGroup", f"cn: {name}",
             f"gidNumber: {gid}"] + [f"memberUid: {m}" for m in members]
        entries.append("\n".join(e) + "\n")
        if gid >= 1000:
            group.append(f"{name}:*:{gid}:{','.join(members)}")

    # Passwords are NAME + "pw"; the account states are what PAM must see.
    def pw(name, *more):
        return [f"userPassword: {name}pw", *more]
    shadow = "objectClass: shadowAccount"
    user("alice", 20001, 20000, "Alice Example", shell="/bin/bash", extra=pw("alice"))
    user("bob", 20002, 20000, "Böb Bäcker", extra=pw("bob"))   # non-ASCII gecos, no loginShell
    user("carol", 20003, 20000, None, cn="Carol C", extra=pw("carol"))  # no gecos: cn is shown
    user("lowid", 500, 500, "Below min_id", extra=pw("lowid"))          # hidden
    user("root", 20010, 20000, "Directory root", local=True, extra=pw("root"))  # local: never served
    user("many", 20020, 20000, "In many groups")
    user("expired", 20030, 20000, "Expired in 1970", extra=pw("expired", shadow, "shadowExpire: 1"))
    user("mustchange", 20031, 20000, "Must change", extra=pw("mustchange", shadow, "shadowLastChange: 0"))
    user("pwexpired", 20032, 20000, "Password too old",
         extra=pw("pwexpired", shadow, "shadowLastChange: 100", "shadowMax: 30"))
    user("disabled", 20033, 20000, "Disabled (389-DS)", extra=pw("disabled", "objectClass: extensibleObject", "nsAccountLock: TRUE"))
    user("locked", 20034, 20000, "Locked (ppolicy)",
         extra=pw("locked", "pwdAccountLockedTime: 000001010000Z"))
    user("outsider", 20035, 20035, "In no group", extra=pw("outsider"))
    user("resetme", 20036, 20000, "Password reset by an admin", extra=pw("resetme", "pwdReset: TRUE"))
    gen = [f"u{i:05d}" for i in range(1, a.users + 1)]
    for i, name in enumerate(gen):
        # 65534 is nobody's on every host: a local uid, never served from the directory
        user(name, 30000 + i + (30000 + i >= 65534), 20000, f"Generated {i}")

    grp("team", 20000, ["alice", "bob"])
    grp("devs", 20100, ["alice", "carol"])
    grp("lowgroup", 600, ["alice"])                      # hidden
    grp("empty", 20101, [])
    grp("biggroup", 20200, gen[: a.big_group])
    for i in range(a.many_groups):
        grp(f"g{i:04d}", 21000 + i, ["many"])

    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "data.ldif"), "w") as f:
        f.write("\n".join(entries))
    with open(os.path.join(a.outdir, "passwd"), "w") as f:
        f.write("\n".join(sorted(passwd)) + "\n")
    with open(os.path.join(a.outdir, "group"), "w") as f:
        f.write("\n".join(sorted(group)) + "\n")


if __name__ == "__main__":
    main()
