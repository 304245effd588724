"""How far an op's output buffer may overlap its own input buffer in the arena.

Some kernels walk their output in the same order as their input and never
look back: once output unit ``u`` (a pixel of all channels, or an LSTM time
step) is written, no later step reads input below a known address. Their
output can then start *before the end* of their input in memory, as long as
every byte written lands below every input byte still to be read. This
module computes, from shapes and options only, the largest shift

    shift = offset(output) - offset(input)

for which that holds (any smaller shift is safe as well, and so is any
placement where the two buffers do not overlap at all). The planner
(:mod:`.planner`, ``OverlapRule``) uses it to pack the pair tighter; a shift
>= 0 means the op can run fully in place.

The argument, for a kernel that writes its output in increasing address
order, unit by unit:

* writing byte ``k`` of unit ``u`` (address ``shift + u * unit_out + k``)
  must not touch an input byte that is read afterwards;
* the input bytes read afterwards are those of the units still to be
  computed (``u' > u``, lowest address ``min_{u' > u} low(u')``) and, when the
  kernel re-reads unit ``u``'s window for each output byte (a conv computes
  one output channel at a time), those of unit ``u`` itself;
* so ``shift <= low_needed - 1 - address`` for every write, and the largest
  safe shift is the minimum of that bound over all writes. Addresses only
  grow with ``u`` and ``k``, so checking the last byte of each unit (and the
  last-but-one for the re-read case) is enough.

Kernel contracts this relies on (each kernel's source says so too):

* MAX_POOL_2D / AVERAGE_POOL_2D (``pooling.c``): pixels in (batch, y, x)
  order; each output byte (pixel, channel) is written after reading its
  window for that channel (or, on the DSP path, for a group of up to four
  channels starting at it), and reads only that channel.
* CONV_2D (``conv.c``): pixels in (batch, y, x) order; an output pixel's
  channels may be written one by one, each after reading the whole window
  (all input channels). To leave the kernel free to compute two pixels
  together (as CMSIS-NN-style kernels do), the bound assumes up to
  ``CONV_PIXELS_IN_FLIGHT`` consecutive pixels may be read and written
  interleaved.
* UNIDIRECTIONAL_SEQUENCE_LSTM (``lstm.c``), batch-major input only: rows
  (batch, time) in increasing order; a row's input is read completely before
  its hidden state is written to the output row. The recurrent state lives
  in the op's variable tensors, not in the output.

Any other op: ``None`` (no overlap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from myoedge.quantize.tflite_graph import Graph, OpInfo

from .ops_conv import compute_padding

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .planner import LiveRange, OverlapRule

_NO_READ = 1 << 40  # stands for "reads nothing": far above any arena address, small enough not to overflow

CONV_PIXELS_IN_FLIGHT = 2
"""Consecutive output pixels a CONV_2D kernel may work on at once (see the module docstring)."""


def window_first_pixels(batches: int, in_hw: tuple[int, int], out_hw: tuple[int, int],
                        filter_hw: tuple[int, int], strides: tuple[int, int], pads: tuple[int, int],
                        dilations: tuple[int, int] = (1, 1)) -> np.ndarray:
    """Linear index (batch, y, x) of the lowest input pixel each output pixel reads, in output order.

    The window is clipped to the image (padding taps read nothing); the
    lowest in-bounds tap is the first in-bounds row and column. An output
    pixel whose window is empty gets ``_NO_READ`` (it reads nothing).
    """
    (h, w), (oh, ow) = in_hw, out_hw
    first = np.empty((batches, oh, ow), dtype=np.int64)
    for axis_y in range(oh):
        y0 = axis_y * strides[0] - pads[0]
        ys = [y0 + f * dilations[0] for f in range(filter_hw[0]) if 0 <= y0 + f * dilations[0] < h]
        for axis_x in range(ow):
            x0 = axis_x * strides[1] - pads[1]
            xs = [x0 + f * dilations[1] for f in range(filter_hw[1]) if 0 <= x0 + f * dilations[1] < w]
            if not ys or not xs:
                first[:, axis_y, axis_x] = _NO_READ
                continue
            for b in range(batches):
                first[b, axis_y, axis_x] = (b * h + ys[0]) * w + xs[0]
    return first.reshape(-1)


def _suffix_min_after(values: np.ndarray) -> np.ndarray:
    """``out[u] = min(values[u + 1:])`` (a huge value for the last unit)."""
    tail = np.minimum.accumulate(values[::-1])[::-1]
    return np.append(tail[1:], _NO_READ)


def channelwise_max_shift(first_pixel: np.ndarray, depth: int) -> int:
    """Largest safe shift for a per-channel windowed op (pooling): see the module docstring.

    Writing (pixel u, channel c) at ``shift + u*depth + c`` must stay below
    the same pixel's window in the channels still to come (``first[u]*depth
    + c + 1``, when depth > 1) and below every later pixel's window
    (``min_{u'>u} first[u'] * depth``, worst at c = depth - 1).
    """
    u = np.arange(first_pixel.size, dtype=np.int64)
    later = _suffix_min_after(first_pixel)
    bound = depth * (later - u - 1)
    if depth > 1:
        bound = np.minimum(bound, depth * (first_pixel - u))
    return int(bound.min()) if bound.size else 0


def windowed_max_shift(first_pixel: np.ndarray, in_depth: int, out_depth: int, in_flight: int) -> int:
    """Largest safe shift for an op whose every output byte reads its whole window (CONV_2D).

    Up to ``in_flight`` consecutive pixels ``u .. u+in_flight-1`` may be
    written while any of their windows is still being read: the last byte of
    that group, ``shift + (u + in_flight) * out_depth - 1``, must stay below
    ``min_{u' >= u} first[u'] * in_depth``.
    """
    n = first_pixel.size
    if n == 0:
        return 0
    from_here = np.minimum.accumulate(first_pixel[::-1])[::-1]  # min over u' >= u
    u = np.arange(n, dtype=np.int64)
    group_end = np.minimum(u + in_flight, n)
    bound = from_here * in_depth - group_end * out_depth
    return int(bound.min())


def rowwise_max_shift(rows: int, in_row_bytes: int, out_row_bytes: int) -> int:
    """Largest safe shift for an op that reads input row r, then writes output row r, in row order.

    The last byte of output row r, ``shift + (r + 1) * out_row - 1``, must stay
    below input row r + 1 (``(r + 1) * in_row``); rows past the last impose nothing.
    """
    if rows <= 1:
        return in_row_bytes * rows  # one row: read completely before any write
    r = np.arange(rows - 1, dtype=np.int64)
    bound = (r + 1) * in_row_bytes - (r + 1) * out_row_bytes
    return int(bound.min())


def output_overlap_shift(graph: Graph, op: OpInfo) -> int | None:
    """Largest ``offset(output) - offset(input 0)`` at which ``op`` still computes correctly.

    ``None`` for ops whose kernel gives no such guarantee (their output must
    not overlap their input at all). Only int8 input and output are handled.
    A result of at least the input's size means any placement is safe.
    """
    shift = _raw_overlap_shift(graph, op)
    return None if shift is None else min(shift, graph.tensors[op.inputs[0]].nbytes)


def _raw_overlap_shift(graph: Graph, op: OpInfo) -> int | None:
    """:func:`output_overlap_shift` before clamping to the input's size."""
    if not op.inputs or not op.outputs or op.inputs[0] < 0 or op.outputs[0] < 0:
        return None
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if x.type_name != "INT8" or y.type_name != "INT8":
        return None
    options = op.options or {}
    if op.opcode in ("MAX_POOL_2D", "AVERAGE_POOL_2D", "CONV_2D"):
        if len(x.shape) != 4 or len(y.shape) != 4:
            return None
        n, h, w, c = (int(d) for d in x.shape)
        _, oh, ow, oc = (int(d) for d in y.shape)
        strides = (int(options.get("stride_h", 1)), int(options.get("stride_w", 1)))
        if op.opcode == "CONV_2D":
            filt = graph.tensors[op.inputs[1]]
            filter_hw = (int(filt.shape[1]), int(filt.shape[2]))
            dilations = (int(options.get("dilation_h_factor", 1)), int(options.get("dilation_w_factor", 1)))
        else:
            filter_hw = (int(options["filter_height"]), int(options["filter_width"]))
            dilations = (1, 1)
        padding = str(options.get("padding", "VALID"))
        pads = []
        for axis, (size, out) in enumerate(((h, oh), (w, ow))):
            expected, pad = compute_padding(size, filter_hw[axis], strides[axis], dilations[axis], padding)
            if expected != out:
                return None
            pads.append(pad)
        first = window_first_pixels(n, (h, w), (oh, ow), filter_hw, strides, (pads[0], pads[1]), dilations)
        if op.opcode == "CONV_2D":
            return windowed_max_shift(first, c, oc, CONV_PIXELS_IN_FLIGHT)
        if oc != c:
            return None
        return channelwise_max_shift(first, c)
    if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        if bool(options.get("time_major", False)) or len(x.shape) != 3 or len(y.shape) != 3:
            return None
        batches, steps, in_dim = (int(d) for d in x.shape)
        out_dim = int(y.shape[2])
        return rowwise_max_shift(batches * steps, in_dim, out_dim)
    return None


def overlap_rules(graph: Graph, root_of: Callable[[int], int], ranges: list[LiveRange]) -> list[OverlapRule]:
    """One :class:`OverlapRule` per op whose output may overlap its input in the arena.

    ``root_of`` maps a tensor to the key of the buffer holding it (tensors
    joined by views or in-place ops share one) and ``ranges`` are the arena
    buffers keyed ``("t", root)``. A rule is made only when the op is the last
    reader of its input's buffer and the first writer of its output's buffer,
    so no other op sees the overlap.
    """
    from .planner import OverlapRule

    by_key = {r.key: r for r in ranges}
    rules: list[OverlapRule] = []
    for op in graph.ops:
        shift = output_overlap_shift(graph, op)
        if shift is None:
            continue
        x_key, y_key = ("t", root_of(op.inputs[0])), ("t", root_of(op.outputs[0]))
        if x_key == y_key or x_key not in by_key or y_key not in by_key:
            continue
        if by_key[x_key].last != op.index or by_key[y_key].first != op.index:
            continue
        rules.append(OverlapRule(earlier=x_key, later=y_key, max_shift=shift))
    return rules
