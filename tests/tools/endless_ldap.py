#!/usr/bin/python3
"""A stand-in LDAP server whose paged results never end, for test_survive.sh.

  endless_ldap.py PORTFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE), accepts any simple bind, and answers
every search that carries the paged results control (RFC 2696) with a page holding no entry
and a cookie saying there is more, for ever.  A search without the control gets the base entry
and its end.  Prints "pages=N" to stdout each time a connection closes.

Only the BER this needs is spoken: definite lengths, the few tags below.
"""
import socket
import sys
import threading

PAGED = b"1.2.840.113556.1.4.319"


def length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, value):
    return bytes([tag]) + length(len(value)) + value


def integer(n, tag=0x02):
    return tlv(tag, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def octets(b, tag=0x04):
    return tlv(tag, b)


def read_tlv(buf, pos):
    """(tag, value start, value end) of the element at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def message(msgid, op, controls=b""):
    return tlv(0x30, integer(msgid) + op + controls)


def result(tag):
    return tlv(tag, integer(0, 0x0A) + octets(b"") + octets(b""))


def serve(conn):
    buf, pages = b"", 0
    try:
        while True:
            while True:
                if len(buf) >= 2:
                    try:
                        _, start, end = read_tlv(buf, 0)
                        if end <= len(buf):
                            break
                    except IndexError:
                        pass
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            msg, buf = buf[:end], buf[end:]
            _, vs, ve = read_tlv(msg, start)  # messageID
            msgid = int.from_bytes(msg[vs:ve], "big")
            op, os_, oe = read_tlv(msg, ve)
            if op == 0x60:  # bindRequest
                conn.sendall(message(msgid, result(0x61)))
            elif op == 0x42:  # unbindRequest
                return
            elif op == 0x63:  # searchRequest
                _, bs, be = read_tlv(msg, os_)
                base = msg[bs:be]
                if PAGED in msg[oe:]:
                    pages += 1
                    cookie = integer(0) + octets(b"more-%d" % pages)
                    control = tlv(0x30, octets(PAGED) + octets(tlv(0x30, cookie)))
                    conn.sendall(message(msgid, result(0x65), tlv(0xA0, control)))
                else:
                    entry = tlv(0x64, octets(base) + tlv(0x30, b""))
                    conn.sendall(message(msgid, entry) + message(msgid, result(0x65)))
            else:  # anything else: done, no error
                conn.sendall(message(msgid, result(0x65)))
    except OSError:
        pass
    finally:
        conn.close()
        print(f"pages={pages}", flush=True)


def main():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(sys.argv[1], "w") as f:
        f.write(str(s.getsockname()[1]))
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
