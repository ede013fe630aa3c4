#!/usr/bin/python3
"""bench/run's report: one table of every measurement with our ratio against each peer, the CSV
and a PNG chart of the ratios.

Usage: report.py RESULTS.csv OUTDIR   (writes OUTDIR/latest.csv and OUTDIR/latest.png)

A ratio is the peer's figure over ours: above 1, we are faster (or smaller) by that factor.
"""
import csv
import os
import platform
import shutil
import subprocess
import sys
import time

PEERS = ["files", "nslcd", "sssd"]


def human(value, unit):
    if value is None:
        return "-"
    if unit == "bytes":
        for div, name in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")):
            if value >= div:
                return f"{value / div:.1f} {name}"
        return f"{value:.0f} B"
    for div, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if value >= div:
            return f"{value / div:.3g} {name}"
    return f"{value:.0f} ns"


def version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                              text=True).stdout or "-"
    except OSError:
        return "-"


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    rows, order = {}, []
    with open(src) as f:
        for r in csv.DictReader(f):
            key = (r["operation"], r["threads"])
            if key not in rows:
                rows[key] = {}
                order.append(key)
            if r["median_ns"]:
                rows[key][r["peer"]] = (float(r["median_ns"]), "ns", r["p99_ns"])
            elif r["value"]:
                rows[key][r["peer"]] = (float(r["value"]), r["unit"], "")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\nbench/run  {time.strftime('%Y-%m-%d %H:%M %Z')}  {platform.node()}  {cpu}, "
          f"{os.cpu_count()} CPUs, Linux {platform.release()}")
    print(f"slapd {version('slapd')}, sssd {version('sssd-common')}, nslcd {version('nslcd')}, "
          f"glibc {platform.libc_ver()[1]}")
    head = f"{'operation':<42} {'thr':>3} {'dir':>10}"
    for p in PEERS:
        head += f" {p:>10} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    chart = []
    for key in order:
        op, threads = key
        ours = rows[key].get("dir")
        line = f"{op:<42} {threads or '':>3} {human(ours[0], ours[1]) if ours else '-':>10}"
        ratios = []
        for p in PEERS:
            theirs = rows[key].get(p)
            ratio = theirs[0] / ours[0] if theirs and ours and ours[0] > 0 else None
            ratios.append(ratio)
            line += f" {human(theirs[0], theirs[1]) if theirs else '-':>10}"
            line += f" {('%.3g×' % ratio) if ratio else '-':>7}"
        print(line)
        label = op + (f" ({threads}t)" if threads else "")
        chart.append((label, ratios))
    print("ratio: the peer's figure over ours (above 1: dir is faster or smaller by that factor)")

    os.makedirs(outdir, exist_ok=True)
    shutil.copy(src, os.path.join(outdir, "latest.csv"))
    data = os.path.join(outdir, "latest.dat")
    with open(data, "w") as f:
        for label, ratios in chart:
            f.write('"%s" %s\n' % (label, " ".join(f"{r:.6g}" if r else "NaN" for r in ratios)))
    plot = f"""
set terminal png size 1600,1000
set output '{os.path.join(outdir, "latest.png")}'
set title "dir against each peer: the peer's time (or size) over ours; above 1, dir is ahead"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set logscale y
set yrange [0.01:*]
set bmargin 14
set grid ytics
set xtics rotate by -50 font ',8'
set key top left
"""
    # Only peers that were measured (SSSD is left out with --quick).
    titles = {"files": "nss\\_files", "nslcd": "nslcd", "sssd": "SSSD"}
    columns = [f"'' using {i + 2}{':xtic(1)' if not n else ''} title '{titles[p]}'"
               for n, (i, p) in enumerate((i, p) for i, p in enumerate(PEERS)
                                           if any(r[i] for _, r in chart))]
    plot += "plot " + ", ".join(columns).replace("''", f"'{data}'", 1) + "\n"
    try:
        subprocess.run(["gnuplot"], input=plot, text=True, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"(no chart: {e})")
    os.remove(data)


if __name__ == "__main__":
    main()
