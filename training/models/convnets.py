"""Shallow ConvNets for instantaneous HD-sEMG images (Islam et al. 2019), trained from scratch.

One time sample of an 8 x 16 electrode grid (CapgMyo) is one image. The
papers' exact layer lists were not available, so these are our own choices,
following what the papers state: shallow, a few 3 x 3 convolutions, far
fewer parameters than GengNet (5.63 M), no pre-training.

S-ConvNet (``build_sconvnet``, 95 148 parameters and 1.87 M MACs at width 32
with 8 classes)::

    input (8, 16, 1)
    -> BatchNorm                                  (learned input scaling; GengNet also starts with BN)
    -> Conv 3x3 32 same -> BN -> ReLU
    -> Conv 3x3 32 same -> BN -> ReLU -> MaxPool 2x2      -> (4, 8, 32)
    -> Conv 3x3 64 same -> BN -> ReLU -> MaxPool 2x2      -> (2, 4, 64)
    -> Flatten (512) -> Dropout 0.5 -> Dense 128 -> ReLU -> Dropout 0.5
    -> Dense(n_classes, softmax)

Why: two full-resolution 3 x 3 layers see a 5 x 5 patch (a fifth of the
grid's width) before any down-sampling; two pooling steps reduce the 8 x 16
grid to 2 x 4 so one small dense layer can mix the whole forearm.

All-ConvNet (``build_allconvnet``, 103 212 parameters and 3.28 M MACs at
width 32 with 8 classes),
the "all convolutional" recipe (Springenberg et al. 2015): strided
convolutions in place of pooling, a 1 x 1 convolution to class maps and
global average pooling in place of dense layers::

    input (8, 16, 1) -> BatchNorm
    -> Conv 3x3 32 same -> BN -> ReLU
    -> Conv 3x3 32 same -> BN -> ReLU
    -> Conv 3x3 64 stride 2 same -> BN -> ReLU            -> (4, 8, 64)
    -> Dropout 0.3
    -> Conv 3x3 64 same -> BN -> ReLU
    -> Conv 3x3 64 stride 2 same -> BN -> ReLU            -> (2, 4, 64)
    -> Conv 1x1 n_classes -> GlobalAveragePooling (TFLite MEAN) -> softmax

Why: each stride-2 convolution learns its own down-sampling where S-ConvNet
pools; the 1 x 1 class maps averaged over the 2 x 4 positions replace the
dense head, which keeps the parameter count independent of the grid size.

In the int8 export the BatchNorms fold away (into the convolutions; the
input BatchNorm, an affine map of the single input channel, is absorbed by
the converter) and each ReLU fuses into its convolution, so the graphs hold
only CONV_2D, MAX_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX (S-ConvNet) and
CONV_2D, MEAN, SOFTMAX (All-ConvNet). Both need a ~13 KB TFLM arena. Their
MAC counts are well above issue 6's 500 k on-board budget: they are the
HD-sEMG seed models, not the board-sized one (``width=16`` quarters the MACs).
"""

from __future__ import annotations

import keras


def _conv_block(x, filters: int, strides: int, name: str):
    """Conv 3x3 (same) -> BatchNorm -> ReLU."""
    x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _check_image_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"ConvNets expect input_shape (rows, cols, 1), got {input_shape}")
    rows, cols, depth = (int(d) for d in input_shape)
    if rows < 4 or cols < 4:
        raise ValueError(f"ConvNets need an image of at least 4 x 4 (two 2x down-samplings), got {input_shape}")
    return rows, cols, depth


def build_sconvnet(
    input_shape: tuple[int, int, int] = (8, 16, 1),
    n_classes: int = 8,
    width: int = 32,
    dense_units: int = 128,
    dropout: float = 0.5,
    name: str = "sconvnet",
) -> keras.Model:
    """Shallow ConvNet with max pooling and one dense layer (layer list in the module docstring)."""
    inputs = keras.Input(shape=_check_image_shape(input_shape), name="image")
    x = keras.layers.BatchNormalization(name="input_bn")(inputs)
    x = _conv_block(x, width, 1, "block1")
    x = _conv_block(x, width, 1, "block2")
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = _conv_block(x, 2 * width, 1, "block3")
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout1")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(dropout, name="dropout2")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=name)


def build_allconvnet(
    input_shape: tuple[int, int, int] = (8, 16, 1),
    n_classes: int = 8,
    width: int = 32,
    dropout: float = 0.3,
    name: str = "allconvnet",
) -> keras.Model:
    """All-convolutional net: strided convs, 1x1 class maps, global average pooling."""
    inputs = keras.Input(shape=_check_image_shape(input_shape), name="image")
    x = keras.layers.BatchNormalization(name="input_bn")(inputs)
    x = _conv_block(x, width, 1, "block1")
    x = _conv_block(x, width, 1, "block2")
    x = _conv_block(x, 2 * width, 2, "block3")
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = _conv_block(x, 2 * width, 1, "block4")
    x = _conv_block(x, 2 * width, 2, "block5")
    x = keras.layers.Conv2D(n_classes, 1, name="class_maps")(x)
    x = keras.layers.GlobalAveragePooling2D(name="average")(x)
    outputs = keras.layers.Softmax(name="classes")(x)
    return keras.Model(inputs, outputs, name=name)
