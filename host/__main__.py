"""``python -m myoedge.host``: talk to a board (see myoedge.host.board_cli)."""

import sys

from myoedge.host.board_cli import main

sys.exit(main())
