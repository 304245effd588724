"""myoedge: sEMG gesture recognition from training script to Cortex-M board.

The pipeline stages live in one folder each at the repository root and are
imported as ``myoedge.training``, ``myoedge.quantize``, ``myoedge.host`` and
``myoedge.hil``; the C firmware lives in ``firmware/``.
"""

__version__ = "0.1.0"
