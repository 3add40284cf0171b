"""Compile the persistent kernel for a GPU that is not here, and report what it costs.

Triton compiles ahead of time on a machine without a GPU (its wheel carries ``ptxas`` and
``cuobjdump``). Compiling a plan for the H200 (``sm_90``) before spending GPU time shows
the resource errors and spills the GPU would only show later:
``python -m rnnkit.kernels.persistent.compile_check lstm:256:1:bfloat16 gru:768:16:bfloat16``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass

import torch

from .plan import CELL_CODES, Plan, make_plan

H200 = ("cuda", 90, 32)        # backend, compute capability, warp size
SMEM_PER_BLOCK = 227 * 1024    # H100 / H200 opt-in shared memory per block
_TYPES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


@dataclass(frozen=True)
class Resources:
    registers: int        # per thread
    stack_bytes: int      # per thread: spilled registers live here
    shared_bytes: int     # per block
    ptx_local_spills: bool

    def problems(self) -> list[str]:
        found = []
        if self.stack_bytes:
            found.append(f"{self.stack_bytes} bytes a thread spilled to the stack")
        if self.shared_bytes > SMEM_PER_BLOCK:
            found.append(f"{self.shared_bytes} bytes of shared memory, above {SMEM_PER_BLOCK}")
        return found


def compile_plan(plan: Plan, dtype: torch.dtype, target=H200, backward: bool = False
                 ) -> Resources:
    """Compile ``plan``'s forward (or backward) kernel for ``target`` and read its resource
    use from the cubin."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    data = _TYPES[dtype]
    scalars = {"step_start": "i32", "step_stop": "i32"}
    if backward:
        from .triton_backward import persistent_rnn_backward as kernel

        signature = {"factors": "*fp32", "recurrent": f"*{data}", "stride_rk": "i32",
                     "stride_rn": "i32", "d_out": "*fp32", "d_last": "*fp32", "dz": "*fp32",
                     "dh_all": "*fp32", "reset_gradient": "*fp32", "d_h0": "*fp32",
                     "d_c0": "*fp32", "dc_state": "*fp32",
                     "counter": "*i32", "error": "*i32", **scalars, "steps": "i32"}
        values = plan.backward_constants(dtype, has_output_gradients=True)
    else:
        from .triton_forward import persistent_rnn_forward as kernel

        signature = {"xw": f"*{data}", "recurrent": f"*{data}", "stride_rk": "i32",
                     "stride_rn": "i32", "rec_bias": "*fp32", "h_exchange": "*fp32",
                     "rh_exchange": "*fp32", "c_state": "*fp32", "out": f"*{data}",
                     "cell_sequence": "*fp32", "counter": "*i32", "error": "*i32", **scalars}
        values = dict(plan.kernel_constants(dtype, has_rec_bias=plan.cell == "gru"),
                      WRITE_CELLS=plan.cell == "lstm")
    signature.update({"batch": "i32", "units": "i32", "max_polls": "i32"})
    signature.update({name: "constexpr" for name in values})
    source = ASTSource(fn=kernel, signature=signature, constexprs=values)
    compiled = triton.compile(source, target=GPUTarget(*target),
                              options={"num_warps": plan.num_warps,
                                       "launch_cooperative_grid": plan.programs > 1})
    usage = _cubin_usage(compiled.asm["cubin"], os.path.dirname(triton.__file__))
    return Resources(usage["REG"], usage["STACK"], compiled.metadata.shared,
                     ".local" in compiled.asm["ptx"])


def _cubin_usage(cubin: bytes, triton_dir: str) -> dict[str, int]:
    tool = os.path.join(triton_dir, "backends", "nvidia", "bin", "cuobjdump")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "kernel.cubin")
        with open(path, "wb") as handle:
            handle.write(cubin)
        report = subprocess.run([tool, "-res-usage", path], capture_output=True, text=True,
                                check=True).stdout
    found = dict(re.findall(r"(REG|STACK|SHARED|LOCAL):(\d+)", report))
    return {key: int(value) for key, value in found.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", metavar="CELL:UNITS:BATCH:DTYPE",
                        help=f"e.g. lstm:256:1:bfloat16; cells {sorted(CELL_CODES)}")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument("--backward", action="store_true", help="the backward kernel")
    args = parser.parse_args(argv)
    failed = 0
    for config in args.configs:
        cell, units, batch, dtype_name = config.split(":")
        dtype = getattr(torch, dtype_name)
        plan = make_plan(cell, int(units), int(batch), dtype)
        resources = compile_plan(plan, dtype, backward=args.backward)
        problems = resources.problems()
        failed += bool(problems)
        if args.json:
            print(json.dumps({"config": config, "backward": args.backward,
                              "programs": plan.programs,
                              "units_per_program": plan.units_per_program,
                              "num_warps": plan.num_warps, **asdict(resources),
                              "problems": problems}))
        else:
            print(f"{config}: {plan.programs} programs x {plan.units_per_program} units, "
                  f"{plan.num_warps} warps: {resources.registers} registers, "
                  f"{resources.stack_bytes} B stack, {resources.shared_bytes} B shared: "
                  + ("; ".join(problems) or "fits"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
