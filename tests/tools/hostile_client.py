#!/usr/bin/python3
"""What a hostile local user could do to dird's socket, for test_hostile.sh.

  hostile_client.py SOCKET idle N SECONDS   open N connections, send nothing, hold them; prints
                                            how many dird closed at once (50 ms each)
  hostile_client.py SOCKET half N SECONDS   the same, each with half a header sent
  hostile_client.py SOCKET huge             a header announcing a 1 GB body; prints "closed"
                                            if dird hangs up without reading it
  hostile_client.py SOCKET flood N          N lookups of names nobody has, as fast as it can;
                                            prints "ok=N notfound=N unavail=N"
  hostile_client.py SOCKET noread N SECONDS GROUP
                                            N connections, each asking for GROUP (a big one) and
                                            never reading the reply; one dird drops is opened
                                            again at once, for SECONDS; prints "asked=N"
  hostile_client.py SOCKET hold N SECONDS   the same with connections that send nothing
  hostile_client.py SOCKET misses N         N lookups of names nobody has, one after the other;
                                            prints "max=MS median=MS" and the answers
  hostile_client.py SOCKET backlog N SECONDS
                                            N connections opened without waiting (a listen queue
                                            dird is not emptying fills up), held for SECONDS;
                                            prints "queued=N full=N"
  hostile_client.py PAM_SOCKET timing N USER
                                            N password checks of USER with a wrong password and
                                            N of a user nobody has, taking turns; prints the two
                                            median times in ms (root only: the PAM socket)
"""
import select
import socket
import struct
import sys
import time

MAGIC = 0x31524944
GETPWNAM = 1
GETGRNAM = 3
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


def request(op, name):
    body = struct.pack("<I", len(name)) + name.encode() + b"\0"
    return struct.pack("<III", MAGIC, op, len(body)) + body


def gone(s):
    """dird hung up (what it wrote of the reply is still unread)."""
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLRDHUP | select.POLLERR)
    return bool(p.poll(0))


def lookup(path, name):
    s = connect(path)
    s.sendall(request(GETPWNAM, name))
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
    elif mode in ("noread", "hold"):
        n, until = int(sys.argv[3]), time.monotonic() + float(sys.argv[4])
        payload = request(GETGRNAM, sys.argv[5]) if mode == "noread" else b""
        conns, asked = [], 0
        print("started", flush=True)
        while time.monotonic() < until:
            # Dropped ones (dird closed them: readable at EOF) are replaced.
            kept = []
            for s in conns:
                if gone(s):
                    s.close()
                else:
                    kept.append(s)
            conns = kept
            while len(conns) < n:
                try:
                    s = connect(path)
                    s.sendall(payload)
                except OSError:
                    break
                s.setblocking(False)
                conns.append(s)
                asked += 1
            time.sleep(0.01)
        print(f"asked={asked}", flush=True)
    elif mode == "misses":
        times, counts = [], {}
        for i in range(int(sys.argv[3])):
            start = time.monotonic()
            r = lookup(path, f"miss{i}-{time.time_ns()}")
            times.append((time.monotonic() - start) * 1000)
            counts[r] = counts.get(r, 0) + 1
        times.sort()
        print("max=%.1f median=%.1f %s" % (times[-1], times[len(times) // 2],
                                           " ".join(f"{k}={v}" for k, v in sorted(counts.items()))))
    elif mode == "backlog":
        n, hold = int(sys.argv[3]), float(sys.argv[4])
        conns, full = [], 0
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(path)
                conns.append(s)
            except BlockingIOError:
                full += 1
                s.close()
        print(f"queued={len(conns)} full={full}", flush=True)
        time.sleep(hold)
    elif mode == "flood":
        counts = {}
        for i in range(int(sys.argv[3])):
            r = lookup(path, f"flood{i}")
            counts[r] = counts.get(r, 0) + 1
        print(" ".join(f"{k}={counts.get(k, 0)}" for k in ("ok", "notfound", "unavail")))


if __name__ == "__main__":
    main()
