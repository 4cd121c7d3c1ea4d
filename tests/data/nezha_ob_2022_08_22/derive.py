"""How the files here were derived from the Nezha study's `rca_data/2022-08-22/` (not run by the tests).

Usage: python derive.py <directory of the original CSV files>

Keeps 03:50-08:00 UTC (every fault with the hour before it), the columns the tests convert, one CSV per
kind, times as unix seconds parsed from the `Time` column (adservice's `TimeStamp` column is off by 2e8 s),
values rounded to 6 significant digits, gzip-compressed.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

START, END = 1661140200, 1661155200  # 2022-08-22 03:50 .. 08:00 UTC
POD_COLUMNS = [
    "CpuUsage(m)",
    "CpuUsageRate(%)",
    "MemoryUsage(Mi)",
    "MemoryUsageRate(%)",
    "PodServerLatencyP90(s)",
    "PodWorkload(Ops)",
]


def when(text: str) -> int:
    return int(datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())


def num(text: str) -> str:
    return "" if text == "" else f"{float(text):.6g}"


def main(src: Path, out: Path) -> None:
    with gzip.open(out / "pods.csv.gz", "wt", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "pod", *POD_COLUMNS])
        for path in sorted(src.glob("*_metric.csv")):
            for row in csv.DictReader(path.open()):
                t = when(row["Time"])
                if START <= t <= END:
                    w.writerow([t, row["PodName"], *(num(row[c]) for c in POD_COLUMNS)])
    with gzip.open(out / "front.csv.gz", "wt", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "SuccessRate(%)", "LatencyP90(s)"])
        for row in csv.DictReader((src / "front_service.csv").open()):
            t = when(row["Time"])
            if START <= t <= END:
                w.writerow([t, num(row["SuccessRate(%)"]), num(row["LatencyP90(s)"])])
    with gzip.open(out / "client_p50.csv.gz", "wt", newline="") as f:
        rows = list(csv.DictReader((src / "source_50.csv").open()))
        edges = [c for c in rows[0] if c not in ("time", "timestamp")]
        w = csv.writer(f)
        w.writerow(["time", *edges])
        for row in rows:
            t = when(row["time"])
            if START <= t <= END:
                w.writerow([t, *(num(row[c]) for c in edges)])
    faults = [f for hour in json.loads((src / "fault_list.json").read_text()).values() for f in hour]
    (out / "faults.json").write_text(json.dumps(faults, indent=1) + "\n")
    shutil.copy(src / "LICENSE", out / "LICENSE")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parent)
