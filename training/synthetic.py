"""Synthetic sEMG data sets, written in the real databases' on-disk formats.

The model, in one paragraph: a forearm carries a handful of muscles, each
at an angle around the arm and a position along it. An electrode picks up a
muscle through a smooth spatial weight (a bump around the ring times a bump
along the arm), so neighbouring electrodes see similar amplitudes. A gesture
activates a few muscles with gesture-specific strengths; gestures share
muscles, so their spatial patterns overlap. Each electrode records
band-limited Gaussian noise (spatially correlated between neighbours) whose
amplitude is the power sum of the muscles it sees, times the activation
envelope of the moment (onset delay, ramp up, hold with a slow wobble, ramp
down), plus a weak tonic level at rest, electrode noise and 50 Hz powerline
hum. Subjects differ in electrode placement (rotation and shift of the
armband), contact gains, muscle strengths and gesture strengths;
repetitions differ in effort and in how much each muscle contributes, which
keeps a linear classifier on amplitude features well above chance but short
of perfect on a held-out repetition.

Layouts and formats:
- ``myo16``: two Myo rings, 16 channels at 200 Hz, NinaPro DB5 format
  (``sN/SN_E1_A1.mat``), integer-valued samples in -128..127.
- ``delsys12``: NinaPro DB2 placement (8 electrodes around the forearm, 2 on
  the finger flexor and extensor, 2 on biceps and triceps), 12 channels at
  2 kHz, NinaPro DB2 format (``DB2_sN/SN_E1_A1.mat``), values in volts.
- ``hd8x16``: CapgMyo grid, 128 channels at 1 kHz, CapgMyo DB-a format
  (``dba-preprocessed-SSS/SSS-GGG-TTT.mat``: 8 gestures x 10 trials of
  1000 samples, plus one extra rest recording as gesture 100), values in the
  data set's normalised units (1.0 = 2.5 mV).

NinaPro-format files follow the real timing: each repetition is a 5 s cue
followed by 3 s of rest; the movement itself (``restimulus``) starts after
a reaction delay and lasts about 3 s, so about 60 % of the samples are
rest. Rest samples carry the number of the next repetition in
``rerepetition`` (0 after the last one), as in the DB5 files;
``stimulus``/``repetition`` mark the cue. Everything is deterministic in
``seed``; a subject's data do not depend on which other subjects are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.io import savemat
from scipy.signal import butter, sosfilt

from .recording import DELSYS12, HD8X16, MYO16, ElectrodeLayout

LAYOUT_NAMES = ("myo16", "delsys12", "hd8x16")

# Movements per exercise, as in the real databases (DB5: E1..E3; DB2: E1..E3).
_DB5_MOVES = {1: 12, 2: 17, 3: 23}
_DB2_MOVES = {1: 17, 2: 23, 3: 9}

_N_FOREARM_MUSCLES = 8
# Variability that keeps the task learnable but not trivial (log-normal sigmas).
REPETITION_MUSCLE_SPREAD = 0.3  # how much each muscle's share changes between repetitions
REPETITION_EFFORT_SPREAD = 0.3  # overall effort between repetitions
HOLD_WOBBLE = 0.2  # slow amplitude wander during a held contraction (std, relative)
REST_TONE_SPREAD = 0.4  # tonic activity differs from one rest period to the next
SKIN_SHIFT_ANGLE = 0.12  # radians: skin and electrodes slide over the muscles a little per contraction
SKIN_SHIFT_Z = 0.02  # same, along the arm (0..1 = elbow..wrist)
_UPPER_ARM_MUSCLES = ((np.pi / 2, -0.8), (3 * np.pi / 2, -0.8))  # (angle, position): biceps, triceps


@dataclass(frozen=True)
class SyntheticSpec:
    """How one layout is simulated and stored."""

    name: str
    layout: ElectrodeLayout
    electrode_angle: np.ndarray  # (channels,) radians around the forearm
    electrode_z: np.ndarray  # (channels,) along the arm: 0 elbow .. 1 wrist, < 0 upper arm
    band_hz: tuple[float, float]  # pass band of the sEMG noise
    active_scale: float  # typical amplitude (std) of a fully active channel, in file units
    rest_level: float  # tonic amplitude at rest, same units
    electrode_noise: float  # white noise std, same units
    hum: float  # 50 Hz amplitude, same units
    correlation_length: float  # spatial correlation of the noise between electrodes (radians-equivalent)
    variability: float = 1.0  # scales the repetition-to-repetition spreads (see REPETITION_* below)


def _myo16_geometry() -> tuple[np.ndarray, np.ndarray]:
    ring = 2 * np.pi * np.arange(8) / 8
    angle = np.concatenate([ring, ring + np.pi / 8])  # second armband turned by 22.5 degrees
    z = np.concatenate([np.full(8, 0.25), np.full(8, 0.40)])
    return angle, z


def _delsys12_geometry() -> tuple[np.ndarray, np.ndarray]:
    ring = 2 * np.pi * np.arange(8) / 8
    angle = np.concatenate([ring, [np.pi / 2 + 0.3, 3 * np.pi / 2 - 0.3, np.pi / 2, 3 * np.pi / 2]])
    z = np.concatenate([np.full(8, 0.2), [0.35, 0.35, -0.8, -0.8]])
    return angle, z


def _hd8x16_geometry() -> tuple[np.ndarray, np.ndarray]:
    # File column k: position k % 8 along the forearm, k // 8 around it (see recording.HD8X16).
    k = np.arange(128)
    angle = 2 * np.pi * (k // 8) / 16
    z = 0.15 + 0.04 * (k % 8)
    return angle, z


def layout_spec(name: str) -> SyntheticSpec:
    """The simulation settings of a layout name (``myo16``, ``delsys12``, ``hd8x16``)."""
    if name == "myo16":
        angle, z = _myo16_geometry()
        return SyntheticSpec(name, MYO16, angle, z, (15.0, 95.0), 16.0, 2.5, 0.7, 0.6, 0.5)
    if name == "delsys12":
        angle, z = _delsys12_geometry()
        return SyntheticSpec(name, DELSYS12, angle, z, (20.0, 450.0), 6e-5, 3e-6, 1.5e-6, 2e-6, 0.5)
    if name == "hd8x16":
        angle, z = _hd8x16_geometry()
        # 128 electrodes resolve fine spatial detail, so repetitions vary more
        # here to keep a linear classifier short of perfect.
        return SyntheticSpec(name, HD8X16, angle, z, (20.0, 380.0), 0.06, 0.003, 0.002, 0.001, 0.35, variability=2.0)
    raise ValueError(f"unknown synthetic layout {name!r}; choose from {LAYOUT_NAMES}")


# ---------------------------------------------------------------------------
# Anatomy, subjects, gestures
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Anatomy:
    """Muscles shared by every synthetic subject of one seed."""

    angle: np.ndarray  # (muscles,)
    z: np.ndarray
    angular_concentration: np.ndarray  # von Mises kappa: larger = narrower around the ring
    z_width: np.ndarray

    @property
    def n_muscles(self) -> int:
        return int(self.angle.size)


def make_anatomy(seed: int) -> Anatomy:
    """Forearm muscles spread around the arm at random depths along it, plus biceps and triceps."""
    rng = np.random.default_rng([seed, 0xA7])
    k = _N_FOREARM_MUSCLES
    angle = 2 * np.pi * np.arange(k) / k + rng.normal(0.0, 0.15, k)
    z = rng.uniform(0.15, 0.6, k)
    kappa = rng.uniform(0.8, 2.5, k)
    width = rng.uniform(0.15, 0.3, k)
    upper = np.array(_UPPER_ARM_MUSCLES)
    return Anatomy(
        angle=np.concatenate([angle, upper[:, 0]]), z=np.concatenate([z, upper[:, 1]]),
        angular_concentration=np.concatenate([kappa, [2.0, 2.0]]),
        z_width=np.concatenate([width, [0.25, 0.25]]),
    )


def make_gestures(seed: int, exercise: int, n_gestures: int, n_muscles: int) -> np.ndarray:
    """(gestures, muscles) activation strengths; each gesture drives 2-3 main
    muscles and touches a few more weakly, so patterns overlap."""
    rng = np.random.default_rng([seed, 0x6E, exercise])
    forearm = n_muscles - len(_UPPER_ARM_MUSCLES)
    weights = np.zeros((n_gestures, n_muscles))
    for g in range(n_gestures):
        main = rng.choice(forearm, size=int(rng.integers(2, 4)), replace=False)
        weights[g, main] = rng.uniform(0.45, 1.0, main.size)
        weights[g, :forearm] += rng.uniform(0.0, 0.15, forearm) * (rng.random(forearm) < 0.5)
        if rng.random() < 0.25:  # wrist rotations and grasps also recruit the upper arm
            weights[g, forearm + int(rng.integers(0, len(_UPPER_ARM_MUSCLES)))] = rng.uniform(0.3, 0.8)
    return weights


@dataclass(frozen=True)
class Subject:
    """One synthetic person: where the electrodes ended up and how strong things are."""

    anatomy: Anatomy
    electrode_angle: np.ndarray  # (channels,) after this subject's armband rotation
    electrode_z: np.ndarray  # (channels,) after this subject's armband shift
    muscle_strength: np.ndarray  # (muscles,)
    channel_gain: np.ndarray  # (channels,)
    gestures: np.ndarray  # (gestures, muscles) this subject's gesture strengths
    rest_level: np.ndarray  # (channels,)
    hum_amplitude: np.ndarray  # (channels,)
    hum_phase: np.ndarray  # (channels,)
    noise_mixing: np.ndarray  # (channels, channels) spatial correlation of the sEMG noise


def make_subject(spec: SyntheticSpec, anatomy: Anatomy, gestures: np.ndarray, rng: np.random.Generator) -> Subject:
    """Draw one person: armband placement, contact gains, muscle and gesture strengths, hum pick-up."""
    rotation = rng.normal(0.0, 0.2)  # armband put on a little turned ...
    shift = rng.normal(0.0, 0.03)  # ... and a little higher or lower
    angle = spec.electrode_angle + rotation
    z = spec.electrode_z + shift
    strength = rng.lognormal(0.0, 0.3, anatomy.n_muscles)
    subject_gestures = gestures * rng.lognormal(0.0, 0.2, gestures.shape)
    c = spec.layout.n_channels
    gap = np.abs(np.angle(np.exp(1j * (angle[:, None] - angle[None, :]))))
    distance = np.hypot(gap, 2.0 * (z[:, None] - z[None, :]))
    mixing = np.exp(-(distance ** 2) / (2 * spec.correlation_length ** 2))
    mixing /= np.sqrt((mixing ** 2).sum(axis=1, keepdims=True))  # unit variance per channel
    return Subject(
        anatomy=anatomy, electrode_angle=angle, electrode_z=z, muscle_strength=strength,
        channel_gain=rng.lognormal(0.0, 0.25, c), gestures=subject_gestures,
        rest_level=spec.rest_level * rng.lognormal(0.0, 0.3, c), hum_amplitude=spec.hum * rng.lognormal(0.0, 0.5, c),
        hum_phase=rng.uniform(0, 2 * np.pi, c), noise_mixing=mixing,
    )


def spatial_weights(anatomy: Anatomy, angle: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(channels, muscles): how strongly each electrode sees each muscle, a
    von Mises bump around the arm times a Gaussian bump along it."""
    around = np.exp(anatomy.angular_concentration[None, :] * (np.cos(angle[:, None] - anatomy.angle[None, :]) - 1.0))
    along = np.exp(-((z[:, None] - anatomy.z[None, :]) ** 2) / (2 * anatomy.z_width[None, :] ** 2))
    return around * along


def repetition_pattern(subject: Subject, gesture: int, rng: np.random.Generator, variability: float = 1.0) -> np.ndarray:
    """(channels,) amplitude of one repetition at full activation: effort, the
    mix of muscles and the skin's position over them vary between repetitions.
    Independent muscles add in power."""
    spread = variability
    drive = subject.gestures[gesture - 1] * rng.lognormal(0.0, spread * REPETITION_MUSCLE_SPREAD,
                                                          subject.gestures.shape[1])
    effort = rng.lognormal(0.0, REPETITION_EFFORT_SPREAD)
    angle = subject.electrode_angle + rng.normal(0.0, spread * SKIN_SHIFT_ANGLE)
    z = subject.electrode_z + rng.normal(0.0, spread * SKIN_SHIFT_Z)
    seen = spatial_weights(subject.anatomy, angle, z) * (subject.muscle_strength * drive)[None, :]
    return effort * np.sqrt((seen ** 2).sum(axis=1))


# ---------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _band_filter(fs: float, low: float, high: float) -> tuple[np.ndarray, float]:
    """Order-4 Butterworth band-pass and the gain that brings white noise through it back to unit variance."""
    sos = butter(4, [low, min(high, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    probe = sosfilt(sos, np.random.default_rng(0).standard_normal(20000))[2000:]
    return sos, float(1.0 / probe.std())


class NoiseSource:
    """Band-limited, spatially correlated unit-variance noise, continuous across calls."""

    def __init__(self, spec: SyntheticSpec, subject: Subject, rng: np.random.Generator) -> None:
        self.sos, self.gain = _band_filter(spec.layout.sampling_rate_hz, *spec.band_hz)
        self.mixing = subject.noise_mixing
        self.rng = rng
        self.state = np.zeros((self.sos.shape[0], 2, spec.layout.n_channels))

    def next(self, n: int) -> np.ndarray:
        white = self.rng.standard_normal((n, self.mixing.shape[0]))
        banded, self.state = sosfilt(self.sos, white, axis=0, zi=self.state)
        return (banded @ self.mixing.T) * self.gain


def activation_envelope(n: int, fs: float, start: float, ramp_up: float, hold: float, ramp_down: float,
                        rng: np.random.Generator) -> np.ndarray:
    """0..1 activation over ``n`` samples: raised-cosine ramps around a hold
    that wanders slowly (by HOLD_WOBBLE), like a held contraction."""
    t = np.arange(n) / fs
    env = np.zeros(n)
    up = (t >= start) & (t < start + ramp_up)
    env[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - start) / ramp_up)
    top = (t >= start + ramp_up) & (t < start + ramp_up + hold)
    env[top] = 1.0
    end = start + ramp_up + hold
    down = (t >= end) & (t < end + ramp_down)
    env[down] = 0.5 + 0.5 * np.cos(np.pi * (t[down] - end) / ramp_down)
    knots = np.linspace(0, t[-1] if n > 1 else 1.0, max(2, int(t[-1] * 2) + 2))
    wobble = np.interp(t, knots, rng.normal(0.0, HOLD_WOBBLE, knots.size))
    return env * (1.0 + wobble)


def _hum(spec: SyntheticSpec, subject: Subject, start_sample: int, n: int) -> np.ndarray:
    fs = spec.layout.sampling_rate_hz
    t = (start_sample + np.arange(n)) / fs
    # sin(wt + p) = sin(wt) cos(p) + cos(wt) sin(p): two time series, mixed per channel.
    harmonics = [(50.0, 1.0, 1.0)] + ([(150.0, 0.3, 2.0)] if fs > 2 * 150.0 else [])
    hum = np.zeros((n, subject.hum_phase.size))
    for freq, weight, phase_factor in harmonics:
        phase = phase_factor * subject.hum_phase
        wt = 2 * np.pi * freq * t
        hum += weight * (np.outer(np.sin(wt), np.cos(phase)) + np.outer(np.cos(wt), np.sin(phase)))
    return hum * subject.hum_amplitude[None, :]


def _segment(spec: SyntheticSpec, subject: Subject, noise: NoiseSource, rng: np.random.Generator,
             envelope: np.ndarray, pattern: np.ndarray, start_sample: int) -> np.ndarray:
    """(samples, channels) signal for one stretch with one activation pattern."""
    n = envelope.size
    active = envelope[:, None] * (spec.active_scale * pattern)[None, :]
    tone = subject.rest_level * rng.lognormal(0.0, REST_TONE_SPREAD)
    amplitude = subject.channel_gain[None, :] * np.sqrt(active ** 2 + tone[None, :] ** 2)
    signal = amplitude * noise.next(n)
    signal += spec.electrode_noise * rng.standard_normal(signal.shape)
    signal += _hum(spec, subject, start_sample, n)
    return signal


# ---------------------------------------------------------------------------
# NinaPro-format recordings (myo16 -> DB5, delsys12 -> DB2)
# ---------------------------------------------------------------------------


@dataclass
class NinaproTimeline:
    """Per-sample cue and movement labels of a whole recording."""

    emg: np.ndarray
    stimulus: np.ndarray
    repetition: np.ndarray
    restimulus: np.ndarray
    rerepetition: np.ndarray


def simulate_ninapro(spec: SyntheticSpec, subject: Subject, n_gestures: int, repetitions: int,
                     rng: np.random.Generator, cue_seconds: float = 5.0, rest_seconds: float = 3.0,
                     lead_seconds: float = 2.0, progress: bool = False, description: str = "") -> NinaproTimeline:
    """Gesture 1 repetitions 1..R, gesture 2 ..., each a cue then rest, after a lead-in rest."""
    from tqdm import tqdm

    fs = spec.layout.sampling_rate_hz
    cue, rest, lead = (int(round(s * fs)) for s in (cue_seconds, rest_seconds, lead_seconds))
    slot = cue + rest
    total = lead + n_gestures * repetitions * slot
    c = spec.layout.n_channels
    emg = np.empty((total, c), dtype=np.float64)
    stimulus = np.zeros(total, dtype=np.int16)
    repetition = np.zeros(total, dtype=np.int16)
    restimulus = np.zeros(total, dtype=np.int16)
    rerepetition = np.zeros(total, dtype=np.int16)
    noise = NoiseSource(spec, subject, rng)
    emg[:lead] = _segment(spec, subject, noise, rng, np.zeros(lead), np.zeros(c), 0)
    order = [(g, r) for g in range(1, n_gestures + 1) for r in range(1, repetitions + 1)]
    previous_end = 0  # first sample after the last movement so far
    bar = tqdm(order, desc=description or f"synthetic {spec.name}", unit="rep", disable=not progress, leave=False)
    for index, (g, r) in enumerate(bar):
        begin = lead + index * slot
        start = rng.uniform(0.3, 0.8)
        ramp_up, ramp_down = rng.uniform(0.25, 0.5, 2)
        hold = min(rng.uniform(2.3, 3.1), cue_seconds + rest_seconds * 0.5 - start - ramp_up - ramp_down)
        hold = max(hold, 0.1)
        envelope = activation_envelope(slot, fs, start, ramp_up, hold, ramp_down, rng)
        pattern = repetition_pattern(subject, g, rng, spec.variability)
        emg[begin:begin + slot] = _segment(spec, subject, noise, rng, envelope, pattern, begin)
        stimulus[begin:begin + cue] = g
        repetition[begin:begin + cue] = r
        moving = np.flatnonzero(envelope >= 0.5)  # movement-aligned relabelling, as restimulus
        first, last = begin + moving[0], begin + moving[-1] + 1
        restimulus[first:last] = g
        rerepetition[previous_end:last] = r  # the rest before a movement carries its number
        previous_end = last
    return NinaproTimeline(emg, stimulus, repetition, restimulus, rerepetition)


def _ninapro_moves(layout: str, exercise: int) -> int:
    table = _DB5_MOVES if layout == "myo16" else _DB2_MOVES
    if exercise not in table:
        raise ValueError(f"synthetic {layout} has exercises {sorted(table)}, not {exercise}")
    return table[exercise]


def _write_ninapro_file(spec: SyntheticSpec, timeline: NinaproTimeline, path: Path, subject: int, exercise: int) -> None:
    if spec.name == "myo16":  # the Myo's 8-bit ADC: whole numbers in -128..127, stored as single
        emg = np.clip(np.round(timeline.emg), -128, 127).astype(np.float32)
    else:  # Delsys: volts
        emg = timeline.emg.astype(np.float32)
    column = lambda a: a.astype(np.int8).reshape(-1, 1)  # noqa: E731 - NinaPro stores labels as int8 columns
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(
        str(path),
        {
            "emg": emg,
            "stimulus": column(timeline.stimulus), "restimulus": column(timeline.restimulus),
            "repetition": column(timeline.repetition), "rerepetition": column(timeline.rerepetition),
            "frequency": np.array([[spec.layout.sampling_rate_hz]]),
            "subject": np.array([[float(subject)]]), "exercise": np.array([[float(exercise)]]),
        },
        do_compression=spec.name == "myo16",  # whole numbers compress well; noise in volts does not
        oned_as="column",
    )


# ---------------------------------------------------------------------------
# CapgMyo-format recordings (hd8x16 -> DB-a)
# ---------------------------------------------------------------------------

CAPGMYO_TRIAL_SAMPLES = 1000
CAPGMYO_REST_GESTURE = 100


def simulate_capgmyo_trial(spec: SyntheticSpec, subject: Subject, gesture: int | None, rng: np.random.Generator,
                           n_samples: int = CAPGMYO_TRIAL_SAMPLES) -> np.ndarray:
    """One 1 s steady hold (the middle of a longer contraction), or rest when gesture is None."""
    warm_up = 200  # let the band-pass filter settle before the kept second
    noise = NoiseSource(spec, subject, rng)
    fs = spec.layout.sampling_rate_hz
    c = spec.layout.n_channels
    if gesture is None:
        envelope, pattern = np.zeros(n_samples + warm_up), np.zeros(c)
    else:
        envelope = activation_envelope(n_samples + warm_up, fs, -1.0, 0.5, 10.0, 0.5, rng)
        pattern = repetition_pattern(subject, gesture, rng, spec.variability)
    start = int(rng.integers(0, 10 * CAPGMYO_TRIAL_SAMPLES))  # hum phase differs between trials
    return _segment(spec, subject, noise, rng, envelope, pattern, start)[warm_up:]


def _write_capgmyo_file(data: np.ndarray, folder: Path, subject: int, gesture: int, trial: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{subject:03d}-{gesture:03d}-{trial:03d}.mat"
    savemat(str(path), {
        "data": data.astype(np.float32),
        "gesture": np.array([[float(gesture)]]), "subject": np.array([[float(subject)]]),
        "trial": np.array([[float(trial)]]),
    })
    return path


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _subject_ids(subjects: int | list[int]) -> list[int]:
    ids = list(range(1, subjects + 1)) if isinstance(subjects, int) else [int(s) for s in subjects]
    if not ids or any(s < 1 for s in ids):
        raise ValueError(f"subjects must be a count >= 1 or a list of ids >= 1, got {subjects!r}")
    return ids


def write_synthetic_dataset(
    layout: str,
    subjects: int | list[int],
    out: Path,
    seed: int = 0,
    exercise: int = 1,
    progress: bool = True,
    *,
    repetitions: int | None = None,
    gestures: int | None = None,
) -> list[Path]:
    """Write a synthetic data set under ``out`` and return the files written.

    layout:      ``myo16`` (DB5 format), ``delsys12`` (DB2 format) or ``hd8x16``
                 (CapgMyo DB-a format).
    subjects:    a count N (subjects 1..N) or a list of subject ids.
    exercise:    which exercise's movement count to use (DB5: 12/17/23,
                 DB2: 17/23/9); ``hd8x16`` has only exercise 1 (8 gestures).
    repetitions: per gesture (default 6 for NinaPro formats, 10 trials for
                 CapgMyo); ``gestures`` caps the number of gestures. Both
                 exist to make small files for tests.
    """
    spec = layout_spec(layout)
    out = Path(out)
    ids = _subject_ids(subjects)
    layout_index = LAYOUT_NAMES.index(layout)
    anatomy = make_anatomy(seed)
    if layout == "hd8x16":
        if exercise != 1:
            raise ValueError("synthetic hd8x16 (CapgMyo DB-a format) has only exercise 1")
        n_gestures = 8
    else:
        n_gestures = _ninapro_moves(layout, exercise)
    if gestures is not None:
        if not 1 <= gestures <= n_gestures:
            raise ValueError(f"gestures must be 1..{n_gestures}, got {gestures}")
        n_gestures = gestures
    n_reps = repetitions if repetitions is not None else (10 if layout == "hd8x16" else 6)
    if n_reps < 1:
        raise ValueError(f"repetitions must be >= 1, got {n_reps}")
    gesture_table = make_gestures(seed, exercise, n_gestures, anatomy.n_muscles)
    written: list[Path] = []
    for s in ids:
        rng = np.random.default_rng([seed, layout_index, exercise, s])
        subject = make_subject(spec, anatomy, gesture_table, rng)
        if layout == "hd8x16":
            written.extend(_write_capgmyo_subject(spec, subject, s, n_gestures, n_reps, rng, out, progress))
        else:
            timeline = simulate_ninapro(spec, subject, n_gestures, n_reps, rng, progress=progress,
                                        description=f"synthetic {layout} subject {s}")
            folder = out / (f"s{s}" if layout == "myo16" else f"DB2_s{s}")
            path = folder / f"S{s}_E{exercise}_A1.mat"
            _write_ninapro_file(spec, timeline, path, s, exercise)
            written.append(path)
    return written


def _write_capgmyo_subject(spec: SyntheticSpec, subject: Subject, subject_id: int, n_gestures: int,
                           n_trials: int, rng: np.random.Generator, out: Path, progress: bool) -> list[Path]:
    from tqdm import tqdm

    folder = out / f"dba-preprocessed-{subject_id:03d}"
    jobs = [(g, t) for g in range(1, n_gestures + 1) for t in range(1, n_trials + 1)]
    paths = []
    for g, t in tqdm(jobs, desc=f"synthetic hd8x16 subject {subject_id}", unit="trial", disable=not progress,
                     leave=False):
        paths.append(_write_capgmyo_file(simulate_capgmyo_trial(spec, subject, g, rng), folder, subject_id, g, t))
    rest = simulate_capgmyo_trial(spec, subject, None, rng)
    paths.append(_write_capgmyo_file(rest, folder, subject_id, CAPGMYO_REST_GESTURE, 1))
    return paths
