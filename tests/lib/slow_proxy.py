#!/usr/bin/python3
"""A TCP proxy on 127.0.0.1 whose answers each arrive DELAY_MS late, as from a server (a KDC) across
a slow link.  Usage: slow_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS"""
import socket
import sys
import threading
import time


def pump(src, dst, delay):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if delay:
                time.sleep(delay)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    listen_port, target_port, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        u = socket.create_connection(("127.0.0.1", target_port))
        threading.Thread(target=pump, args=(c, u, 0), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, delay), daemon=True).start()


if __name__ == "__main__":
    main()
