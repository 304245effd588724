"""Read NinaPro (DB2, DB4, DB5) and CapgMyo (DB-a/b/c) files into :class:`Recording`.

Every reader checks what it reads: a file that is missing, truncated or
corrupt, a field that is absent, of the wrong shape or type, or per-sample
fields whose lengths disagree raise :class:`DataFormatError`, whose message
names the file and the field. MATLAB v5 files are read with
``scipy.io.loadmat`` (plain arrays, nothing is unpickled); MATLAB v7.3 files
(HDF5 inside) are recognised by their signature and read with h5py.

The synthetic data sets (``synthetic.py``) are written in the same formats and
read by the same functions, so the loaders are exercised on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .recording import COMETA12, DELSYS12, HD8X16, MYO16, ElectrodeLayout, Recording


class DataFormatError(ValueError):
    """A recording file that cannot be used as it is: names the file and the field."""

    def __init__(self, path: Path | str, field: str | None, problem: str) -> None:
        self.path = Path(path)
        self.field = field
        where = f"{self.path}: field '{field}'" if field else f"{self.path}"
        super().__init__(f"{where}: {problem}")


# ---------------------------------------------------------------------------
# Gesture names (NinaPro exercise lists, Atzori et al. 2014 / Pizzolato et al. 2017)
# ---------------------------------------------------------------------------

NINAPRO_EXERCISE_A = (  # 12 basic finger movements
    "index flexion", "index extension", "middle flexion", "middle extension",
    "ring flexion", "ring extension", "little finger flexion", "little finger extension",
    "thumb adduction", "thumb abduction", "thumb flexion", "thumb extension",
)
NINAPRO_EXERCISE_B = (  # 17 hand postures and wrist movements
    "thumb up", "index and middle extension, others flexed",
    "ring and little flexion, others extended", "thumb opposing base of little finger",
    "abduction of all fingers", "fist", "pointing index", "adduction of extended fingers",
    "wrist supination (middle finger axis)", "wrist pronation (middle finger axis)",
    "wrist supination (little finger axis)", "wrist pronation (little finger axis)",
    "wrist flexion", "wrist extension", "wrist radial deviation", "wrist ulnar deviation",
    "wrist extension with closed hand",
)
NINAPRO_EXERCISE_C = (  # 23 grasps and functional movements
    "large diameter grasp", "small diameter grasp", "fixed hook grasp",
    "index finger extension grasp", "medium wrap", "ring grasp", "prismatic four fingers grasp",
    "stick grasp", "writing tripod grasp", "power sphere grasp", "three finger sphere grasp",
    "precision sphere grasp", "tripod grasp", "prismatic pinch grasp", "tip pinch grasp",
    "quadpod grasp", "lateral grasp", "parallel extension grasp", "extension type grasp",
    "power disk grasp", "open a bottle with a tripod grasp", "turn a screw", "cut something",
)
NINAPRO_EXERCISE_D = (  # 9 finger force patterns (DB2 exercise 3)
    "little finger flexion force", "ring finger flexion force", "middle finger flexion force",
    "index finger flexion force", "thumb abduction force", "thumb flexion force",
    "index and little finger flexion force", "ring and middle finger flexion force",
    "index finger and thumb flexion force",
)
_EXERCISE_NAMES = {"A": NINAPRO_EXERCISE_A, "B": NINAPRO_EXERCISE_B, "C": NINAPRO_EXERCISE_C, "D": NINAPRO_EXERCISE_D}


# ---------------------------------------------------------------------------
# Data set descriptions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NinaproDatabase:
    """What a NinaPro database's files hold: layout and the exercises' movement counts."""

    name: str
    layout: ElectrodeLayout
    exercise_letters: tuple[str, ...]  # file exercise E1, E2, E3 -> NinaPro exercise letter

    def moves(self, exercise: int) -> int:
        return len(_EXERCISE_NAMES[self.letter(exercise)])

    def letter(self, exercise: int) -> str:
        if not 1 <= exercise <= len(self.exercise_letters):
            raise ValueError(f"NinaPro {self.name} has exercises 1..{len(self.exercise_letters)}, not {exercise}")
        return self.exercise_letters[exercise - 1]

    def merged_offset(self, exercise: int) -> int:
        """First merged class of an exercise, minus one (DB5: E1 -> 0, E2 -> 12, E3 -> 29)."""
        return sum(self.moves(e) for e in range(1, exercise))

    def n_merged_classes(self) -> int:
        """Rest plus every movement of every exercise (DB5: 53)."""
        return 1 + sum(self.moves(e) for e in range(1, len(self.exercise_letters) + 1))


NINAPRO = {
    # DB5: two Myo armbands, 16 channels at 200 Hz; exercises A, B, C.
    "db5": NinaproDatabase("db5", MYO16, ("A", "B", "C")),
    # DB2: 12 Delsys Trigno electrodes at 2 kHz; its E1..E3 are exercises B, C, D.
    "db2": NinaproDatabase("db2", DELSYS12, ("B", "C", "D")),
    # DB4: 12 Cometa electrodes at 2 kHz, laid out like DB5 (exercises A, B, C).
    "db4": NinaproDatabase("db4", COMETA12, ("A", "B", "C")),
}

CAPGMYO_VARIANTS = ("dba", "dbb", "dbc")
# DB-a and DB-b hold NinaPro exercise B's first 8 postures; DB-c holds 12
# finger movements (NinaPro exercise A), as the CapgMyo paper (Du et al. 2017)
# describes them. Gestures 100 and 101 are extra recordings, skipped by default.
CAPGMYO_GESTURES = {
    "dba": NINAPRO_EXERCISE_B[:8],
    "dbb": NINAPRO_EXERCISE_B[:8],
    "dbc": NINAPRO_EXERCISE_A,
}
CAPGMYO_EXTRA_GESTURES = (100, 101)

_NINAPRO_FILE = re.compile(r"^S(\d+)_E(\d+)(?:_A\d+)?\.mat$", re.IGNORECASE)
_CAPGMYO_FILE = re.compile(r"^(\d{3})-(\d{3})-(\d{3})\.mat$")
_CAPGMYO_DIR = re.compile(r"^(db[abc])-preprocessed-(\d{3})$", re.IGNORECASE)

DATASETS = (
    "ninapro-db5", "ninapro-db2", "ninapro-db4", "capgmyo",
    "synthetic-myo16", "synthetic-delsys12", "synthetic-hd8x16",
)
# Synthetic data sets are written in the format of a real database.
_SYNTHETIC_FORMAT = {"synthetic-myo16": "db5", "synthetic-delsys12": "db2"}


# ---------------------------------------------------------------------------
# MAT files (v5 via scipy, v7.3 via h5py)
# ---------------------------------------------------------------------------

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_HDF5_SIGNATURE_OFFSETS = (0, 512, 1024, 2048)  # MATLAB v7.3 puts a 512-byte header first


def _read_head(path: Path, n: int) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as err:
        raise DataFormatError(path, None, f"cannot be opened ({err.strerror or err})") from err


def _is_hdf5(head: bytes) -> bool:
    return any(head[o:o + len(_HDF5_SIGNATURE)] == _HDF5_SIGNATURE for o in _HDF5_SIGNATURE_OFFSETS)


def read_mat_fields(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Read the named variables of a MATLAB file as arrays shaped as MATLAB shows them.

    Missing required variables raise :class:`DataFormatError`; optional ones
    are simply absent from the result. Works for v5 (scipy) and v7.3 (h5py)
    files; a file that is truncated or corrupt raises with the first required
    field that cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise DataFormatError(path, None, "file not found")
    if not path.is_file():
        raise DataFormatError(path, None, "is not a file")
    head = _read_head(path, 2056)
    if _is_hdf5(head):
        fields = _read_hdf5_fields(path, list(required) + list(optional))
    elif head.startswith(b"MATLAB 7.3"):
        raise DataFormatError(path, None, "says MATLAB v7.3 (HDF5) but holds no HDF5 data: truncated or corrupt")
    else:
        if len(head) < 128 or head[126:128] not in (b"IM", b"MI"):
            raise DataFormatError(path, None, f"is not a MATLAB v5 or v7.3 file ({len(head)} bytes of header read)")
        fields = _read_v5_fields(path, required, optional)
    truncated = not _is_hdf5(head) and _v5_is_truncated(path, head)
    for name in required:
        if name not in fields:
            held = ", ".join(_list_fields(path)) or "nothing"
            if truncated:
                raise DataFormatError(path, name, f"missing: the file is truncated (it ends inside a variable; "
                                      f"complete variables: {held})")
            raise DataFormatError(path, name, f"missing (the file holds: {held})")
    if truncated:  # what we need was read, but the file is damaged: say so rather than trust it
        held = _list_fields(path)
        after = f" after '{held[-1]}'" if held else ""
        raise DataFormatError(path, None, f"is truncated: it ends inside the variable{after}")
    return fields


def _v5_is_truncated(path: Path, head: bytes) -> bool:
    """Walk the top-level data elements of a v5 file: does the last one run past the end?

    scipy stops quietly at a cut inside a variable, so a truncated file would
    otherwise look like one with fields missing.
    """
    order = "<" if head[126:128] == b"IM" else ">"
    size = path.stat().st_size
    position = 128
    with open(path, "rb") as f:
        while position < size:
            if size - position < 8:
                return True
            f.seek(position)
            data_type, n_bytes = np.frombuffer(f.read(8), dtype=f"{order}u4")
            position += 8 + int(n_bytes)
            if data_type != 15:  # uncompressed elements are padded to 8 bytes; compressed ones are not
                position += (-position) % 8
            if position > size:
                return True
    return False


def _read_v5_fields(path: Path, required: Sequence[str], optional: Sequence[str]) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    names = list(required) + list(optional)
    try:
        raw = loadmat(str(path), variable_names=names, squeeze_me=False, chars_as_strings=True)
    except Exception as err:  # scipy raises many types on damaged files; find the field and say so
        for name in names:
            try:
                loadmat(str(path), variable_names=[name])
            except Exception as field_err:
                raise DataFormatError(
                    path, name, f"cannot be read, the file is truncated or corrupt ({type(field_err).__name__}: {field_err})"
                ) from field_err
        raise DataFormatError(path, None, f"cannot be read, truncated or corrupt ({type(err).__name__}: {err})") from err
    return {k: v for k, v in raw.items() if not k.startswith("__")}


def _read_hdf5_fields(path: Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except Exception as err:
        raise DataFormatError(path, None, f"HDF5 (MATLAB v7.3) file cannot be opened, truncated or corrupt ({err})") from err
    fields: dict[str, np.ndarray] = {}
    with handle:
        for name in names:
            if name not in handle:
                continue
            node = handle[name]
            if not isinstance(node, h5py.Dataset):
                raise DataFormatError(path, name, "is a MATLAB struct or cell (HDF5 group), expected a numeric array")
            matlab_class = node.attrs.get("MATLAB_class", b"")
            matlab_class = matlab_class.decode(errors="replace") if isinstance(matlab_class, bytes) else str(matlab_class)
            if matlab_class in ("char", "cell", "struct", "function_handle"):
                raise DataFormatError(path, name, f"is a MATLAB {matlab_class}, expected a numeric array")
            if node.attrs.get("MATLAB_empty", 0):  # MATLAB stores [] as its dimensions
                fields[name] = np.zeros((0, 0))
                continue
            try:
                value = np.asarray(node[()])
            except Exception as err:
                raise DataFormatError(path, name, f"cannot be read, the file is truncated or corrupt ({err})") from err
            if value.dtype.kind not in "biuf":
                raise DataFormatError(path, name, f"holds {value.dtype} data, expected numbers")
            # MATLAB writes column-major: an (N, C) variable is stored as (C, N).
            fields[name] = value.T
    return fields


def _list_fields(path: Path) -> list[str]:
    """Variable names in a MAT file, for error messages (empty when unreadable)."""
    try:
        if _is_hdf5(_read_head(path, 2056)):
            import h5py

            with h5py.File(path, "r") as handle:
                return [k for k in handle.keys() if not k.startswith("#")]
        from scipy.io import whosmat

        return [name for name, _, _ in whosmat(str(path))]
    except Exception:
        return []


# ---------------------------------------------------------------------------
# Field checks
# ---------------------------------------------------------------------------


def _numeric(path: Path, name: str, value: np.ndarray) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise DataFormatError(path, name, f"holds {value.dtype} data, expected real numbers")
    return value


def check_signal(path: Path, name: str, value: np.ndarray, n_channels: int) -> np.ndarray:
    """A (samples, channels) signal with the expected channel count and finite values, as float32."""
    value = _numeric(path, name, value)
    if value.ndim != 2 or value.shape[0] == 0:
        raise DataFormatError(path, name, f"has shape {value.shape}, expected (samples, {n_channels})")
    if value.shape[1] != n_channels:
        hint = " (stored transposed?)" if value.shape[0] == n_channels else ""
        raise DataFormatError(path, name, f"has shape {value.shape}, expected (samples, {n_channels}){hint}")
    if not np.all(np.isfinite(value)):
        bad = int(np.count_nonzero(~np.isfinite(value)))
        raise DataFormatError(path, name, f"holds {bad} NaN or infinite values")
    return value.astype(np.float32, copy=False)


def check_per_sample(path: Path, name: str, value: np.ndarray, n_samples: int) -> np.ndarray:
    """A per-sample vector of non-negative integers with ``n_samples`` entries, as int64."""
    value = _numeric(path, name, value)
    if sum(d != 1 for d in value.shape) > 1:
        raise DataFormatError(path, name, f"has shape {value.shape}, expected a vector of {n_samples} samples")
    flat = value.reshape(-1)
    if flat.size != n_samples:
        raise DataFormatError(path, name, f"has {flat.size} samples, but emg has {n_samples}")
    if not np.all(np.isfinite(flat)) or np.any(flat != np.round(flat)):
        raise DataFormatError(path, name, "holds values that are not whole numbers")
    if flat.size and flat.min() < 0:
        raise DataFormatError(path, name, f"holds negative values (min {flat.min()})")
    return flat.astype(np.int64)


def check_scalar(path: Path, name: str, value: np.ndarray) -> float:
    """A single number (MATLAB 1 x 1)."""
    value = _numeric(path, name, value)
    if value.size != 1:
        raise DataFormatError(path, name, f"has shape {value.shape}, expected a single number")
    number = float(value.reshape(-1)[0])
    if not np.isfinite(number):
        raise DataFormatError(path, name, f"is {number}, expected a finite number")
    return number


def _check_rate(path: Path, fields: dict[str, np.ndarray], expected_hz: float, what: str) -> None:
    if "frequency" not in fields:
        return
    rate = check_scalar(path, "frequency", fields["frequency"])
    if abs(rate - expected_hz) > 0.01 * expected_hz:
        raise DataFormatError(path, "frequency", f"says {rate:g} Hz, but {what} is recorded at {expected_hz:g} Hz")


# ---------------------------------------------------------------------------
# NinaPro
# ---------------------------------------------------------------------------


def _exercise_from_name(path: Path, exercise: int | None) -> tuple[int | None, int]:
    """(subject, exercise) from a ``S<subj>_E<ex>_A1.mat`` name; the exercise
    field inside DB5 files is wrong (it reads 3 for exercise 1), so the name
    wins. An explicit ``exercise`` must agree with the name."""
    match = _NINAPRO_FILE.match(path.name)
    if match is None:
        if exercise is None:
            raise DataFormatError(path, None, "cannot tell the exercise: the name is not S<subject>_E<exercise>_A1.mat "
                                  "and no exercise was given")
        return None, exercise
    subject, from_name = int(match.group(1)), int(match.group(2))
    if exercise is not None and exercise != from_name:
        raise DataFormatError(path, None, f"the name says exercise {from_name}, but exercise {exercise} was asked for")
    return subject, from_name


def _exercise_labels(path: Path, field: str, raw: np.ndarray, db: NinaproDatabase, exercise: int) -> np.ndarray:
    """Labels 0..n of one exercise. Files number movements either from 1 in
    each exercise or continuing across exercises (1..12, 13..29, ...);
    both are accepted and mapped to 1..n."""
    n = db.moves(exercise)
    offset = db.merged_offset(exercise)
    moving = raw[raw != 0]
    if moving.size == 0 or moving.max() <= n:
        return raw
    if offset > 0 and moving.min() > offset and moving.max() <= offset + n:
        return np.where(raw != 0, raw - offset, 0)
    raise DataFormatError(
        path, field,
        f"holds movements {moving.min()}..{moving.max()}, but NinaPro {db.name} exercise {exercise} "
        f"has {n} movements (1..{n}" + (f" or {offset + 1}..{offset + n})" if offset else ")"),
    )


def load_ninapro_file(
    path: Path | str,
    database: str,
    exercise: int | None = None,
    label_mode: str = "exercise",
    use_raw_labels: bool = False,
) -> Recording:
    """One NinaPro ``S<subj>_E<ex>_A1.mat`` file as a :class:`Recording`.

    database:       "db5", "db2" or "db4".
    exercise:       taken from the file name; give it only for renamed files.
    label_mode:     "exercise" keeps the exercise's own numbering 0..n (0 = rest);
                    "merged" numbers all exercises of the database in one range
                    (DB5/DB4: E1 -> 1..12, E2 -> 13..29, E3 -> 30..52, as the
                    attention paper does; DB2: 1..17, 18..40, 41..49).
    use_raw_labels: read ``stimulus``/``repetition`` (the cue) instead of the
                    movement-aligned ``restimulus``/``rerepetition``.
    """
    path = Path(path)
    if database not in NINAPRO:
        raise ValueError(f"unknown NinaPro database {database!r}; choose from {sorted(NINAPRO)}")
    if label_mode not in ("exercise", "merged"):
        raise ValueError(f"label_mode must be 'exercise' or 'merged', not {label_mode!r}")
    db = NINAPRO[database]
    subject_from_name, exercise = _exercise_from_name(path, exercise)
    try:
        db.letter(exercise)
    except ValueError as err:
        raise DataFormatError(path, None, str(err)) from err
    label_field, rep_field = ("stimulus", "repetition") if use_raw_labels else ("restimulus", "rerepetition")
    fields = read_mat_fields(path, ["emg", label_field, rep_field], ["frequency", "subject"])
    emg = check_signal(path, "emg", fields["emg"], db.layout.n_channels)
    labels = check_per_sample(path, label_field, fields[label_field], emg.shape[0])
    repetitions = check_per_sample(path, rep_field, fields[rep_field], emg.shape[0])
    _check_rate(path, fields, db.layout.sampling_rate_hz, f"NinaPro {database}")
    labels = _exercise_labels(path, label_field, labels, db, exercise)
    if subject_from_name is not None:
        subject = subject_from_name
    elif "subject" in fields:
        subject = int(check_scalar(path, "subject", fields["subject"]))
    else:
        subject = 0
    if label_mode == "merged":
        labels = np.where(labels != 0, labels + db.merged_offset(exercise), 0)
        names = ninapro_label_names(database, None)
    else:
        names = ninapro_label_names(database, exercise)
    return Recording(
        emg=emg, labels=labels, repetitions=repetitions, layout=db.layout, subject=subject,
        exercise=exercise, source=path, label_names=names,
    )


def ninapro_label_names(database: str, exercise: int | None) -> tuple[str, ...]:
    """"rest" then the movements of one exercise, or of all exercises merged (exercise None)."""
    db = NINAPRO[database]
    exercises = range(1, len(db.exercise_letters) + 1) if exercise is None else [exercise]
    names: list[str] = ["rest"]
    for e in exercises:
        names.extend(_EXERCISE_NAMES[db.letter(e)])
    return tuple(names)


def find_ninapro_file(data_dir: Path, database: str, subject: int, exercise: int) -> Path | None:
    """Where a subject's exercise file sits: ``sN/``, ``DB2_sN/`` (any prefix) or ``data_dir`` itself."""
    name = f"S{subject}_E{exercise}_A1.mat"
    candidates = [data_dir / name, data_dir / f"s{subject}" / name, data_dir / f"S{subject}" / name,
                  data_dir / f"{database.upper()}_s{subject}" / name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if data_dir.is_dir():
        pattern = re.compile(rf"^(?:[A-Za-z0-9]+_)?s{subject}$", re.IGNORECASE)
        for folder in sorted(p for p in data_dir.iterdir() if p.is_dir() and pattern.match(p.name)):
            for f in folder.iterdir():
                if f.name.lower() == name.lower():
                    return f
    return None


def _load_ninapro_subject(
    dataset: str, database: str, data_dir: Path, subject: int, exercise: int | None
) -> list[Recording]:
    db = NINAPRO[database]
    if exercise is not None:
        db.letter(exercise)
        path = find_ninapro_file(data_dir, database, subject, exercise)
        if path is None:
            raise DataFormatError(data_dir / f"s{subject}" / f"S{subject}_E{exercise}_A1.mat", None,
                                  f"file not found ({dataset} subject {subject} exercise {exercise} under {data_dir})")
        return [load_ninapro_file(path, database, exercise, label_mode="exercise")]
    found = [(e, find_ninapro_file(data_dir, database, subject, e)) for e in range(1, len(db.exercise_letters) + 1)]
    found = [(e, p) for e, p in found if p is not None]
    if not found:
        raise DataFormatError(data_dir / f"s{subject}" / f"S{subject}_E1_A1.mat", None,
                              f"file not found (no {dataset} exercise file for subject {subject} under {data_dir})")
    return [load_ninapro_file(p, database, e, label_mode="merged") for e, p in found]


# ---------------------------------------------------------------------------
# CapgMyo
# ---------------------------------------------------------------------------


def _capgmyo_variant(path: Path) -> str | None:
    match = _CAPGMYO_DIR.match(path.parent.name)
    return match.group(1).lower() if match else None


def load_capgmyo_trial(path: Path | str) -> Recording:
    """One CapgMyo ``SSS-GGG-TTT.mat`` file (``data`` 1000 x 128 at 1 kHz).

    Every sample is labelled with the file's gesture number (there is no rest
    inside a trial), and the trial number plays the role of the repetition.
    The file name, when it has the SSS-GGG-TTT form, must agree with the
    ``subject``, ``gesture`` and ``trial`` fields.
    """
    path = Path(path)
    fields = read_mat_fields(path, ["data", "gesture", "subject", "trial"])
    data = check_signal(path, "data", fields["data"], HD8X16.n_channels)
    numbers = {}
    for name in ("subject", "gesture", "trial"):
        value = check_scalar(path, name, fields[name])
        if value != round(value) or value < 0:
            raise DataFormatError(path, name, f"is {value:g}, expected a non-negative whole number")
        numbers[name] = int(value)
    match = _CAPGMYO_FILE.match(path.name)
    if match:
        for name, text in zip(("subject", "gesture", "trial"), match.groups()):
            if int(text) != numbers[name]:
                raise DataFormatError(path, name, f"is {numbers[name]}, but the file name says {int(text)}")
    n = data.shape[0]
    variant = _capgmyo_variant(path) or "dba"
    return Recording(
        emg=data, labels=np.full(n, numbers["gesture"]), repetitions=np.full(n, numbers["trial"]),
        layout=HD8X16, subject=numbers["subject"], exercise=0, source=path,
        label_names=capgmyo_label_names(variant),
    )


def capgmyo_label_names(variant: str = "dba") -> tuple[str, ...]:
    """"rest" (class 0, absent from the trials) then the variant's gestures, numbered as in the files."""
    if variant not in CAPGMYO_GESTURES:
        raise ValueError(f"unknown CapgMyo variant {variant!r}; choose from {CAPGMYO_VARIANTS}")
    return ("rest",) + tuple(CAPGMYO_GESTURES[variant])


def load_capgmyo_folder(folder: Path | str, include_extra: bool = False) -> list[Recording]:
    """All trials of one ``db?-preprocessed-SSS`` folder, sorted by gesture then trial.

    Gestures 100 and 101 (extra recordings) are skipped unless ``include_extra``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(folder, None, "folder not found")
    files = sorted(p for p in folder.iterdir() if _CAPGMYO_FILE.match(p.name))
    if not include_extra:
        files = [p for p in files if int(_CAPGMYO_FILE.match(p.name).group(2)) not in CAPGMYO_EXTRA_GESTURES]
    if not files:
        raise DataFormatError(folder, None, "holds no SSS-GGG-TTT.mat trial files")
    return [load_capgmyo_trial(p) for p in files]


def find_capgmyo_folder(data_dir: Path, subject: int) -> Path:
    """The ``dba/dbb/dbc-preprocessed-SSS`` folder of a subject, in ``data_dir`` or one level below.

    ``data_dir`` may also be the subject's folder itself. DB-b numbers its
    folders by subject and session (two folders per person); the folder
    number is what ``subject`` selects.
    """
    data_dir = Path(data_dir)
    match = _CAPGMYO_DIR.match(data_dir.name)
    if match and int(match.group(2)) == subject:
        return data_dir
    wanted = f"-preprocessed-{subject:03d}"
    found: list[Path] = []
    if data_dir.is_dir():
        for level in [data_dir] + sorted(p for p in data_dir.iterdir() if p.is_dir()):
            found.extend(p for p in sorted(level.iterdir()) if p.is_dir() and _CAPGMYO_DIR.match(p.name)
                         and p.name.lower().endswith(wanted))
    if not found:
        raise DataFormatError(data_dir / f"dba{wanted}", None,
                              f"folder not found (no dba/dbb/dbc{wanted} folder for subject {subject} under {data_dir})")
    variants = sorted({_CAPGMYO_DIR.match(p.name).group(1).lower() for p in found})
    if len(found) > 1:
        raise DataFormatError(data_dir, None, f"holds several folders for subject {subject} "
                              f"({', '.join(str(p) for p in found)}; variants {variants}): point the data "
                              "directory at one of them")
    return found[0]


# ---------------------------------------------------------------------------
# Data sets by name
# ---------------------------------------------------------------------------


def load_dataset(name: str, data_dir: Path | str, subject: int, exercise: int | None = None) -> list[Recording]:
    """All recordings of one subject of a named data set.

    ninapro-db5/db2/db4: one recording per exercise file. With ``exercise``
    given, that exercise with its own labels 0..n; with None, every exercise
    file present with merged labels (DB5: the attention paper's 53 classes).
    capgmyo: one recording per trial file (``dba/dbb/dbc`` detected).
    synthetic-myo16 / synthetic-delsys12: DB5 / DB2 format; exercise None
    means exercise 1 (what ``myoedge data synth`` writes by default).
    synthetic-hd8x16: CapgMyo DB-a format.
    """
    data_dir = Path(data_dir)
    if name.startswith("ninapro-"):
        database = name.removeprefix("ninapro-")
        if database not in NINAPRO:
            raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
        return _load_ninapro_subject(name, database, data_dir, subject, exercise)
    if name in _SYNTHETIC_FORMAT:
        recordings = _load_ninapro_subject(name, _SYNTHETIC_FORMAT[name], data_dir, subject, exercise or 1)
        for rec in recordings:
            rec.label_names = label_names(name, rec.exercise)
        return recordings
    if name in ("capgmyo", "synthetic-hd8x16"):
        if exercise not in (None, 1):
            raise ValueError(f"{name} has no exercises (got exercise {exercise})")
        recordings = load_capgmyo_folder(find_capgmyo_folder(data_dir, subject))
        if name == "synthetic-hd8x16":
            for rec in recordings:
                rec.label_names = label_names(name)
        return recordings
    raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")


def label_names(name: str, exercise: int | None = None) -> tuple[str, ...]:
    """Class names, index = label, for what :func:`load_dataset` returns with the same arguments.

    Synthetic gestures have no anatomical meaning and are called "gesture N".
    For ``capgmyo`` the DB-a/DB-b names are given; the recordings themselves
    carry the right names for DB-c in ``Recording.label_names``.
    """
    if name.startswith("ninapro-") and name.removeprefix("ninapro-") in NINAPRO:
        return ninapro_label_names(name.removeprefix("ninapro-"), exercise)
    if name in _SYNTHETIC_FORMAT:
        n = NINAPRO[_SYNTHETIC_FORMAT[name]].moves(exercise or 1)
        return ("rest",) + tuple(f"gesture {g}" for g in range(1, n + 1))
    if name == "synthetic-hd8x16":
        return ("rest",) + tuple(f"gesture {g}" for g in range(1, 9))
    if name == "capgmyo":
        return capgmyo_label_names("dba")
    raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
