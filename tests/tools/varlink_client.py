#!/usr/bin/python3
"""A varlink client for dird's io.systemd.UserDatabase socket, honest or not, for test_userdb.sh.

  varlink_client.py SOCKET call JSON...   sends each JSON call (NUL-terminated) on one connection,
                                          one after the other, and prints each reply on a line
                                          (a call with "more" until its last reply); "closed"
                                          when dird hangs up first
  varlink_client.py SOCKET pipeline JSON...
                                          the same, all calls sent at once before any reply is read
  varlink_client.py SOCKET raw HEX        sends the bytes HEX; prints "closed" if dird hangs up,
                                          "open" if it still holds the connection after 3 s
  varlink_client.py SOCKET nonul          sends a whole call without its NUL; prints how long
                                          dird kept the connection (ms)
  varlink_client.py SOCKET huge           sends 1 MB that never ends a message; prints "closed"
                                          and how much dird took before it hung up
  varlink_client.py SOCKET noread N SECONDS JSON
                                          N connections sending the call JSON and never reading
                                          their replies, each one dird drops opened again at once,
                                          for SECONDS; prints "asked=N dropped=N
                                          first_drop_ms=MS" (the first hang-up's time)
  varlink_client.py SOCKET idle N SECONDS N connections that send nothing, held for SECONDS;
                                          prints how many dird closed at once (50 ms each)
  varlink_client.py SOCKET time N JSON    N calls of JSON, each on a new connection, one after
                                          the other; prints "max=MS median=MS fails=N"
"""
import json
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def replies(s, buf=b""):
    """Yields (message, buf) for each NUL-terminated message; None when dird hangs up."""
    while True:
        while b"\0" in buf:
            m, buf = buf.split(b"\0", 1)
            yield json.loads(m), buf
        d = s.recv(65536)
        if not d:
            yield None, buf
            return
        buf += d


def read_call(s, buf, out):
    """Prints the replies of one call; returns the bytes left over, or None once closed."""
    for m, buf in replies(s, buf):
        if m is None:
            out.append("closed")
            return None
        out.append(json.dumps(m, sort_keys=True))
        if not m.get("continues"):
            return buf
    return None


def closed_soon(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def main():
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = []
    if mode in ("call", "pipeline"):
        s = connect(path)
        s.settimeout(30)
        if mode == "pipeline":
            s.sendall(b"".join(a.encode() + b"\0" for a in args))
        buf = b""
        for a in args:
            if mode == "call":
                s.sendall(a.encode() + b"\0")
            buf = read_call(s, buf, out)
            if buf is None:
                break
    elif mode == "raw":
        s = connect(path)
        s.sendall(bytes.fromhex(args[0]))
        out.append("closed" if closed_soon(s, 3) else "open")
    elif mode == "nonul":
        s = connect(path)
        start = time.monotonic()
        s.sendall(b'{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"userName":"alice"')
        closed_soon(s, 10)
        out.append("%d" % ((time.monotonic() - start) * 1000))
    elif mode == "huge":
        s = connect(path)
        s.settimeout(5)
        sent = 0
        try:
            while sent < 1 << 20:
                sent += s.send(b"x" * 65536)
        except OSError:
            pass
        out.append("closed" if closed_soon(s, 3) else "open")
        out.append("took=%d" % sent)
    elif mode == "noread":
        n, seconds, call = int(args[0]), float(args[1]), args[2].encode() + b"\0"
        conns, asked, dropped, first = {}, 0, 0, None
        poller = select.poll()
        begin = time.monotonic()
        while time.monotonic() < begin + seconds:
            while len(conns) < n:
                try:
                    s = connect(path)
                    s.sendall(call)
                except OSError:
                    break
                conns[s.fileno()] = s
                poller.register(s, select.POLLRDHUP)
                asked += 1
            # A hang-up shows without reading what dird wrote: the reply stays unread.
            for fd, ev in poller.poll(50):
                poller.unregister(fd)
                conns.pop(fd).close()
                dropped += 1
                if first is None:
                    first = (time.monotonic() - begin) * 1000
        out.append("asked=%d dropped=%d first_drop_ms=%d" % (asked, dropped, first or -1))
    elif mode == "idle":
        n, seconds = int(args[0]), float(args[1])
        conns = []
        for _ in range(n):
            try:
                conns.append(connect(path))
            except OSError:
                pass
        closed = sum(closed_soon(s, 0.05) for s in conns)
        out.append("closed=%d" % closed)
        time.sleep(max(0, seconds - 0.05 * len(conns)))
    elif mode == "time":
        n, call = int(args[0]), args[1].encode() + b"\0"
        times, fails = [], 0
        for _ in range(n):
            start = time.monotonic()
            try:
                s = connect(path)
                s.settimeout(5)
                s.sendall(call)
                r = next(replies(s))[0]
                fails += r is None or "error" in r
                s.close()
            except OSError:
                fails += 1
            times.append((time.monotonic() - start) * 1000)
        times.sort()
        out.append("max=%.1f median=%.1f fails=%d" % (times[-1], times[len(times) // 2], fails))
    print("\n".join(out), flush=True)


if __name__ == "__main__":
    main()
