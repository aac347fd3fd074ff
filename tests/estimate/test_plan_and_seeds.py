import pytest

from taskorder.estimate import make_plan
from taskorder.exceptions import InvalidParameterError
from taskorder.seeds import derive_seed


def test_full_plan_counts_and_dependencies():
    plan = make_plan(["a", "b", "c"], repeats=2, steps=7, seed=3)
    probes = plan.probes()
    kinds = [p.kind for p in probes]
    assert kinds.count("base") == 2 and kinds.count("first") == 6 and kinds.count("second") == 12
    keys = {p.key for p in probes}
    assert len(keys) == len(probes)
    for probe in probes:
        assert probe.steps == 7
        if probe.kind == "second":
            assert probe.depends_on == f"first/{probe.task}/r{probe.repeat}"
            assert probe.depends_on in keys
        else:
            assert probe.depends_on is None


def test_seeds_depend_only_on_campaign_seed_and_key():
    a = {p.key: p for p in make_plan(["a", "b", "c"], repeats=2, seed=5).probes()}
    # A smaller plan (other pairs, fewer repeats) gives its probes the same seeds.
    b = make_plan(["a", "b", "c"], pairs=[("c", "a")], repeats=1, seed=5).probes()
    for probe in b:
        assert probe == a[probe.key]
    c = {p.key: p for p in make_plan(["a", "b", "c"], repeats=2, seed=6).probes()}
    assert all(c[k].train_seed != a[k].train_seed for k in a)
    # A repeat shares its init and evaluation seeds; repeats differ.
    r0 = {p.init_seed for p in a.values() if p.repeat == 0}
    r1 = {p.init_seed for p in a.values() if p.repeat == 1}
    assert len(r0) == len(r1) == 1 and r0 != r1


def test_derive_seed_is_stable_and_in_range():
    assert derive_seed(0, "train", "first/a/r0") == derive_seed(0, "train", "first/a/r0")
    values = {derive_seed(s, "x") for s in range(200)}
    assert len(values) == 200 and all(0 <= v < 2**31 - 1 for v in values)


def test_subset_plan_keeps_only_requested_pairs_but_all_first_stages():
    plan = make_plan(["a", "b", "c", "d"], tasks=["a", "c", "d"], pairs=[("a", "c"), ("d", "a")])
    seconds = [p.key for p in plan.probes() if p.kind == "second"]
    firsts = [p.key for p in plan.probes() if p.kind == "first"]
    assert seconds == ["second/a/c/r0", "second/d/a/r0"]
    assert firsts == ["first/a/r0", "first/c/r0", "first/d/r0"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tasks": ["a", "zzz"]}, "'tasks'"),
        ({"tasks": ["a"]}, "at least 2"),
        ({"pairs": [("a", "a")]}, "'pairs'"),
        ({"pairs": [("a", "q")]}, "'pairs'"),
        ({"repeats": 0}, "'repeats'"),
        ({"steps": -1}, "'steps'"),
        ({"seed": 1.5}, "'seed'"),
    ],
)
def test_bad_plans_name_the_parameter(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_plan(["a", "b", "c"], **kwargs)


def test_task_names_with_slash_are_refused():
    with pytest.raises(InvalidParameterError, match="'/'"):
        make_plan(["a/b", "c"])
