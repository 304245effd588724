"""Hardware-in-the-loop bench: recorded windows through real or emulated boards.

* :mod:`.windows` - ``export_windows`` writes a windows file (``.npz``) from a
  run folder and its int8 build; ``load_windows`` reads one back, checked.
* :mod:`.bench` - ``run_bench`` runs every window on the board(s) and writes
  the report; :mod:`.multiboard` holds the boards, shards and fault recovery.
* :mod:`.checks`, :mod:`.latency`, :mod:`.energy` (+ ``power_profiles.json``),
  :mod:`.ppk2` - the verdicts and figures; :mod:`.report` writes
  ``report.json``, ``junit.xml`` and ``report.html``.
* :mod:`.pytest_plugin` - fixtures ``board``, ``client``, ``windows`` for HIL
  tests of your own (``--hil-board``, ``--hil-firmware``, ``--hil-windows``).

Submodules are imported on use, so ``import myoedge.hil`` costs nothing.
"""
