#!/usr/bin/python3
"""A stand-in LDAP server that offers RFC 4533 content sync and answers every sync search with
a malformed message, or entries a real server would not send, for test_sync_hostile.sh.

  hostile_sync_ldap.py PORTFILE MODE

Listens on 127.0.0.1 (a free port, written to PORTFILE), accepts any simple bind, lists the
sync request control in its root DSE, and answers a search with the sync request control as
MODE says, leaving it open after:
  empty-state   an entry whose syncState control has an empty value
  short-uuid    an entry whose syncState names an entryUUID of 3 bytes
  empty-info    a syncInfo intermediate with an empty value
  refresh-required  the search's end with e-syncRefreshRequired, even to a search from nothing
  big-entries   a refresh from nothing of four users (the groups' one: none), then persists:
                alice and bob, longdn (a DN of over 4,096 bytes) and badid (a syncUUID of 40
                bytes); slapd's back-mdb sends neither (an RDN of 250 characters is refused)
Any other search gets the base entry and its end.  Prints "sync_searches=N" to stdout each time
a connection closes.

The BER is ldap_ber.py's.
"""
import sys

from ldap_ber import answer, integer, listen, message, octets, result, tlv

SYNC = b"1.3.6.1.4.1.4203.1.9.1.1"
SYNC_STATE = b"1.3.6.1.4.1.4203.1.9.1.2"
SYNC_INFO = b"1.3.6.1.4.1.4203.1.9.1.4"


def entry(dn, attrs):
    return tlv(0x64, octets(dn) + tlv(0x30, b"".join(
        tlv(0x30, octets(k) + tlv(0x31, b"".join(octets(v) for v in vs))) for k, vs in attrs)))


def control(oid, value):
    return tlv(0xA0, tlv(0x30, octets(oid) + octets(value)))


def user(msgid, name, uid, uuid, dn=None):
    dn = dn or b"uid=" + name + b",ou=people,dc=example,dc=test"
    attrs = [(b"objectClass", [b"posixAccount"]), (b"uid", [name]), (b"cn", [name]),
             (b"uidNumber", [str(uid).encode()]), (b"gidNumber", [str(uid).encode()]),
             (b"homeDirectory", [b"/home/" + name]), (b"loginShell", [b"/bin/sh"])]
    state = tlv(0x30, integer(1, 0x0A) + octets(uuid))  # add
    return message(msgid, entry(dn, attrs), control(SYNC_STATE, state))


def big_entries(msgid, base):
    # the refresh's end: refreshPresent, refreshDone TRUE by default
    done = message(msgid, tlv(0x79, octets(SYNC_INFO, 0x80) + octets(tlv(0xA2, b""), 0x81)))
    if not base.startswith(b"ou=people"):
        return done
    long_dn = b"uid=longdn,ou=" + b"x" * 4200 + b",ou=people,dc=example,dc=test"
    return (user(msgid, b"alice", 5001, bytes([1] * 16)) +
            user(msgid, b"longdn", 5002, bytes([2] * 16), long_dn) +
            user(msgid, b"badid", 5003, bytes([3] * 40)) +
            user(msgid, b"bob", 5004, bytes([4] * 16)) + done)


def hostile(msgid, mode, base):
    dn = b"uid=hostile,ou=people,dc=example,dc=test"
    if mode == "big-entries":
        return big_entries(msgid, base)
    if mode == "empty-state":
        return message(msgid, entry(dn, []), control(SYNC_STATE, b""))
    if mode == "short-uuid":
        state = tlv(0x30, integer(1, 0x0A) + octets(b"abc"))
        return message(msgid, entry(dn, []), control(SYNC_STATE, state))
    if mode == "refresh-required":
        return message(msgid, tlv(0x65, integer(4096, 0x0A) + octets(b"") + octets(b"")))
    return message(msgid, tlv(0x79, octets(SYNC_INFO, 0x80) + octets(b"", 0x81)))


def serve(conn, mode):
    searches = 0

    def search(msgid, base, rest):
        nonlocal searches
        if SYNC in rest:
            searches += 1
            return hostile(msgid, mode, base)
        attrs = [(b"objectClass", [b"top"])]
        if base == b"":
            attrs.append((b"supportedControl", [SYNC]))
        return message(msgid, entry(base, attrs)) + message(msgid, result(0x65))

    answer(conn, search)
    print(f"sync_searches={searches}", flush=True)


def main():
    listen(sys.argv[1], serve, sys.argv[2])


if __name__ == "__main__":
    main()
