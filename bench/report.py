#!/usr/bin/python3
"""bench/run's report: the table of every measurement, dir's ratio to the floor and each peer's
ratio to dir, with the commit, the date, the machine and each peer's version and configuration.

Usage:
  report.py RESULTS.csv --meta META.txt --commit C --out DIR --stem STEM --latest NAME
      writes DIR/STEM.csv and DIR/STEM.txt, and DIR/NAME.csv, .txt and .png; prints the table
  report.py --markdown RESULTS.csv
      prints the tables for the README's "Speed, side by side with the peers"

A ratio "× dir" is the peer's figure over ours: above 1, dir is faster (or smaller) by that
factor.  "× floor" is dir's figure over the floor's (the null module, which answers a constant):
how far above the least any module can cost.  A row whose answers were wrong or missing shows
`failed (N of M)`, never a time.
"""
import argparse
import csv
import os
import platform
import shutil
import subprocess
import time

# (title, floor, ours, others): which CSV peers each table compares
SECTIONS = [
    ("Lookups through the module alone (__nss_configure_lookup: no nsswitch.conf)",
     "null", "dir", ["files", "ldap", "sss"]),
    ("Lookups as a host is configured (nsswitch.conf: files, then the peer; the host's own "
     "/etc/passwd and /etc/group first)",
     "files+null", "files+dir", ["dir+files", "null+files", "files+ldap", "files+sss"]),
    ("The daemons, the cache and programs", None, "dir", ["files", "ldap", "sss"]),
]
LABELS = {"null": "floor", "dir": "dir", "files": "nss_files", "ldap": "nslcd", "sss": "SSSD",
          "files+null": "files+floor", "null+files": "floor+files", "files+dir": "files+dir", "dir+files": "dir+files", "files+ldap": "files+nslcd",
          "files+sss": "files+SSSD"}

CHART = ["null", "files", "ldap", "sss"]

MEASURES = {
    "getpwnam": "getpwnam_r of 1,000 random users (300 with --quick), after a warm-up pass: "
                "median per call",
    "getpwuid": "getpwuid_r of the same users by uid",
    "getgrnam": "getgrnam_r of 1,000 random groups (about 30 members each)",
    "getgrgid": "getgrgid_r of the same groups by gid",
    "getgrouplist": "getgrouplist of the 1,000 users (each in 3 to 6 groups)",
    "repeated miss": "getpwnam_r of one name nobody has, 1,000 times",
    "getpwnam local user": "getpwnam_r of root, from the host's /etc/passwd, 1,000 times "
                           "(dir+files: nsswitch.conf `dir files`, dirctl enable --dir-first)",
    "unknown names while in sync": "getpwnam_r of 1,000 names nobody has (300 with --quick), "
                                   "each once a pass, while dird is in sync (its change stream "
                                   "persists)",
    "unknown names while slapd frozen": "the same with slapd stopped by SIGSTOP",
    "system calls per unknown name while in sync": "strace -c -f of 11 passes of those names "
                                                   "less 1 pass, over 10 passes",
    "system calls per hit (getpwnam)": "the same for the getpwnam row's users",
    "getgrnam big group": "getgrnam_r of the groups of 5,000, 3,000 and 2,000 members",
    "getgrouplist 5000 groups": "getgrouplist of the user in 5,000 groups",
    "enumerate passwd": "one setpwent/getpwent pass over every user (the count is checked)",
    "enumerate group": "one setgrent/getgrent pass over every group",
    "id of the user in 5000 groups": "`id wide`, the program, through nsswitch.conf `files PEER`, "
                                     "process start included",
    "fill the cache from the directory": "dir: a refresh into an emptied cache; SSSD: from its "
                                         "start with an empty cache until it holds every user",
    "full refresh (cache already full)": "dir: `dirctl cache refresh` with the cache full (what "
                                         "each refresh_interval costs)",
    "slowest answer to dirctl status during that refresh": "dirctl status every 0.2 s while it "
                                                           "runs (5 s: dirctl gave up)",
    "daemon peak RSS": "VmHWM; dir: during that full refresh; SSSD: sssd, sssd_be and sssd_nss "
                       "added up since their start",
    "daemon RSS after a refresh": "VmRSS once the refresh (SSSD: its enumeration) is over",
    "cache on disk": "dir: cache_dir; SSSD: its db and mc; nss_files: the generated lines",
    "a change in the directory is visible here after": "a cached user's shell set in slapd, then "
                                                       "getent every 50 ms until it shows",
    "100 changes visible here after: p50": "100 changes in slapd in turns (a shell modified, a "
                                           "user added, that user deleted, a member added to a "
                                           "group), each from ldapmodify's return until "
                                           "getpwnam (getgrouplist and getgrnam for a "
                                           "membership) shows it, asked every 1 ms: the median",
    "100 changes visible here after: p99": "the same: the 99th percentile",
    "dird restarted: in sync again after": "dird stopped (SIGTERM) after a change, started "
                                           "again with its cache: until dirctl status says in "
                                           "sync (asked every 50 ms)",
    "dird restarted: whole reads of the directory": "full_syncs in dirctl status then: how many "
                                                    "of its sync searches read everything again "
                                                    "(0: it resumed; the change made while it "
                                                    "was down must be seen)",
    "getpwnam after a flush": "the first getpwnam_r right after the cache was emptied (dir: "
                              "`dirctl cache flush`; SSSD: restarted with its cache wiped)",
    "getgrouplist after a flush": "the same for getgrouplist",
    "new name while slapd frozen: first call": "getpwnam_r of a name nobody has while slapd is "
                                               "stopped with SIGSTOP: the first call",
    "new name while slapd frozen: next calls": "the same: the median of the next four",
    "new name while slapd stopped: first call": "the same with slapd gone: the first call",
    "new name while slapd stopped: next calls": "the same: the median of the next four",
}


def human(value, unit):
    if unit == "bytes":
        for div, name in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")):
            if value >= div:
                return f"{value / div:.1f} {name}"
        return f"{value:.0f} B"
    for div, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if value >= div:
            return f"{value / div:.3g} {name}"
    if unit != "ns":
        return f"{value:.3g} {unit}"
    return f"{value:.0f} ns"


class Cell:
    """One peer's figure in one row: a number, or why there is none."""

    def __init__(self, r):
        self.ok = r["ok"] == "true"
        if r["median_ns"]:
            self.value, self.unit = float(r["median_ns"]), "ns"
        else:
            self.value, self.unit = float(r["value"] or 0), r["unit"]

    def text(self):
        if self.ok:
            return human(self.value, self.unit)
        n = f"{self.value:.0f}"
        if self.unit.startswith("failed of "):
            return f"failed ({n} of {self.unit[len('failed of '):]})"
        if self.unit == "s: did not finish":
            return f"did not finish in {n} s"
        if self.unit == "s: not within":
            return f"not within {n} s"
        return f"failed ({self.unit} {n})"


def ratio(num, den):
    if num and den and num.ok and den.ok and den.value > 0:
        return num.value / den.value
    return None


def fmt_ratio(r):
    if not r:
        return "-"
    return f"{r:,.0f}×" if r >= 10 else f"{r:.2g}×"


def read(src):
    """{section: [(operation, threads, {peer: Cell})]} in the order first seen."""
    rows = {i: {} for i in range(len(SECTIONS))}
    with open(src) as f:
        for r in csv.DictReader(f):
            # timed rows have a thread count; configured peers are "files+SERVICE"
            s = 1 if "+" in r["peer"] else 0 if r["threads"] else 2
            rows[s].setdefault((r["operation"], r["threads"]), {})[r["peer"]] = Cell(r)
    return {s: [(op, t, cells) for (op, t), cells in rows[s].items()] for s in rows}


def table(rows):
    """The text table, one block per section; and the chart's data."""
    out, chart = [], []
    for s, (title, floor, ours, others) in enumerate(SECTIONS):
        if not rows[s]:
            continue
        # only the peers this run measured, and a thread count where there is one
        others = [p for p in others if any(p in cells for _, _, cells in rows[s])]
        head = ["operation", "thr"] + ([LABELS[floor]] if floor else []) + [LABELS[ours]]
        head += ["× floor"] if floor else []
        for p in others:
            head += [LABELS[p], "× dir"]
        lines = []
        for op, threads, cells in rows[s]:
            mine = cells.get(ours)
            line = [op, threads]
            if floor:
                line.append(cells[floor].text() if floor in cells else "-")
            line.append(mine.text() if mine else "-")
            if floor:
                line.append(fmt_ratio(ratio(mine, cells.get(floor))))
            # the chart's bars: the floor and each peer over dir, by peer whatever the section
            ratios = {"null": ratio(cells.get(floor), mine) if floor else None}
            for p in others:
                line.append(cells[p].text() if p in cells else "-")
                r = ratio(cells.get(p), mine)
                line.append(fmt_ratio(r))
                ratios[p.split("+")[-1]] = r
            lines.append(line)
            chart.append(((["", "conf: ", ""][s]) + op + (f" ({threads}t)" if threads else ""), ratios))
        if not any(line[1] for line in lines):
            head, lines = [head[0]] + head[2:], [[line[0]] + line[2:] for line in lines]
        widths = [max(len(str(x[i])) for x in [head] + lines) for i in range(len(head))]
        fmt = lambda x: "  ".join(str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])
                                  for i, c in enumerate(x))
        out += ["", title, fmt(head), "-" * len(fmt(head))] + [fmt(line) for line in lines]
    return out, chart


def header(commit, meta):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    lines = [f"bench/run  {time.strftime('%Y-%m-%d %H:%M %Z')}  commit {commit}",
             f"machine: {cpu}, {os.cpu_count()} cores, {mem / (1 << 20):.0f} GiB, Linux "
             f"{platform.release()}, glibc {platform.libc_ver()[1]}"]
    return lines + (open(meta).read().rstrip("\n").split("\n") if meta else [])


def legend():
    return ["", "What each row measures (every answer is checked: found, the right name, uid/gid and "
            "member or group count; a wrong or missing one makes the row `failed (N of M)`):"] + \
        [f"  {op}: {what}" for op, what in MEASURES.items()] + \
        ["  × floor: dir's figure over the floor's (the null module, answering a constant); "
         "× dir: the peer's figure over dir's (above 1: dir is faster or smaller)"]


# issue 18's targets: (what, the figure's (peer, operation, threads), over what: (peer,
# operation, threads) for a ratio, "-" + the same for a difference, None for the figure alone;
# the bound, and how it is written)
TARGETS = [
    ("a change visible through getent, p99 (target at 100,000 users)",
     ("dir", "100 changes visible here after: p99", ""), None, 1e9, "at most 1 s"),
    ("an unknown name while in sync, over a hit", ("dir", "unknown names while in sync", "1"),
     ("dir", "getpwnam", "1"), 2, "at most 2×"),
    ("an unknown name with slapd frozen, over a hit",
     ("dir", "unknown names while slapd frozen", "1"), ("dir", "getpwnam", "1"), 2, "at most 2×"),
    ("system calls per unknown name while in sync",
     ("dir", "system calls per unknown name while in sync", ""), None, 0, "none"),
    ("dird restarted: in sync again after (target at 1,000,000 users)",
     ("dir", "dird restarted: in sync again after", ""), None, 2e9, "at most 2 s"),
    ("dird restarted: whole reads of the directory",
     ("dir", "dird restarted: whole reads of the directory", ""), None, 0, "none"),
    ("dir before files: a directory user's getpwnam over the floor's (`null files`)",
     ("dir+files", "getpwnam", "1"), ("null+files", "getpwnam", "1"), 1.5, "at most 1.5×"),
    ("dir before files: a local user's getpwnam less files alone's (`files null`: files answers)",
     ("dir+files", "getpwnam local user", "1"), "-", 300, "at most 0.3 µs more"),
]


def targets(rows):
    """One line per target of issue 18 this run measured: the figure, and met or not."""
    cells = {(p, op, t): c for sec in rows.values() for op, t, cs in sec for p, c in cs.items()}
    out = []
    for what, key, over, bound, said in TARGETS:
        c = cells.get(key)
        if not c:
            continue
        if not c.ok:
            out.append(f"- {what}: {c.text()} (target: {said})")
            continue
        if over == "-":
            base = cells.get(("files+null",) + key[1:])
            if not (base and base.ok):
                continue
            got = c.value - base.value
            text = f"{human(abs(got), 'ns')} {'more' if got >= 0 else 'less'}"
        elif over:
            r = ratio(c, cells.get(over))
            if r is None:
                continue
            got, text = r, f"{c.text()}, {fmt_ratio(r)}"
        else:
            got, text = c.value, c.text()
        out.append(f"- {what}: {text} (target: {said}): {'met' if got <= bound else 'not met'}")
    return (["", "Against issue 18's targets (this run's size; the commands above say it):"] + out
            if out else [])


def markdown(rows):
    out = []
    for s, (title, floor, ours, others) in enumerate(SECTIONS):
        if not rows[s]:
            continue
        others = [p for p in others if any(p in cells for _, _, cells in rows[s])]
        peers = ([floor] if floor else []) + [ours] + others
        out += ["", f"{title}:", "",
                "| operation | " + " | ".join(LABELS[p] for p in peers) + " | what it measures |",
                "| --- " * (len(peers) + 2) + "|"]
        for op, threads, cells in rows[s]:
            name = op + (f", {threads} threads" if threads and threads != "1" else "")
            figs = []
            for p in peers:
                c = cells.get(p)
                text = c.text() if c else ""
                if p == ours and floor and ratio(c, cells.get(floor)):
                    text += f" ({fmt_ratio(ratio(c, cells.get(floor)))} floor)"
                elif p in others and ratio(c, cells.get(ours)):
                    text += f" ({fmt_ratio(ratio(c, cells.get(ours)))})"
                figs.append(text)
            what = MEASURES.get(op, "") if threads in ("", "1") else "the same, 2 threads at once"
            out.append(f"| {name} | " + " | ".join(figs) + f" | {what} |")
    return out + targets(rows)


def chart_png(path, chart, commit):
    data = path + ".dat"
    with open(data, "w") as f:
        for label, ratios in chart:
            f.write('"%s" %s\n' % (label, " ".join(f"{ratios[p]:.6g}" if ratios.get(p) else "NaN"
                                                   for p in CHART)))
    used = [i for i, p in enumerate(CHART) if any(r.get(p) for _, r in chart)]
    plot = f"""
set terminal png size 1800,1000
set output '{path}'
set title "commit {commit}: the peer's time (or size) over dir's; above 1, dir is ahead"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set logscale y
set yrange [0.001:*]
set bmargin 16
set grid ytics
set xtics rotate by -60 font ',7'
set key top left
"""
    title = lambda p: LABELS[p].replace("_", "\\_")  # gnuplot's enhanced text
    cols = [f"'{data if n == 0 else ''}' using {i + 2}{':xtic(1)' if n == 0 else ''} title '{title(CHART[i])}'"
            for n, i in enumerate(used)]
    plot += "plot " + ", ".join(cols) + "\n"
    try:
        subprocess.run(["gnuplot"], input=plot, text=True, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"(no chart: {e})")
    os.remove(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--meta")
    ap.add_argument("--commit", default="?")
    ap.add_argument("--out")
    ap.add_argument("--stem")
    ap.add_argument("--latest")
    a = ap.parse_args()
    rows = read(a.csv)
    if a.markdown:
        print("\n".join(markdown(rows)))
        return
    body, chart = table(rows)
    text = "\n".join(header(a.commit, a.meta) + body + targets(rows) + legend()) + "\n"
    print(text, end="")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        for stem in (a.stem, a.latest):
            shutil.copy(a.csv, os.path.join(a.out, stem + ".csv"))
            with open(os.path.join(a.out, stem + ".txt"), "w") as f:
                f.write(text)
        chart_png(os.path.join(a.out, a.latest + ".png"), chart, a.commit)


if __name__ == "__main__":
    main()
