"""Ahead-of-time C generator: turns an int8 .tflite into C99 that calls the
kernel library in ``firmware/kernels`` and is bit-exact with TFLite Micro.

Entry point: :func:`myoedge.quantize.aot.generate.generate_c`. The host
harness (:mod:`.host_build`) compiles the result into a shared library for
parity tests; :mod:`.debug` names the first op that diverges from TFLM.
"""
