#!/usr/bin/python3
"""Writes the directory of test_schemas.sh as LDIF: an RFC 2307bis tree (groupOfNames groups
with member DNs, three levels of nesting and a cycle, one user with memberOf) under ou=bis, a
tree with its own attribute names under ou=custom, and under ou=mixed a tree with every kind of
group (posixGroup with memberUid, groupOfNames with member DNs nested three deep and holding
itself, groupOfUniqueNames, member DNs that are no user or group of the domain).

Usage: gen_schemas_ldif.py OUT.ldif
"""
import sys

BASE = "dc=example,dc=test"
BIS = f"ou=bis,{BASE}"
CUSTOM = f"ou=custom,{BASE}"
MIXED = f"ou=mixed,{BASE}"


def mixed(e):
    """Users in sub-OUs of ou=people (and one elsewhere); groups of every shape in ou=groups."""
    people, groups = f"ou=people,{MIXED}", f"ou=groups,{MIXED}"
    for dn in (MIXED, people, f"ou=eng,{people}", f"ou=ops,{people}", groups, f"ou=elsewhere,{MIXED}"):
        e.append(f"dn: {dn}\nobjectClass: organizationalUnit\nou: {dn.split(',')[0][3:]}\n")
    dn = {}
    for name, uid, ou in (("mia", 60001, "ou=eng,"), ("noa", 60002, "ou=eng,"), ("oli", 60003, "ou=ops,"),
                          ("pat", 60004, "ou=ops,"), ("quinn", 60005, ""), ("xavi", 60009, None)):
        parent = f"ou=elsewhere,{MIXED}" if ou is None else f"{ou}{people}"
        dn[name] = f"uid={name},{parent}"
        e.append(f"dn: {dn[name]}\nobjectClass: account\nobjectClass: posixAccount\nuid: {name}\n"
                 f"cn: {name}\nuidNumber: {uid}\ngidNumber: 61010\nhomeDirectory: /home/{name}\n")
    # Inside user_base but not a user; inside it and nothing at all.
    e.append(f"dn: cn=printer,{people}\nobjectClass: organizationalRole\ncn: printer\n")
    dn["ghost"] = f"uid=ghost,{people}"
    dn["printer"] = f"cn=printer,{people}"

    def group(name, gid, classes, uids=(), members=(), unique=()):
        lines = [f"dn: cn={name},{groups}"] + [f"objectClass: {c}" for c in classes + ("posixGroup",)]
        lines += [f"cn: {name}", f"gidNumber: {gid}"] + [f"memberUid: {u}" for u in uids]
        lines += [f"member: {m}" for m in members] + [f"uniqueMember: {m}" for m in unique]
        e.append("\n".join(lines) + "\n")

    def g(name):
        return f"cn={name},{groups}"

    group("folk", 61010, ("namedObject",))                             # everyone's primary group
    group("legacy", 61000, ("namedObject",), uids=("oli", "mia"))      # RFC 2307: names
    group("devs", 61001, ("groupOfNames",), members=(dn["mia"], dn["noa"]))
    group("eng", 61002, ("groupOfNames",), members=(g("devs"), dn["quinn"]))
    group("all", 61003, ("groupOfNames",), uids=("oli",),             # both kinds on one entry,
          members=(g("eng"), g("all"), dn["pat"]))                     # three deep, and itself
    # The optional UID names one incarnation of an entry (x500UniqueIdentifier): not followed.
    group("ops", 61004, ("groupOfUniqueNames",), unique=(dn["oli"], dn["pat"], dn["quinn"] + "#'1'B"))
    group("stray", 61005, ("groupOfNames",),                           # three more to skip
          members=(dn["noa"], dn["xavi"], dn["printer"], dn["ghost"]))


def main():
    e = [f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n"]
    for ou in ("system", "policies"):
        e.append(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n")
    e.append(f"dn: cn=default,ou=policies,{BASE}\nobjectClass: organizationalRole\n"
             "objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\n")
    e.append(f"dn: cn=reader,ou=system,{BASE}\nobjectClass: organizationalRole\n"
             "objectClass: simpleSecurityObject\ncn: reader\nuserPassword: readerpw\n")
    for dn in (BIS, f"ou=people,{BIS}", f"ou=groups,{BIS}", CUSTOM, f"ou=staff,{CUSTOM}",
               f"ou=old,ou=staff,{CUSTOM}", f"ou=teams,{CUSTOM}"):
        ou = dn.split(",")[0][3:]
        e.append(f"dn: {dn}\nobjectClass: organizationalUnit\nou: {ou}\n")

    def person(name, uid, member_of=()):
        lines = [f"dn: uid={name},ou=people,{BIS}", "objectClass: account", "objectClass: posixAccount",
                 f"uid: {name}", f"cn: {name}", f"uidNumber: {uid}", "gidNumber: 40000",
                 f"homeDirectory: /home/{name}", f"userPassword: {name}pw"]
        lines += [f"memberOf: cn={g},ou=groups,{BIS}" for g in member_of]
        e.append("\n".join(lines) + "\n")

    def group(name, gid, users=(), groups=()):
        lines = [f"dn: cn={name},ou=groups,{BIS}", "objectClass: groupOfNames", "objectClass: posixGroup",
                 f"cn: {name}", f"gidNumber: {gid}"]
        lines += [f"member: uid={u},ou=people,{BIS}" for u in users]
        lines += [f"member: cn={g},ou=groups,{BIS}" for g in groups]
        e.append("\n".join(lines) + "\n")

    for i, name in enumerate(("ann", "ben", "cal", "dee")):
        person(name, 40001 + i)
    person("eve", 40005, member_of=("leaf",))   # the server says where she is: memberOf
    person("fay", 40006)                         # in no group
    person("ann2", 40001)                        # ann's uid again: ann is served
    group("people", 40000, users=("fay",))              # groupOfNames needs a member
    group("top", 41000, users=("ann",), groups=("mid",))
    group("mid", 41001, users=("ben",), groups=("leaf",))
    group("leaf", 41002, users=("cal", "eve"), groups=("mid",))  # mid <-> leaf: a cycle
    group("solo", 41003, users=("dee",))
    group("zzz", 41003, users=("dee",))          # solo's gid again: solo is served

    # Custom names: login in cn, ids in employeeNumber / departmentNumber, gecos in displayName.
    def staff(rdn, cn, uid, parent=f"ou=staff,{CUSTOM}"):
        e.append(f"dn: uid={rdn},{parent}\nobjectClass: inetOrgPerson\nuid: {rdn}\ncn: {cn}\n"
                 f"sn: {cn.title()}\ndisplayName: {cn.title()} Example\nemployeeNumber: {uid}\n"
                 f"departmentNumber: 50000\nmail: {cn}@example.test\n")

    staff("x1", "zed", 50001)
    staff("x2", "yan", 50002)
    staff("x3", "old", 50003, parent=f"ou=old,ou=staff,{CUSTOM}")  # below the one level searched
    e.append(f"dn: cn=crew,ou=teams,{CUSTOM}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\n"
             f"cn: crew\ndepartmentNumber: 50010\nmember: uid=x1,ou=staff,{CUSTOM}\n"
             f"member: uid=x2,ou=staff,{CUSTOM}\ndescription: the crew of zed and yan\n")
    mixed(e)
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(e))


if __name__ == "__main__":
    main()
