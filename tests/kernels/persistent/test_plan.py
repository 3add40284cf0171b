import pytest
import torch

from rnnkit.kernels.persistent.plan import (CELLS, DOT_MIN, MAX_UNITS, ON_CHIP_BUDGET_BYTES,
                                            SHARED_MEMORY_BYTES, make_plan)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("units,batch", [(1, 1), (10, 3), (64, 4), (256, 1), (300, 16),
                                         (768, 16), (1024, 64)])
def test_slabs_cover_every_unit_once_and_their_columns_are_the_gates_of_those_units(cell, units, batch):
    plan = make_plan(cell, units, batch, torch.bfloat16)
    owned = [j for p in range(plan.programs) for j in plan.slab(p)]
    assert owned == list(range(units))
    assert all(len(plan.slab(p)) > 0 for p in range(plan.programs))
    columns = [c for p in range(plan.programs) for c in plan.slab_columns(p)]
    assert sorted(columns) == list(range(plan.gates * units))
    # each program's columns: gate g of unit j is column g*H + j (Keras layout)
    first = plan.slab(0)
    assert plan.slab_columns(0)[:len(first)] == list(first)
    if plan.gates > 1:  # then gate 1 of the same units
        assert plan.slab_columns(0)[len(first)] == units


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_the_slab_stays_within_the_on_chip_budget_and_tiles_are_powers_of_two(cell):
    for units in (16, 100, 256, 512, 768, 1024):
        for batch, dtype in ((1, torch.bfloat16), (8, torch.float32), (16, torch.float16)):
            try:
                plan = make_plan(cell, units, batch, dtype)
            except ValueError as error:  # float32 slabs of the largest layers
                assert dtype == torch.float32 and "of shared memory" in str(error)
                continue
            for size in (plan.units_per_program, plan.k_block, plan.batch_block):
                assert size & (size - 1) == 0
            assert plan.k_block >= units and plan.batch_block >= batch
            if plan.use_dot:
                assert min(plan.units_per_program, plan.k_block, plan.batch_block) >= DOT_MIN
                assert plan.slab_bytes(dtype.itemsize) <= SHARED_MEMORY_BYTES
            elif plan.units_per_program > 1 and batch > 1:
                assert plan.slab_bytes(4) < ON_CHIP_BUDGET_BYTES
            assert plan.programs <= 132


def test_tensor_cores_from_batch_16_and_fewest_programs_that_fit():
    assert not make_plan("lstm", 256, 15).use_dot
    assert make_plan("lstm", 256, 16).use_dot
    # a small batch at a large H would need too many programs without them: padded to 16
    padded = make_plan("gru", 768, 8, torch.float32)
    assert padded.use_dot and padded.batch_block == 16
    assert make_plan("tanh", 64, 1).programs == 1          # a small layer: one program
    stream = make_plan("lstm", 256, 1, torch.bfloat16)     # the W6 stream needs several
    assert 4 <= stream.programs <= 16


def test_barrier_targets_count_every_program_for_every_earlier_phase():
    plan = make_plan("gru_reset_before", 64, 2, programs=4)
    assert plan.phases == 2 and plan.programs == 4
    assert [plan.barrier_target(t, phase) for t in range(2) for phase in range(2)] == [0, 4, 8, 12]
    single = make_plan("lstm", 64, 2, programs=2)
    assert [single.barrier_target(t, 0) for t in range(3)] == [0, 2, 4]


def test_a_program_count_can_be_asked_for():
    plan = make_plan("gru", 10, 2, programs=3)
    assert plan.programs == 3 and plan.units_per_program == 4
    assert list(plan.slab(2)) == [8, 9]


@pytest.mark.parametrize("args,match", [
    (("lstm", MAX_UNITS + 1, 1), "units=1025 is above"),
    (("lstm", 64, 65), "batch 65 is above"),
    (("conv", 64, 1), "cell 'conv' is not one of"),
])
def test_shapes_without_a_plan_are_refused_with_the_reason(args, match):
    with pytest.raises(ValueError, match=match):
        make_plan(*args)


def test_a_float32_slab_larger_than_shared_memory_is_refused():
    with pytest.raises(ValueError, match="more than the 232448 of shared memory"):
        make_plan("lstm", 1024, 16, torch.float32)


def test_a_plan_that_needs_more_programs_than_can_be_resident_is_refused():
    with pytest.raises(ValueError, match="more than the 4 that can be resident"):
        make_plan("tanh", 1024, 8, torch.float16, max_programs=4)
