"""Fits replay their recording in ``data/golden_fits.npz`` bit for bit.

The recording holds every fitted attribute and a few outputs of 25 fits (both
estimators, all objectives, both solvers, partial_fit, warm_start, float32,
likelihood refinement). A refactor that changes one bit of one of them fails
here; a deliberate change of behaviour re-records it
(``tests/data/make_golden_fits.py``) in the commit that makes it.

Bits also depend on the arithmetic underneath (numpy, scipy, the BLAS kernel
for this CPU and its thread count), which the recording fingerprints. On a
machine with another fingerprint the same code rounds differently, and L-BFGS
carries the difference on; there the fits must agree to a tolerance instead.
"""

from pathlib import Path

import numpy as np
import pytest
from _golden import CASES, fingerprint, run_case

RECORDING = np.load(Path(__file__).parent / "data" / "golden_fits.npz")
SAME_ARITHMETIC = str(RECORDING["fingerprint"]) == fingerprint()


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_replays_its_recording(name):
    got = run_case(name)
    expected = {
        key.split("/", 1)[1]: RECORDING[key]
        for key in RECORDING.files
        if key.startswith(name + "/")
    }
    assert sorted(got) == sorted(expected)
    for key, value in got.items():
        assert value.dtype == expected[key].dtype, key
        if SAME_ARITHMETIC:
            np.testing.assert_array_equal(value, expected[key], err_msg=key)
        else:
            rtol = 1e-3 if value.dtype == np.float32 else 1e-6
            np.testing.assert_allclose(
                value, expected[key], rtol=rtol, atol=rtol, err_msg=key
            )
