"""ScheduleSampler against GRPO's RepeatSampler contract (no training)."""

from collections import Counter

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage
from taskorder.trl.sampler import BatchGeometry, ScheduleSampler, split_counts


def geometry(ng=2, b=3, e=1, g=1):
    return BatchGeometry(
        num_generations=ng,
        prompts_per_generation=b,
        micro_steps_per_generation=e,
        gradient_accumulation_steps=g,
    )


def chunks_of(stream, geo):
    """Split a stream into generation chunks, checking the repeat structure on the way."""
    size = geo.prompts_per_generation * geo.num_generations
    block = size * geo.micro_steps_per_generation
    assert len(stream) % block == 0
    chunks = []
    for start in range(0, len(stream), block):
        copies = [
            stream[start + k * size : start + (k + 1) * size]
            for k in range(geo.micro_steps_per_generation)
        ]
        assert all(copy == copies[0] for copy in copies), "a chunk must repeat E times"
        groups = [
            copies[0][k : k + geo.num_generations] for k in range(0, size, geo.num_generations)
        ]
        assert all(len(set(group)) == 1 for group in groups), (
            "each prompt repeats num_generations times in a row"
        )
        chunks.append([group[0] for group in groups])
    return chunks


def test_one_task_unshuffled_equals_trl_repeat_sampler():
    from trl.trainer.utils import RepeatSampler

    geo = geometry(ng=2, b=3, e=2, g=2)
    sampler = ScheduleSampler(["a"] * 12, Schedule([Stage("a", steps=4)]), geo, shuffle=False)
    reference = RepeatSampler(
        list(range(12)), mini_repeat_count=2, batch_size=3, repeat_count=2, shuffle=False
    )
    assert list(sampler) == list(reference)
    assert len(sampler) == len(reference)


def test_stages_feed_only_their_tasks_in_order():
    geo = geometry(ng=4, b=2, e=1, g=1)
    tasks = ["a"] * 5 + ["b"] * 7 + ["c"] * 3
    schedule = Schedule([Stage("b", steps=3), Stage("a", steps=2), Stage("c", steps=1)])
    sampler = ScheduleSampler(tasks, schedule, geo, seed=3)
    chunks = chunks_of(list(sampler), geo)
    assert len(chunks) == 6
    fed = [{tasks[i] for i in chunk} for chunk in chunks]
    assert fed == [{"b"}] * 3 + [{"a"}] * 2 + [{"c"}]
    # within a task, rows are drawn without replacement until exhausted
    b_rows = [i for chunk in chunks[:3] for i in chunk]
    assert len(set(b_rows)) == 6


def test_mixed_stage_follows_proportions_in_every_prefix():
    geo = geometry(ng=2, b=4, e=1, g=1)
    tasks = ["a"] * 20 + ["b"] * 20
    sampler = ScheduleSampler(tasks, Schedule([Stage({"a": 0.25, "b": 0.75}, steps=5)]), geo)
    chunks = chunks_of(list(sampler), geo)
    counts = Counter(tasks[i] for chunk in chunks for i in chunk)
    assert counts == {"a": 5, "b": 15}
    seen = Counter()
    for k, chunk in enumerate(chunks, start=1):
        seen.update(tasks[i] for i in chunk)
        assert abs(seen["a"] - 0.25 * 4 * k) <= 1


def test_same_seed_same_stream_other_seed_or_epoch_differs():
    geo = geometry()
    tasks = ["a"] * 30 + ["b"] * 30
    schedule = Schedule([Stage("a", steps=2), Stage({"a": 0.5, "b": 0.5}, steps=2)])
    first = list(ScheduleSampler(tasks, schedule, geo, seed=1))
    assert first == list(ScheduleSampler(tasks, schedule, geo, seed=1))  # every rank agrees
    assert first != list(ScheduleSampler(tasks, schedule, geo, seed=2))
    sampler = ScheduleSampler(tasks, schedule, geo, seed=1)
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_generation_spanning_several_steps():
    geo = geometry(ng=2, b=2, e=4, g=2)  # one generation feeds 2 optimizer steps
    assert geo.step_multiple == 2 and geo.prompts_per_step == 1.0
    sampler = ScheduleSampler(
        ["a"] * 4 + ["b"] * 4, Schedule([Stage("a", steps=2), Stage("b", steps=4)]), geo
    )
    assert sampler.generations_per_stage == (1, 2)
    with pytest.raises(InvalidParameterError, match="multiples of 2"):
        ScheduleSampler(["a"] * 4, Schedule([Stage("a", steps=3)]), geo)


def test_missing_task_and_unresolved_schedule_are_refused():
    geo = geometry()
    with pytest.raises(InvalidParameterError, match="no row"):
        ScheduleSampler(["a"] * 4, Schedule([Stage("b", steps=1)]), geo)
    with pytest.raises(InvalidParameterError, match="resolve"):
        ScheduleSampler(["a"] * 4, Schedule([Stage("a", passes=1.0)]), geo)


def test_split_counts_is_exact():
    assert split_counts(7, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}) == {"a": 3, "b": 2, "c": 2}
    assert sum(split_counts(101, {"x": 0.1, "y": 0.9}).values()) == 101
