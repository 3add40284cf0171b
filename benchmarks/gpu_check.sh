#!/usr/bin/env bash
# The GPU check, in one go (fits in 5 minutes on an H200): kernel parity on CUDA, then the
# benchmark table. Run from the repository root on a machine with CUDA:
#     bash benchmarks/gpu_check.sh            # results in ${OUT:-.}/gpu_bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${OUT:-.}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
python -c "import torch; print('torch', torch.__version__, 'cuDNN', torch.backends.cudnn.version())"
timeout 120 python benchmarks/gpu_parity.py | tee "$out/gpu_parity.txt"
timeout 170 python benchmarks/run.py --device cuda --workloads W1 W2 W3 W4 W5 W6 --repeats 5 \
    --json "$out/gpu_bench.json" | tee "$out/gpu_bench.txt"
