#!/usr/bin/python3
"""Fills a freshly provisioned (not yet running) Samba AD DC with the accounts the AD tests use.

Usage: /usr/bin/python3 ad_populate.py SMB_CONF
(samba's python modules load only under Debian's /usr/bin/python3.)

Every user's password is the one in PASSWORD.  What each account is for:
  svc_dird   dird's own simple bind (over TLS)
  alice      uidNumber 10001 (idmap = ad), in g_inner, which nests in g_middle, then g_outer;
             also in a distribution group, which is never served
  bob        no RFC 2307 data: home and shell come from home_template and default_shell
  carol      in cyc_a; cyc_a and cyc_b are members of each other
  henry      primary group g_staff instead of Domain Users
  outlier    uidNumber 50000, outside the idmap = ad range of the tests
  dave       disabled; erin expired; frank locked out; grace must change her password
  jürgen     non-ASCII name and gecos; o'brien and paren(1): characters LDAP filters escape
"""
import sys
import time

import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

PASSWORD = "Secret-Pass.123"
SECURITY_GLOBAL = -2147483646  # GTYPE_SECURITY_GLOBAL_GROUP
DISTRIBUTION_GLOBAL = 2


def nt_time(unix):
    return int((unix + 11644473600) * 10_000_000)


def allow_deleted_objects(db, base, name):
    """Lets the account see tombstones (Show Deleted), as a site lets dird's: List Contents and
    Read Property on CN=Deleted Objects, which by default only administrators may read (in AD:
    dsacls "CN=Deleted Objects,..." /takeownership, then /G account:LCRP)."""
    sid = db.search(base=base, expression=f"(sAMAccountName={name})",
                    attrs=["objectSid"])[0]["objectSid"][0]
    sid = str(ndr_unpack(security.dom_sid, sid))
    dn = "CN=Deleted Objects," + base
    controls = ["show_deleted:1", "sd_flags:1:4"]  # the DACL alone
    old = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"],
                    controls=controls)[0]["nTSecurityDescriptor"][0]
    domain_sid = security.dom_sid(str(db.get_domain_sid()))
    sddl = ndr_unpack(security.descriptor, old).as_sddl(domain_sid) + f"(A;;LCRP;;;{sid})"
    m = ldb.Message(ldb.Dn(db, dn))
    m["nTSecurityDescriptor"] = ldb.MessageElement(
        ndr_pack(security.descriptor.from_sddl(sddl, domain_sid)), ldb.FLAG_MOD_REPLACE,
        "nTSecurityDescriptor")
    db.modify(m, controls=controls)


def main():
    lp = LoadParm()
    lp.load(sys.argv[1])
    db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
    base = str(db.domain_dn())

    # Lockout after 5 failures, for 30 minutes: frank is locked out below; wrong-password tests
    # elsewhere stay under the threshold.
    m = ldb.Message(ldb.Dn(db, base))
    m["lockoutThreshold"] = ldb.MessageElement("5", ldb.FLAG_MOD_REPLACE, "lockoutThreshold")
    m["lockoutDuration"] = ldb.MessageElement(str(-30 * 60 * 10_000_000), ldb.FLAG_MOD_REPLACE,
                                              "lockoutDuration")
    m["lockOutObservationWindow"] = ldb.MessageElement(str(-30 * 60 * 10_000_000),
                                                       ldb.FLAG_MOD_REPLACE,
                                                       "lockOutObservationWindow")
    db.modify(m)

    def user(name, **kw):
        db.newuser(name, PASSWORD, useusernameascn=True, **kw)

    user("svc_dird")  # dird's simple bind in the tests
    allow_deleted_objects(db, base, "svc_dird")
    user("alice", uidnumber=10001, gidnumber=10000, givenname="Alice", surname="Example",
         unixhome="/home/alice", loginshell="/bin/bash", mailaddress="alice@ad.test")
    user("bob", givenname="Bob", surname="Builder")
    user("carol", uidnumber=10003, gidnumber=10000)
    user("henry", uidnumber=10004, gidnumber=10000)
    user("outlier", uidnumber=50000, gidnumber=10000)
    user("dave", uidnumber=10005)
    user("erin", uidnumber=10006)
    user("frank", uidnumber=10007)
    user("grace", uidnumber=10008, force_password_change_at_next_login_req=True)
    user("jürgen", givenname="Jürgen", surname="Müller", uidnumber=10009)
    user("o'brien", uidnumber=10010)
    user("paren(1)", uidnumber=10011)

    def group(name, gid=None, kind=SECURITY_GLOBAL):
        db.newgroup(name, grouptype=kind, gidnumber=gid)

    group("g_inner", 10020)
    group("g_middle", 10021)
    group("g_outer", 10022)
    group("cyc_a", 10023)
    group("cyc_b", 10024)
    group("g_empty", 10025)
    group("g_staff", 10026)
    group("g_nogid")
    group("dist_list", 10027, DISTRIBUTION_GLOBAL)
    members = {
        "g_inner": ["alice"], "g_middle": ["g_inner"], "g_outer": ["g_middle"],
        "cyc_a": ["carol", "cyc_b"], "cyc_b": ["cyc_a"], "g_staff": ["henry"],
        "dist_list": ["alice"], "g_nogid": ["bob"],
    }
    for g, m in members.items():
        db.add_remove_group_members(g, m, add_members_operation=True)

    # Domain Users (RFC 2307 gid 10000) for idmap = ad.
    m = ldb.Message(ldb.Dn(db, "CN=Domain Users,CN=Users," + base))
    m["gidNumber"] = ldb.MessageElement("10000", ldb.FLAG_MOD_ADD, "gidNumber")
    db.modify(m)

    # henry's primary group: g_staff's RID.
    res = db.search(base, expression="(sAMAccountName=g_staff)", attrs=["objectSid"])
    sid = db.schema_format_value("objectSid", res[0]["objectSid"][0]).decode()
    m = ldb.Message(ldb.Dn(db, "CN=henry,CN=Users," + base))
    m["primaryGroupID"] = ldb.MessageElement(sid.rsplit("-", 1)[1], ldb.FLAG_MOD_REPLACE,
                                             "primaryGroupID")
    db.modify(m)

    # The DC's LDAP service names (samba_spnupdate would add them at the first start, from the
    # dnsupdate service the tests leave off): GSSAPI binds and adcli need ldap/dc1.ad.test.
    m = ldb.Message(ldb.Dn(db, "CN=DC1,OU=Domain Controllers," + base))
    m["servicePrincipalName"] = ldb.MessageElement(
        ["ldap/dc1.ad.test", "ldap/DC1", "ldap/dc1.ad.test/ad.test", "ldap/dc1.ad.test/ADTEST"],
        ldb.FLAG_MOD_ADD, "servicePrincipalName")
    db.modify(m)

    db.disable_account("(sAMAccountName=dave)")
    db.setexpiry("(sAMAccountName=erin)", -86400)
    m = ldb.Message(ldb.Dn(db, "CN=frank,CN=Users," + base))
    m["lockoutTime"] = ldb.MessageElement(str(nt_time(time.time())), ldb.FLAG_MOD_REPLACE,
                                          "lockoutTime")
    db.modify(m, controls=["relax:0"])


if __name__ == "__main__":
    main()
