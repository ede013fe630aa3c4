"""The little LDAP the stand-in servers of tests/tools speak (endless_ldap.py,
hostile_sync_ldap.py): BER with definite lengths, the requests a connection sends, and a
listener on 127.0.0.1 whose port goes to a file."""
import socket
import threading


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


def requests(conn):
    """Each request conn sends, as (msgid, op tag, the message, op value start, op value end),
    until it closes."""
    buf = b""
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
        op, os_, oe = read_tlv(msg, ve)
        yield int.from_bytes(msg[vs:ve], "big"), op, msg, os_, oe


def answer(conn, search):
    """Answers conn's requests until it closes: any simple bind succeeds, a search gets what
    search(msgid, base, rest) returns (rest: the request's bytes after the operation, its
    controls), an abandon nothing, anything else its end with no error."""
    try:
        for msgid, op, msg, os_, oe in requests(conn):
            if op == 0x60:  # bindRequest
                conn.sendall(message(msgid, result(0x61)))
            elif op == 0x42:  # unbindRequest
                return
            elif op == 0x63:  # searchRequest
                _, bs, be = read_tlv(msg, os_)
                conn.sendall(search(msgid, msg[bs:be], msg[oe:]))
            elif op != 0x50:  # abandonRequest: no answer
                conn.sendall(message(msgid, result(0x65)))
    except OSError:
        pass
    finally:
        conn.close()


def listen(portfile, serve, *args):
    """Serves each connection with serve(conn, *args) in a thread of its own, for ever."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(portfile, "w") as f:
        f.write(str(s.getsockname()[1]))
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, *args), daemon=True).start()
