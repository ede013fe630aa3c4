#!/usr/bin/python3
"""A stand-in LDAP server whose paged results never end, for test_survive.sh.

  endless_ldap.py PORTFILE [SECONDS]

Listens on 127.0.0.1 (a free port, written to PORTFILE), accepts any simple bind, and answers
every search that carries the paged results control (RFC 2696) with a page holding no entry
and a cookie saying there is more, for ever.  A search without the control gets the base entry
and its end.  Prints "pages=N" to stdout each time a connection closes.  With SECONDS, each page
is sent that long after its request, and "page=N" is printed as it goes (a slow server).

Only the BER this needs is spoken: definite lengths, the few tags below.
"""
import sys
import time

from ldap_ber import answer, integer, listen, message, octets, result, tlv

PAGED = b"1.2.840.113556.1.4.319"


DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0


def serve(conn):
    pages = 0

    def search(msgid, base, rest):
        nonlocal pages
        if PAGED not in rest:
            entry = tlv(0x64, octets(base) + tlv(0x30, b""))
            return message(msgid, entry) + message(msgid, result(0x65))
        pages += 1
        if DELAY:
            time.sleep(DELAY)
            print(f"page={pages}", flush=True)
        cookie = integer(0) + octets(b"more-%d" % pages)
        control = tlv(0x30, octets(PAGED) + octets(tlv(0x30, cookie)))
        return message(msgid, result(0x65), tlv(0xA0, control))

    answer(conn, search)
    print(f"pages={pages}", flush=True)


def main():
    listen(sys.argv[1], serve)


if __name__ == "__main__":
    main()
