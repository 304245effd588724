"""LSTM feature-imitation network (LSTM-FIN, Wu et al. 2024): the FINs and the gesture classifier.

Built with ``tf_keras`` (Keras 2), not Keras 3: a ``tf_keras`` LSTM converts
rolled into one fused UNIDIRECTIONAL_SEQUENCE_LSTM op (int8 in and out, int16
cell state), while a Keras 3 LSTM becomes a WHILE loop the int8 converter
cannot calibrate (platform-facts.md). A saved model is a ``tf_keras``
``.keras`` file; Keras 3 refuses it and ``myoedge quantize`` falls back to
``tf_keras.models.load_model(..., safe_mode=True)``. Only built-in layers are
used, so nothing needs registering to load it.

A FIN maps one single-channel window ``(window, 1)`` to imitations of window
features. Its output vector is feature-major: ``[f0 copy 0..k-1, f1 copy
0..k-1, ...]`` with ``k = fin_outputs`` copies per feature.

Two variants (``variant`` option), each a preset of the other options:

``faithful`` (the paper and its authors' code)
    one FIN per feature; each a 3-layer bidirectional LSTM with hidden 32 over
    all 600 steps whose last layer's final *backward* state feeds
    ``Linear(32 -> 12)``. The 12 outputs are 12 copies of the same feature:
    the authors train them against the standardised feature tiled 12 times,
    and in the transfer step the 12 copies of 12 channels form a 12 x 12 image
    per feature, so the downstream CNN sees a (12 channels, 12 copies, 4
    features) map: Conv 5x5 64 -> BN -> PReLU -> dropout 0.3 -> Conv 5x5 32
    -> BN -> PReLU -> Conv 4x4 17 -> BN -> PReLU (66,646 parameters; one PReLU
    slope per layer as PyTorch's default). Only the backward direction of the
    last LSTM layer reaches the output, so that layer is built as a single
    backward LSTM: the same function without the dead forward weights.
``on-device``
    one FIN shared by all four features (a ``Dense(4)`` head) and by all
    channels (the 12 channels run as a batch of 12 sequences through one
    fused LSTM op), on the window decimated by averaging (600 -> 60 steps), a
    single unidirectional LSTM with hidden 16 and one output per feature; the
    CNN keeps the three-convolution shape on the (12, 1, 4) map with (5, 1),
    (5, 1), (4, 1) kernels, ReLU instead of PReLU (the ahead-of-time engine has
    no PRELU kernel) and no activation after the last convolution.

The downstream CNN needs at least 9 channels (its kernels take 4 + 4 rows
and leave ``channels - 8`` for the last one) and ``fin_outputs`` of 1 or >= 9.
"""

from __future__ import annotations

from typing import Any

FEATURE_NAMES = ("entropy", "rms", "variance", "ssi")  # the order of myoedge.training.features.FIN_NAMES

FAITHFUL_OPTIONS: dict[str, Any] = {
    "variant": "faithful",
    "hidden": 32,
    "lstm_layers": 3,
    "bidirectional": True,
    "decimate": 1,
    "fin_outputs": 12,
    "fin_per_feature": True,
    "cnn_filters": [64, 32],
    "cnn_activation": "prelu",
    "final_activation": True,
    "dropout": 0.3,
}

ON_DEVICE_OPTIONS: dict[str, Any] = {
    "variant": "on-device",
    "hidden": 16,
    "lstm_layers": 1,
    "bidirectional": False,
    "decimate": 10,
    "fin_outputs": 1,
    "fin_per_feature": False,
    "cnn_filters": [32, 32],
    "cnn_activation": "relu",
    "final_activation": False,
    "dropout": 0.3,
}

VARIANTS: dict[str, dict[str, Any]] = {"faithful": FAITHFUL_OPTIONS, "on-device": ON_DEVICE_OPTIONS}

# What the model registry records as defaults; ``resolve_options`` fills in the rest.
LSTM_FIN_OPTIONS: dict[str, Any] = {"variant": "faithful"}


def resolve_options(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The variant's preset with ``options`` laid over it, checked; a new dict."""
    options = dict(options or {})
    variant = options.get("variant", "faithful")
    if variant not in VARIANTS:
        raise ValueError(f"lstm-fin: unknown variant {variant!r}; choose from {sorted(VARIANTS)}")
    unknown = sorted(set(options) - set(FAITHFUL_OPTIONS))
    if unknown:
        raise ValueError(f"lstm-fin: unknown options {unknown}; known: {sorted(FAITHFUL_OPTIONS)}")
    resolved = {**VARIANTS[variant], **options}
    resolved["cnn_filters"] = [int(f) for f in resolved["cnn_filters"]]
    for name in ("hidden", "lstm_layers", "decimate", "fin_outputs"):
        resolved[name] = int(resolved[name])
        if resolved[name] < 1:
            raise ValueError(f"lstm-fin: {name} must be >= 1, got {resolved[name]}")
    if len(resolved["cnn_filters"]) != 2 or min(resolved["cnn_filters"]) < 1:
        raise ValueError(f"lstm-fin: cnn_filters must be two positive counts, got {resolved['cnn_filters']}")
    if 1 < resolved["fin_outputs"] < 9:
        raise ValueError(f"lstm-fin: fin_outputs must be 1 or >= 9 (CNN kernels), got {resolved['fin_outputs']}")
    if resolved["cnn_activation"] not in ("prelu", "relu"):
        raise ValueError(f"lstm-fin: cnn_activation must be 'prelu' or 'relu', got {resolved['cnn_activation']!r}")
    if not 0.0 <= float(resolved["dropout"]) < 1.0:
        raise ValueError(f"lstm-fin: dropout must be in [0, 1), got {resolved['dropout']}")
    return resolved


def fin_groups(options: dict[str, Any]) -> list[tuple[str, ...]]:
    """Which features each FIN imitates: one FIN per feature, or one FIN for all four."""
    if options["fin_per_feature"]:
        return [(name,) for name in FEATURE_NAMES]
    return [FEATURE_NAMES]


def fin_name(features: tuple[str, ...]) -> str:
    """Layer name of the FIN imitating ``features`` (``fin_rms``, ``fin_all``)."""
    return "fin_" + (features[0] if len(features) == 1 else "all")


def decimated_steps(window: int, decimate: int) -> int:
    """Time steps the LSTM sees after averaging ``decimate`` samples (a partial tail is dropped)."""
    steps = window // decimate
    if steps < 1:
        raise ValueError(f"lstm-fin: window {window} is shorter than the decimation {decimate}")
    return steps


def build_fin(window: int, features: tuple[str, ...], options: dict[str, Any], name: str | None = None):
    """One FIN: a single-channel window ``(window, 1)`` -> ``len(features) * fin_outputs`` values."""
    import tf_keras as tfk

    options = resolve_options(options)
    hidden, layers = options["hidden"], options["lstm_layers"]
    inputs = tfk.Input((window, 1), name="channel_window")
    x = inputs
    if options["decimate"] > 1:
        decimated_steps(window, options["decimate"])
        x = tfk.layers.AveragePooling1D(options["decimate"], name="decimate")(x)
    for index in range(layers - 1):
        lstm = tfk.layers.LSTM(hidden, return_sequences=True, name=f"lstm{index + 1}")
        x = tfk.layers.Bidirectional(lstm, name=f"bilstm{index + 1}")(x) if options["bidirectional"] else lstm(x)
    # The last layer's final state; with a bidirectional FIN only its backward
    # direction reaches the output (see the module docstring).
    x = tfk.layers.LSTM(hidden, go_backwards=bool(options["bidirectional"]), name=f"lstm{layers}")(x)
    outputs = tfk.layers.Dense(len(features) * options["fin_outputs"], name="imitation")(x)
    return tfk.Model(inputs, outputs, name=name or fin_name(features))


def build_fins(window: int, options: dict[str, Any]) -> list:
    """The FIN bank of a variant, one model per entry of :func:`fin_groups`."""
    options = resolve_options(options)
    return [build_fin(window, group, options) for group in fin_groups(options)]


def build_lstm_fin(
    input_shape: tuple,
    n_classes: int,
    name: str = "lstm-fin",
    fins: list | None = None,
    **options: Any,
):
    """The gesture classifier: FINs on every channel of a (window, channels) input -> CNN -> softmax.

    ``fins`` are pre-trained FIN models to transfer (as from :func:`build_fins`;
    they become layers of the classifier and are fine-tuned with it unless
    frozen); without them fresh FINs are built.
    """
    import tf_keras as tfk

    options = resolve_options(options)
    window, channels = (int(d) for d in input_shape)
    if channels < 9:
        raise ValueError(f"lstm-fin: the downstream CNN needs >= 9 channels, the input has {channels}")
    groups = fin_groups(options)
    fins = list(fins) if fins is not None else build_fins(window, options)
    if len(fins) != len(groups):
        raise ValueError(f"lstm-fin: expected {len(groups)} FINs for variant {options['variant']}, got {len(fins)}")
    copies = options["fin_outputs"]
    for fin, group in zip(fins, groups):
        expected_out = len(group) * copies
        if tuple(fin.input_shape[1:]) != (window, 1) or int(fin.output_shape[-1]) != expected_out:
            raise ValueError(
                f"lstm-fin: FIN {fin.name} maps {fin.input_shape} -> {fin.output_shape}; "
                f"expected (None, {window}, 1) -> (None, {expected_out})"
            )

    inputs = tfk.Input((window, channels), name="window")
    per_channel = tfk.layers.Permute((2, 1), name="channels_first")(inputs)
    per_channel = tfk.layers.Reshape((channels, window, 1), name="channel_windows")(per_channel)
    imitated = [tfk.layers.TimeDistributed(fin, name=f"{fin.name}_per_channel")(per_channel) for fin in fins]
    x = imitated[0] if len(imitated) == 1 else tfk.layers.Concatenate(name="features")(imitated)
    n_features = sum(len(group) for group in groups)
    if copies == 1:
        x = tfk.layers.Reshape((channels, 1, n_features), name="feature_map")(x)
    else:
        x = tfk.layers.Reshape((channels, n_features, copies), name="feature_copies")(x)
        x = tfk.layers.Permute((1, 3, 2), name="feature_map")(x)
    x = _downstream_cnn(x, channels, copies, n_classes, options)
    outputs = tfk.layers.Softmax(name="probabilities")(x)
    return tfk.Model(inputs, outputs, name=name)


def _activation(kind: str, name: str):
    import tf_keras as tfk

    if kind == "prelu":  # one slope per layer, as torch.nn.PReLU()
        return tfk.layers.PReLU(shared_axes=[1, 2, 3], name=name)
    return tfk.layers.ReLU(name=name)


def _downstream_cnn(x, channels: int, copies: int, n_classes: int, options: dict[str, Any]):
    """Conv (5, kw) f1 -> BN -> act -> dropout -> Conv (5, kw) f2 -> BN -> act -> Conv (rest) classes -> BN [-> act]."""
    import tf_keras as tfk

    kw = 5 if copies > 1 else 1
    first, second = options["cnn_filters"]
    act = options["cnn_activation"]
    x = tfk.layers.Conv2D(first, (5, kw), name="conv1")(x)
    x = tfk.layers.BatchNormalization(name="bn1")(x)
    x = _activation(act, "act1")(x)
    x = tfk.layers.Dropout(float(options["dropout"]), name="dropout")(x)
    x = tfk.layers.Conv2D(second, (5, kw), name="conv2")(x)
    x = tfk.layers.BatchNormalization(name="bn2")(x)
    x = _activation(act, "act2")(x)
    x = tfk.layers.Conv2D(n_classes, (channels - 8, copies - 2 * (kw - 1)), name="conv3")(x)
    x = tfk.layers.BatchNormalization(name="bn3")(x)
    if options["final_activation"]:
        x = _activation(act, "act3")(x)
    return tfk.layers.Flatten(name="logits")(x)


# ---------------------------------------------------------------------------
# Costs, counted from the architecture (the quantize stage measures the int8 graph)
# ---------------------------------------------------------------------------


def lstm_macs(steps: int, inputs: int, hidden: int) -> int:
    """Multiply-accumulates of one LSTM direction over ``steps``: four gates, input and recurrent weights."""
    return steps * 4 * hidden * (inputs + hidden)


def fin_macs(window: int, n_outputs: int, options: dict[str, Any]) -> int:
    """MACs of one FIN on one single-channel window (LSTMs and the output layer)."""
    options = resolve_options(options)
    steps = decimated_steps(window, options["decimate"])
    hidden, directions = options["hidden"], 2 if options["bidirectional"] else 1
    total, inputs = 0, 1
    for _ in range(options["lstm_layers"] - 1):
        total += directions * lstm_macs(steps, inputs, hidden)
        inputs = directions * hidden
    total += lstm_macs(steps, inputs, hidden)  # last layer: one direction reaches the output
    return total + hidden * n_outputs


def cnn_macs(channels: int, copies: int, n_features: int, n_classes: int, options: dict[str, Any]) -> int:
    """MACs of the downstream CNN's three convolutions."""
    kw = 5 if copies > 1 else 1
    first, second = resolve_options(options)["cnn_filters"]
    h1, w1 = channels - 4, copies - (kw - 1)
    h2, w2 = h1 - 4, w1 - (kw - 1)
    return (h1 * w1 * first * 5 * kw * n_features
            + h2 * w2 * second * 5 * kw * first
            + n_classes * h2 * w2 * second)


def lstm_fin_macs(window: int, channels: int, n_classes: int, options: dict[str, Any]) -> dict[str, int]:
    """``{"fins", "cnn", "total"}`` MACs of one classification (every FIN on every channel)."""
    options = resolve_options(options)
    copies = options["fin_outputs"]
    fins = sum(fin_macs(window, len(group) * copies, options) for group in fin_groups(options)) * channels
    cnn = cnn_macs(channels, copies, len(FEATURE_NAMES), n_classes, options)
    return {"fins": int(fins), "cnn": int(cnn), "total": int(fins + cnn)}


def lstm_activation_bytes(window: int, channels: int, options: dict[str, Any]) -> int:
    """Rough int8 working memory of the largest FIN layer run over all channels at once.

    The input and output sequences of the widest LSTM layer for the batch of
    ``channels`` sequences, plus its int16 cell and int8 hidden state. An
    estimate for models too large to convert (the faithful FIN bank); the
    on-device variant's arena is measured by TFLM and the AOT planner instead.
    """
    options = resolve_options(options)
    steps = decimated_steps(window, options["decimate"])
    directions = 2 if options["bidirectional"] else 1
    hidden = options["hidden"]
    widest_out = directions * hidden if options["lstm_layers"] > 1 else hidden
    widest_in = widest_out if options["lstm_layers"] > 2 else 1
    sequences = channels * steps * (widest_in + widest_out)
    state = channels * hidden * (2 + 1) * directions
    return int(window * channels + sequences + state)
