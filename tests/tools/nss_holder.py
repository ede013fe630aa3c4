#!/usr/bin/python3
"""A long-running process for test_survive.sh: it keeps libnss_dir loaded (and whatever
enumerations it was told to leave open) while the test refreshes, flushes or kills dird.

Reads one command a line from stdin and answers each with one line on stdout:
  pwent          setpwent, then getpwent up to the first directory user (uid 20000 to 65533:
                 nobody is 65534), and never endpwent; prints that user's name
  grent          the same for groups
  passwd NAME    the passwd line of NAME (getpwnam, through NSS), or "none"
  group NAME     the group line of NAME (getgrnam), or "none"
"""
import ctypes
import grp
import pwd
import sys


class Passwd(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("passwd", ctypes.c_char_p), ("uid", ctypes.c_uint),
                ("gid", ctypes.c_uint), ("gecos", ctypes.c_char_p), ("dir", ctypes.c_char_p),
                ("shell", ctypes.c_char_p)]


class Group(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("passwd", ctypes.c_char_p), ("gid", ctypes.c_uint),
                ("mem", ctypes.POINTER(ctypes.c_char_p))]


libc = ctypes.CDLL("libc.so.6")
libc.getpwent.restype = ctypes.POINTER(Passwd)
libc.getgrent.restype = ctypes.POINTER(Group)


def first_directory_entry(setent, getent):
    setent()
    while True:
        e = getent()
        if not e:
            return "none"
        ident = e.contents.uid if isinstance(e.contents, Passwd) else e.contents.gid
        if 20000 <= ident < 65534:
            return e.contents.name.decode()


def main():
    for line in sys.stdin:
        cmd = line.split()
        try:
            if cmd == ["pwent"]:
                out = first_directory_entry(libc.setpwent, libc.getpwent)
            elif cmd == ["grent"]:
                out = first_directory_entry(libc.setgrent, libc.getgrent)
            elif cmd[0] == "passwd":
                p = pwd.getpwnam(cmd[1])
                out = ":".join(str(x) for x in (p.pw_name, p.pw_passwd, p.pw_uid, p.pw_gid,
                                                p.pw_gecos, p.pw_dir, p.pw_shell))
            elif cmd[0] == "group":
                g = grp.getgrnam(cmd[1])
                out = ":".join((g.gr_name, g.gr_passwd, str(g.gr_gid), ",".join(g.gr_mem)))
            else:
                out = "bad command"
        except KeyError:
            out = "none"
        print(out, flush=True)


if __name__ == "__main__":
    main()
