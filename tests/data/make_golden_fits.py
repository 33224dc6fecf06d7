"""Record the outputs of the fixed fits of ``tests/_golden.py``.

Run it before a refactor that must not change behaviour, and again only
when a change of behaviour is intended (say so in the commit):
``python tests/data/make_golden_fits.py``.
"""

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

import _golden  # noqa: E402


def main():
    record = {"fingerprint": np.array(_golden.fingerprint())}
    for name in _golden.CASES:
        for key, value in _golden.run_case(name).items():
            record[f"{name}/{key}"] = value
    np.savez_compressed(HERE / "golden_fits.npz", **record)
    print(f"recorded {len(_golden.CASES)} fits, {len(record) - 1} arrays")


if __name__ == "__main__":
    main()
