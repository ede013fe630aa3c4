#!/usr/bin/python3
"""A TCP proxy that keeps a copy of everything its clients send: what went over the wire in
clear text.  Usage: recording_proxy.py LISTEN_HOST LISTEN_PORT TARGET_PORT CAPTURE_FILE (the
target is on 127.0.0.1)"""
import socket
import sys
import threading

LOCK = threading.Lock()


def pump(src, dst, capture):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if capture:
                with LOCK, open(capture, "ab") as f:
                    f.write(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    host, port, target, capture = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        try:
            server = socket.create_connection(("127.0.0.1", target))
        except OSError:
            client.close()
            continue
        threading.Thread(target=pump, args=(client, server, capture), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, None), daemon=True).start()


if __name__ == "__main__":
    main()
