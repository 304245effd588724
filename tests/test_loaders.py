"""Loaders: the real shared DB5 files, files the tests write, and damaged files.

Every damaged file must give a DataFormatError that names the file and the
field at fault, never a bare scipy/h5py exception or a silently wrong
recording.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.io import savemat

from myoedge.training.loaders import (
    DataFormatError,
    find_capgmyo_folder,
    label_names,
    load_capgmyo_folder,
    load_capgmyo_trial,
    load_dataset,
    load_ninapro_file,
)
from myoedge.training.recording import DELSYS12, HD8X16, MYO16

# Shape of the shared files (subject -> samples) and the first sample of subject 1.
REAL_SAMPLES = {1: 130267, 3: 131366, 4: 151664}
S1_FIRST_SAMPLE = [-22, -2, -16, -7, -3, -1, -2, -4, -2, -46, -49, -5, 9, 1, -1, -2]


# ---------------------------------------------------------------------------
# Real NinaPro DB5 files
# ---------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("subject", [1, 3, 4])
def test_real_db5_exercise1(shared_data_dir: Path, subject: int) -> None:
    rec = load_ninapro_file(shared_data_dir / f"S{subject}_E1_A1.mat", "db5")
    assert rec.emg.shape == (REAL_SAMPLES[subject], 16)
    assert rec.emg.dtype == np.float32
    assert rec.layout is MYO16 and rec.sampling_rate_hz == 200.0
    assert rec.subject == subject
    assert rec.exercise == 1  # from the file name; the file's own field says 3
    assert set(np.unique(rec.labels)) == set(range(13))
    assert set(np.unique(rec.repetitions)) == set(range(7))
    assert len(rec.label_names) == 13 and rec.label_names[0] == "rest" and rec.label_names[1] == "index flexion"
    assert np.all(rec.emg == np.round(rec.emg)) and rec.emg.min() >= -128 and rec.emg.max() <= 127
    rest = np.mean(rec.labels == 0)
    assert 0.55 < rest < 0.70  # README: about 62 % rest
    # Each movement repetition is one contiguous block: 12 gestures x 6 repetitions.
    starts = np.flatnonzero(np.diff(np.r_[0, rec.labels]) > 0)
    assert len(starts) == 72


@pytest.mark.realdata
def test_real_db5_known_value_and_raw_labels(shared_data_dir: Path) -> None:
    rec = load_ninapro_file(shared_data_dir / "S1_E1_A1.mat", "db5")
    np.testing.assert_array_equal(rec.emg[0], np.array(S1_FIRST_SAMPLE, dtype=np.float32))
    raw = load_ninapro_file(shared_data_dir / "S1_E1_A1.mat", "db5", use_raw_labels=True)
    assert raw.n_samples == rec.n_samples
    # The cue (stimulus) is longer than the movement-aligned relabelling.
    assert np.mean(raw.labels != 0) > np.mean(rec.labels != 0)


@pytest.mark.realdata
def test_real_db5_load_dataset_modes(shared_data_dir: Path) -> None:
    one = load_dataset("ninapro-db5", shared_data_dir, 3, exercise=1)
    assert len(one) == 1 and one[0].labels.max() == 12 and len(one[0].label_names) == 13
    merged = load_dataset("ninapro-db5", shared_data_dir, 3)  # every exercise present: only E1 here
    assert len(merged) == 1 and merged[0].labels.max() == 12
    assert len(merged[0].label_names) == 53 == len(label_names("ninapro-db5"))
    with pytest.raises(DataFormatError, match="S2_E1_A1.mat"):
        load_dataset("ninapro-db5", shared_data_dir, 2, exercise=1)


# ---------------------------------------------------------------------------
# Small NinaPro-format files written here
# ---------------------------------------------------------------------------


def _db_fields(n: int = 400, channels: int = 16, moves: int = 12, rate: float = 200.0, seed: int = 0) -> dict:
    """A short, valid NinaPro-format recording: rest, then each movement once."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=np.int8)
    reps = np.ones(n, dtype=np.int8)
    block = n // (2 * moves + 1)
    for g in range(1, moves + 1):
        labels[(2 * g - 1) * block:(2 * g) * block] = g
    return {
        "emg": np.round(rng.normal(0, 10, (n, channels))).astype(np.float32),
        "restimulus": labels.reshape(-1, 1), "rerepetition": reps.reshape(-1, 1),
        "stimulus": labels.reshape(-1, 1), "repetition": reps.reshape(-1, 1),
        "frequency": np.array([[rate]]), "subject": np.array([[7.0]]), "exercise": np.array([[3.0]]),
    }


def _write(path: Path, fields: dict, compress: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(str(path), fields, do_compression=compress)
    return path


def test_written_db5_file_and_merged_labels(tmp_path: Path) -> None:
    fields = _db_fields(moves=17)
    path = _write(tmp_path / "s7" / "S7_E2_A1.mat", fields)
    rec = load_ninapro_file(path, "db5")
    assert rec.exercise == 2 and rec.subject == 7
    assert rec.labels.max() == 17 and len(rec.label_names) == 18 and rec.label_names[1] == "thumb up"
    merged = load_ninapro_file(path, "db5", label_mode="merged")
    moving = merged.labels[merged.labels != 0]
    assert moving.min() == 13 and moving.max() == 29  # exercise 2 -> classes 13..29 of 53
    assert merged.label_names[13] == "thumb up" and len(merged.label_names) == 53
    # Files that already number exercise 2 as 13..29 are read the same way.
    shifted = dict(fields, restimulus=np.where(fields["restimulus"] != 0, fields["restimulus"] + 12, 0).astype(np.int8))
    again = load_ninapro_file(_write(tmp_path / "other" / "S7_E2_A1.mat", shifted), "db5")
    np.testing.assert_array_equal(again.labels, rec.labels)
    # load_dataset finds sN/ folders too.
    assert load_dataset("ninapro-db5", tmp_path, 7, exercise=2)[0].labels.max() == 17


def test_written_db2_and_db4_files(tmp_path: Path) -> None:
    db2 = load_ninapro_file(_write(tmp_path / "DB2_s3" / "S3_E3_A1.mat",
                                   _db_fields(n=900, channels=12, moves=9, rate=2000.0)), "db2")
    assert db2.layout is DELSYS12 and db2.labels.max() == 9 and db2.exercise == 3
    assert db2.label_names[1] == "little finger flexion force"
    merged = load_dataset("ninapro-db2", tmp_path, 3)
    assert merged[0].labels.max() == 17 + 23 + 9  # exercise D is last in the 49 movements
    db4 = load_dataset("ninapro-db4", tmp_path / "DB2_s3", 3, exercise=3)  # flat folder, DB4 = DB5 counts
    assert db4[0].layout.name == "cometa12" and len(db4[0].label_names) == 24


def test_exercise_given_must_match_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "S1_E1_A1.mat", _db_fields())
    with pytest.raises(DataFormatError, match="exercise 1"):
        load_ninapro_file(path, "db5", exercise=2)
    renamed = _write(tmp_path / "my_recording.mat", _db_fields())
    assert load_ninapro_file(renamed, "db5", exercise=1).subject == 7  # from the subject field
    with pytest.raises(DataFormatError, match="cannot tell the exercise"):
        load_ninapro_file(renamed, "db5")
    with pytest.raises(DataFormatError, match="exercises 1..3, not 4"):
        load_ninapro_file(_write(tmp_path / "S1_E4_A1.mat", _db_fields()), "db5")


# ---------------------------------------------------------------------------
# Damaged files: DataFormatError naming the file and the field
# ---------------------------------------------------------------------------


def _expect(path: Path, field: str | None, database: str = "db5", match: str | None = None) -> DataFormatError:
    with pytest.raises(DataFormatError) as info:
        load_ninapro_file(path, database)
    message = str(info.value)
    assert path.name in message
    if field is not None:
        assert f"'{field}'" in message and info.value.field == field
    if match is not None:
        assert match in message
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    _expect(tmp_path / "S1_E1_A1.mat", None, match="not found")


def test_truncated_file_names_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "S1_E1_A1.mat", _db_fields(n=4000))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # cuts through emg, the first and largest field
    _expect(path, "emg", match="truncated or corrupt")
    path.write_bytes(data[:60])  # not even a whole header
    _expect(path, None, match="not a MATLAB")
    path.write_bytes(data[:-4])  # the fields needed are whole, but the last variable is cut
    _expect(path, None, match="truncated")


def test_missing_field(tmp_path: Path) -> None:
    fields = _db_fields()
    del fields["emg"]
    error = _expect(_write(tmp_path / "S1_E1_A1.mat", fields), "emg", match="missing")
    assert "restimulus" in str(error)  # lists what the file does hold


def test_wrong_shape_and_type(tmp_path: Path) -> None:
    _expect(_write(tmp_path / "a" / "S1_E1_A1.mat", dict(_db_fields(), emg=np.zeros((400, 15), np.float32))),
            "emg", match="(samples, 16)")
    _expect(_write(tmp_path / "b" / "S1_E1_A1.mat", dict(_db_fields(), emg=np.zeros((16, 400), np.float32))),
            "emg", match="transposed")
    _expect(_write(tmp_path / "c" / "S1_E1_A1.mat", dict(_db_fields(), emg="not numbers")), "emg")
    _expect(_write(tmp_path / "d" / "S1_E1_A1.mat", dict(_db_fields(), restimulus=np.zeros((400, 2), np.int8))),
            "restimulus", match="vector")
    bad = _db_fields()
    bad["emg"][5, 3] = np.nan
    _expect(_write(tmp_path / "e" / "S1_E1_A1.mat", bad), "emg", match="NaN")


def test_mismatched_lengths_and_values(tmp_path: Path) -> None:
    fields = _db_fields()
    _expect(_write(tmp_path / "a" / "S1_E1_A1.mat", dict(fields, restimulus=fields["restimulus"][:-1])),
            "restimulus", match="399 samples")
    _expect(_write(tmp_path / "b" / "S1_E1_A1.mat", dict(fields, rerepetition=fields["rerepetition"][:-3])),
            "rerepetition", match="397 samples")
    _expect(_write(tmp_path / "c" / "S1_E1_A1.mat", dict(fields, restimulus=fields["restimulus"] * 4)),
            "restimulus", match="12 movements")
    _expect(_write(tmp_path / "d" / "S1_E1_A1.mat", dict(fields, frequency=np.array([[2000.0]]))),
            "frequency", match="200 Hz")
    _expect(_write(tmp_path / "e" / "S1_E1_A1.mat", dict(fields, rerepetition=-fields["rerepetition"])),
            "rerepetition", match="negative")


def _write_v73(path: Path, fields: dict) -> Path:
    """A MATLAB v7.3 file as MATLAB writes it: 512-byte text header, then HDF5
    with every array stored transposed (column-major)."""
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 ."
    with h5py.File(path, "w", userblock_size=512) as handle:
        for name, value in fields.items():
            handle.create_dataset(name, data=np.asarray(value).T)
    with open(path, "r+b") as f:
        f.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    return path


def test_matlab_v73_files(tmp_path: Path) -> None:
    fields = _db_fields()
    v5 = load_ninapro_file(_write(tmp_path / "v5" / "S1_E1_A1.mat", fields), "db5")
    v73 = load_ninapro_file(_write_v73(tmp_path / "S1_E1_A1.mat", fields), "db5")
    np.testing.assert_array_equal(v73.emg, v5.emg)  # transposed back to (samples, channels)
    np.testing.assert_array_equal(v73.labels, v5.labels)
    np.testing.assert_array_equal(v73.repetitions, v5.repetitions)
    missing = dict(fields)
    del missing["restimulus"]
    (tmp_path / "m").mkdir()
    _expect(_write_v73(tmp_path / "m" / "S1_E1_A1.mat", missing), "restimulus", match="missing")
    (tmp_path / "s").mkdir()
    _expect(_write_v73(tmp_path / "s" / "S1_E1_A1.mat", dict(fields, emg=fields["emg"][:, :12])), "emg")
    path = tmp_path / "S1_E1_A1.mat"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    _expect(path, None, match="HDF5")


# ---------------------------------------------------------------------------
# CapgMyo
# ---------------------------------------------------------------------------


def _capg_trial(folder: Path, subject: int, gesture: int, trial: int, data: np.ndarray | None = None,
                overrides: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = np.random.default_rng(gesture * 100 + trial).normal(0, 0.01, (1000, 128))
    fields = {"data": data, "gesture": np.array([[float(gesture)]]), "subject": np.array([[float(subject)]]),
              "trial": np.array([[float(trial)]])}
    fields.update(overrides or {})
    path = folder / f"{subject:03d}-{gesture:03d}-{trial:03d}.mat"
    savemat(str(path), fields)
    return path


def test_capgmyo_trial_and_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dba-preprocessed-002"
    for g in (1, 2):
        for t in (1, 2, 3):
            _capg_trial(folder, 2, g, t)
    _capg_trial(folder, 2, 100, 1)  # extra recording, skipped by default
    rec = load_capgmyo_trial(folder / "002-002-003.mat")
    assert rec.emg.shape == (1000, 128) and rec.layout is HD8X16 and rec.sampling_rate_hz == 1000.0
    assert set(rec.labels) == {2} and set(rec.repetitions) == {3} and rec.subject == 2
    assert rec.label_names[2] == "index and middle extension, others flexed"
    recs = load_capgmyo_folder(folder)
    assert [(int(r.labels[0]), int(r.repetitions[0])) for r in recs] == [(g, t) for g in (1, 2) for t in (1, 2, 3)]
    assert len(load_capgmyo_folder(folder, include_extra=True)) == 7
    assert len(load_dataset("capgmyo", tmp_path, 2)) == 6
    assert find_capgmyo_folder(folder, 2) == folder
    # DB-c names its 12 gestures after NinaPro exercise A.
    dbc = _capg_trial(tmp_path / "other" / "dbc-preprocessed-005", 5, 4, 1)
    assert load_capgmyo_trial(dbc).label_names[4] == "middle extension"


def test_capgmyo_errors(tmp_path: Path) -> None:
    folder = tmp_path / "dba-preprocessed-001"
    for bad, field in [
        (_capg_trial(folder, 1, 1, 1, data=np.zeros((1000, 127))), "data"),
        (_capg_trial(folder, 1, 1, 2, overrides={"subject": np.array([[3.0]])}), "subject"),
        (_capg_trial(folder, 1, 1, 3, overrides={"gesture": np.array([[1.0, 2.0]])}), "gesture"),
    ]:
        with pytest.raises(DataFormatError) as info:
            load_capgmyo_trial(bad)
        assert bad.name in str(info.value) and info.value.field == field
    (tmp_path / "dbc-preprocessed-001").mkdir()
    with pytest.raises(DataFormatError, match="several folders"):
        find_capgmyo_folder(tmp_path, 1)
    with pytest.raises(DataFormatError, match="folder not found"):
        load_dataset("capgmyo", tmp_path, 9)


def test_hd_grid_neighbours_follow_the_electrode_map() -> None:
    """File column k sits k % 8 along the forearm and k // 8 around it."""
    frame = np.arange(128, dtype=np.float32)[None, :]
    grid = HD8X16.to_grid(frame)[0]
    assert grid.shape == (8, 16)
    for r in range(8):
        for c in range(16):
            assert grid[r, c] == c * 8 + r
    assert sorted(grid.reshape(-1).astype(int)) == list(range(128))


def test_label_names() -> None:
    assert label_names("ninapro-db5", 1)[12] == "thumb extension"
    assert len(label_names("ninapro-db5", 3)) == 24 and len(label_names("ninapro-db2")) == 50
    assert label_names("ninapro-db2", 1)[17] == "wrist extension with closed hand"
    assert label_names("synthetic-myo16")[1] == "gesture 1" and len(label_names("synthetic-myo16")) == 13
    assert len(label_names("synthetic-delsys12")) == 18 and len(label_names("synthetic-hd8x16")) == 9
    with pytest.raises(ValueError):
        label_names("ninapro-db9")
