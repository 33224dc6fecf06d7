"""The README's code runs as it stands."""

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_every_python_block_of_the_readme_runs(capsys):
    import matplotlib.pyplot as plt

    blocks = _python_blocks()
    assert len(blocks) == 5, (
        "the README's python blocks: Use, recipe, stream, dask, torch"
    )
    # One namespace, as a reader who runs the blocks in order has: the recipe
    # continues "Use".
    namespace = {"__name__": "readme"}
    for block in blocks:
        with warnings.catch_warnings():
            # The snippets are what a user runs: a warning is a bug in them
            # or in the defaults, so it fails here.
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", category=FutureWarning)
            exec(compile(block, str(README), "exec"), namespace)
        plt.close("all")
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy (\S+)", out).group(1))
    nats = float(re.search(r"held-out nats per row (\S+)", out).group(1))
    flagged = float(re.search(r"flagged (\S+)", out).group(1))
    # What the snippets claim: features that classify digits, a density
    # above a single Gaussian's (about -10 nats on these rows), a detector
    # that flags most malignant tumours when trained on benign ones.
    assert accuracy > 0.9 and nats > -10 and flagged > 0.5, out
    # The torch block's features stay a float32 tensor of 64 units per row.
    assert "Tensor torch.float32 torch.Size([1797, 64])" in out, out
