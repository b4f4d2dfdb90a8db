"""Appends batches to a history.db until killed, printing the acknowledged total after each append.

    python _writer_proc.py PATH [BATCH]

Used by the kill -9 durability test: a line ``N`` on stdout means N samples
were appended and ``HistoryWriter.append`` returned for all of them.
"""

from __future__ import annotations

import sys

from bms.clock import ManualClock
from bms.history import HistoryWriter
from bms.messages import PointValue

T0 = 1_700_006_400.0


def main() -> None:
    path = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    acknowledged = 0
    with HistoryWriter(path, clock=ManualClock(T0)) as writer:
        while True:
            values = [
                PointValue(f"dev{i % 5}/p", float(acknowledged + i), T0 + (acknowledged + i) // 5)
                for i in range(batch)
            ]
            acknowledged += writer.append(values)
            print(acknowledged, flush=True)


if __name__ == "__main__":
    main()
