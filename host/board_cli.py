"""Command line for a board on the link: ``myoedge board info|bench|ping``.

Also runs on its own as ``python -m myoedge.host info --port TARGET``.
TARGET is whatever :func:`myoedge.host.client.open_board` accepts: a serial
device, a pyserial URL, or ``qemu:BOARD:ELF``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from myoedge.host.client import BoardError, BoardTimeout, ProtocolError, open_board


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The board sub-commands, on ``parser`` (a fresh one or a CLI sub-parser)."""
    actions = parser.add_subparsers(dest="action", required=True)
    for name, help_text in (("info", "what the board runs"),
                            ("bench", "cycles per stage over N inferences of a zero window"),
                            ("ping", "INFO round trips: link latency")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--port", required=True,
                            help="/dev/ttyACM0, socket://HOST:PORT, rfc2217://..., qemu:BOARD:ELF")
        action.add_argument("--timeout", type=float, default=5.0, help="seconds per try")
        action.add_argument("--log", help="write every byte of the traffic to this file")
        if name == "bench":
            action.add_argument("--runs", type=int, default=32, help="inferences (1..128)")
        if name == "ping":
            action.add_argument("--count", type=int, default=20, help="round trips")


def run(args: argparse.Namespace) -> int:
    """Carry out one parsed board command; returns the exit code."""
    try:
        with open_board(args.port, timeout=args.timeout, log=args.log) as client:
            if args.action == "info":
                info = client.info()
                for key, value in vars(info).items():
                    print(f"{key:20s} {value.name if hasattr(value, 'name') else value}")
            elif args.action == "bench":
                info = client.info()
                reply = client.bench(args.runs, np.zeros(info.input_size, dtype=np.int8))
                unit = reply.unit.name.lower()
                print(f"{reply.runs} runs on {info.board} ({info.model_name}), {unit}:")
                for stage in ("preprocess", "network", "total"):
                    stats = getattr(reply, stage)
                    print(f"  {stage:10s} min {stats.min:10d}  median {stats.median:10d}  "
                          f"max {stats.max:10d}")
            else:
                times = []
                for _ in range(args.count):
                    start = time.perf_counter()
                    client.info()
                    times.append(time.perf_counter() - start)
                ms = np.array(times) * 1e3
                print(f"{args.count} INFO round trips to {client.name}: min {ms.min():.2f} ms, "
                      f"median {np.median(ms):.2f} ms, max {ms.max():.2f} ms")
    except (BoardTimeout, BoardError, ProtocolError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m myoedge.host``."""
    parser = argparse.ArgumentParser(prog="python -m myoedge.host", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
