"""Command line for a board on the link: ``myoedge board info|bench|ping|live``.

Also runs on its own as ``python -m myoedge.host info --port TARGET``.
TARGET is whatever :func:`myoedge.host.client.open_board` accepts: a serial
device, a pyserial URL, or ``qemu:BOARD:ELF``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from myoedge.host.client import BoardError, BoardTimeout, ProtocolError, open_board


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The board sub-commands, on ``parser`` (a fresh one or a CLI sub-parser)."""
    actions = parser.add_subparsers(dest="action", required=True)
    for name, help_text in (("info", "what the board runs"),
                            ("bench", "cycles per stage over N inferences of a zero window"),
                            ("ping", "INFO round trips: link latency"),
                            ("live", "classify what the board's own front end measures")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--port", required=True,
                            help="/dev/ttyACM0, socket://HOST:PORT, rfc2217://..., qemu:BOARD:ELF")
        action.add_argument("--timeout", type=float, default=5.0, help="seconds per try")
        action.add_argument("--log", help="write every byte of the traffic to this file")
        if name == "bench":
            action.add_argument("--runs", type=int, default=32, help="inferences (1..128)")
        if name == "ping":
            action.add_argument("--count", type=int, default=20, help="round trips")
        if name == "live":
            action.add_argument("--seconds", type=float, default=10.0,
                                help="how long to run (0: until Ctrl-C)")
            action.add_argument("--out", help="write every prediction to this JSON-lines file")
            action.add_argument("--vote", type=int, default=0, help="majority vote over K predictions")
            action.add_argument("--gain", type=int, default=0, help="ADS1298 PGA gain (0: 6)")
            action.add_argument("--units-per-volt", type=float, default=0.0,
                                help="model units per volt at the electrodes (0: the model's)")


def run_live(client, args: argparse.Namespace) -> int:  # noqa: ANN001 - a BoardClient
    """``board live``: stream predictions, show progress, write JSON lines."""
    from tqdm import tqdm

    info = client.info()
    out = open(Path(args.out), "w", encoding="utf-8") if args.out else None
    seconds = args.seconds if args.seconds > 0 else None
    bar = tqdm(desc=f"LIVE {info.board} ({info.model_name})", unit="pred")
    last = None
    try:
        for prediction in client.live(seconds=seconds, vote=args.vote, gain=args.gain,
                                      units_per_volt=args.units_per_volt):
            last = prediction
            if out:
                out.write(json.dumps(prediction.to_json()) + "\n")
                out.flush()
            bar.update(1)
            bar.set_postfix(cls=prediction.voted, overruns=prediction.overruns,
                            lead_off=f"{prediction.lead_off_p:04x}/{prediction.lead_off_n:04x}")
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
        if out:
            out.close()
    session = client.live_session
    if session is not None:
        setup = session.setup
        print(f"front end: {setup.chips} ADS1298, {setup.channels} channels, chip "
              f"{setup.chip_rate_hz} SPS / {setup.decimation} = {setup.model_rate_hz} Hz, gain "
              f"{setup.gain}, {setup.units_per_volt:g} units/V")
        print(f"received {session.received} predictions, {session.missing} missing, "
              f"{session.garbled} garbled frames")
        if session.final is not None:
            final = session.final
            print(f"board: {final.predictions} predictions sent, {final.frames_read} frames read, "
                  f"{final.overruns} overruns, {final.frame_errors} bad frames")
        elif session.stop_error:
            print(f"warning: LIVE stop got no answer: {session.stop_error}", file=sys.stderr)
    if last is not None:
        unit = last.unit.name.lower()
        print(f"last hop ({unit}): acquire {last.acquire_cycles}, preprocess "
              f"{last.preprocess_cycles}, network {last.network_cycles}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Carry out one parsed board command; returns the exit code."""
    try:
        with open_board(args.port, timeout=args.timeout, log=args.log) as client:
            if args.action == "info":
                info = client.info()
                for key, value in vars(info).items():
                    print(f"{key:20s} {value.name if hasattr(value, 'name') else value}")
            elif args.action == "live":
                return run_live(client, args)
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
