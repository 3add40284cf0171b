"""``python benchmarks/run.py ...`` = ``rnnkit bench ...``: rnnkit against torch (and Keras)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnkit.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
