#!/usr/bin/python3
"""What a hostile local user could do to dird's socket, for test_hostile.sh.

  hostile_client.py SOCKET idle N SECONDS   open N connections, send nothing, hold them; prints
                                            how many dird closed at once (50 ms each)
  hostile_client.py SOCKET half N SECONDS   the same, each with half a header sent
  hostile_client.py SOCKET huge             a header announcing a 1 GB body; prints "closed"
                                            if dird hangs up without reading it
  hostile_client.py SOCKET flood N          N lookups of names nobody has, as fast as it can;
                                            prints "ok=N notfound=N unavail=N"
  hostile_client.py PAM_SOCKET timing N USER
                                            N password checks of USER with a wrong password and
                                            N of a user nobody has, taking turns; prints the two
                                            median times in ms (root only: the PAM socket)
"""
import socket
import struct
import sys
import time

MAGIC = 0x31524944
GETPWNAM = 1
PAM_AUTH = 32
STATUS = {0: "ok", 1: "notfound", 2: "unavail", 3: "badreq", 4: "denied"}


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def closed_soon(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def lookup(path, name):
    body = struct.pack("<I", len(name)) + name.encode() + b"\0"
    s = connect(path)
    s.sendall(struct.pack("<III", MAGIC, GETPWNAM, len(body)) + body)
    s.settimeout(5)
    hdr = b""
    while len(hdr) < 12:
        chunk = s.recv(12 - len(hdr))
        if not chunk:
            return "closed"
        hdr += chunk
    s.close()
    return STATUS.get(struct.unpack("<III", hdr)[1], "other")


def pam_auth_ms(path, user, password):
    body = b"".join(struct.pack("<I", len(f)) + f.encode() + b"\0"
                    for f in (user, "timing", "", password))
    start = time.monotonic()
    s = connect(path)
    s.sendall(struct.pack("<III", MAGIC, PAM_AUTH, len(body)) + body)
    s.settimeout(10)
    while s.recv(4096):
        pass
    s.close()
    return (time.monotonic() - start) * 1000


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "timing":
        n, user = int(sys.argv[3]), sys.argv[4]
        wrong, unknown = [], []
        for i in range(n):
            wrong.append(pam_auth_ms(path, user, "wrong-password-%d" % i))
            unknown.append(pam_auth_ms(path, "nosuchuser%d" % i, "wrong-password-%d" % i))
        print("%.3f %.3f" % (sorted(unknown)[n // 2], sorted(wrong)[n // 2]))
        return
    if mode in ("idle", "half"):
        n, hold = int(sys.argv[3]), float(sys.argv[4])
        conns, refused = [], 0
        for _ in range(n):
            try:
                s = connect(path)
            except OSError:
                refused += 1
                continue
            if mode == "half":
                try:
                    s.sendall(struct.pack("<I", MAGIC))
                except OSError:
                    refused += 1  # dird closed it already: over this user's share
                    continue
            conns.append(s)
        closed = sum(1 for s in conns if closed_soon(s, 0.05))
        print(f"closed={closed + refused}", flush=True)
        time.sleep(hold)
    elif mode == "huge":
        s = connect(path)
        s.sendall(struct.pack("<III", MAGIC, GETPWNAM, 1 << 30) + b"x" * 1024)
        print("closed" if closed_soon(s, 2) else "open")
    elif mode == "flood":
        counts = {}
        for i in range(int(sys.argv[3])):
            r = lookup(path, f"flood{i}")
            counts[r] = counts.get(r, 0) + 1
        print(" ".join(f"{k}={counts.get(k, 0)}" for k in ("ok", "notfound", "unavail")))


if __name__ == "__main__":
    main()
