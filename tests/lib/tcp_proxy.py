#!/usr/bin/python3
"""A TCP proxy to a server on 127.0.0.1.

Usage: tcp_proxy.py LISTEN_PORT TARGET_PORT [--delay MS] [--listen HOST] [--capture FILE]

SIGUSR1 closes the listening socket: new connections are refused, the open ones go on (a server
that one client still reaches and the next cannot).

--delay MS      each answer arrives MS late, as from a server (a KDC) across a slow link
--listen HOST   the address to listen on (127.0.0.1)
--capture FILE  keeps a copy of all that clients send: what crossed the wire in clear text
"""
import argparse
import signal
import socket
import threading
import time

LOCK = threading.Lock()


def pump(src, dst, delay, capture):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if capture:
                with LOCK, open(capture, "ab") as f:
                    f.write(data)
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
    ap = argparse.ArgumentParser()
    ap.add_argument("listen_port", type=int)
    ap.add_argument("target_port", type=int)
    ap.add_argument("--delay", type=float, default=0, help="milliseconds")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--capture")
    a = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.listen, a.listen_port))
    srv.listen(64)

    def stop_listening(*_):
        # shutdown wakes the blocked accept(); new connections are then refused
        srv.shutdown(socket.SHUT_RDWR)

    signal.signal(signal.SIGUSR1, stop_listening)
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            srv.close()
            signal.pause()  # the open connections' threads go on
            continue
        try:
            u = socket.create_connection(("127.0.0.1", a.target_port))
        except OSError:
            c.close()
            continue
        threading.Thread(target=pump, args=(c, u, 0, a.capture), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, a.delay / 1000, None), daemon=True).start()


if __name__ == "__main__":
    main()
