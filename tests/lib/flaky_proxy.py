#!/usr/bin/python3
"""A TCP proxy on 127.0.0.1 that forwards to a server but silently drops every other chunk a
client sends (in LDAP, one chunk is one request): a link that answers some requests and loses
others.  Usage: flaky_proxy.py LISTEN_PORT TARGET_PORT"""
import selectors
import socket
import sys


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, None)
    peer = {}
    count = [0]
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is srv:
                c, _ = srv.accept()
                u = socket.create_connection(("127.0.0.1", target_port))
                peer[c], peer[u] = u, c
                sel.register(c, selectors.EVENT_READ, "client")
                sel.register(u, selectors.EVENT_READ, "server")
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                for x in (s, peer.get(s)):
                    if x is not None and x in peer:
                        sel.unregister(x)
                        x.close()
                        del peer[x]
                continue
            if key.data == "client":
                count[0] += 1
                if count[0] % 2 == 0:
                    continue  # lost
            peer[s].sendall(data)


if __name__ == "__main__":
    main()
