"""Contract of every online policy: valid mixtures, determinism, exact resume, clear errors."""

import json

import numpy as np
import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.online import POLICIES, OnlinePolicy, TaskSignal, make_policy

TASKS = ("math", "code", "poem")


def random_signals(rng, tasks=TASKS, dim=6):
    """A batch's signals: some tasks not drawn, random advantages, rewards and gradients."""
    signals = {}
    for task in tasks:
        groups = int(rng.integers(0, 4))
        gradient = rng.normal(size=dim) if rng.random() < 0.8 else None
        signals[task] = TaskSignal(task, float(rng.random()), float(rng.random()), groups, gradient)
    return signals


def stream(policy, seed, batches=25):
    """Weights and draws of ``batches`` updates fed seeded random signals."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(batches):
        out.append((policy.weights(), policy.draw(8)))
        policy.update(random_signals(rng))
    return out


@pytest.mark.parametrize("name", POLICIES)
def test_weights_are_a_floored_mixture(name):
    policy = make_policy(name, TASKS, seed=3)
    assert isinstance(policy, OnlinePolicy)
    rng = np.random.default_rng(0)
    for _ in range(60):
        weights = policy.weights()
        assert list(weights) == list(TASKS)
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-12)
        assert min(weights.values()) >= policy.floor - 1e-12
        policy.update(random_signals(rng))


@pytest.mark.parametrize("name", POLICIES)
def test_an_explicit_floor_holds_under_extreme_signals(name):
    policy = make_policy(name, TASKS, floor=0.1)
    for _ in range(50):
        policy.update(
            {
                "math": TaskSignal("math", 50.0, 1.0, 4, np.array([1.0, 0.0])),
                "code": TaskSignal("code", 0.0, 0.0, 4, np.array([-1.0, 0.0])),
            }
        )
    assert min(policy.weights().values()) >= 0.1 - 1e-12


@pytest.mark.parametrize("name", POLICIES)
def test_same_seed_same_stream(name):
    first = stream(make_policy(name, TASKS, seed=5), seed=1)
    second = stream(make_policy(name, TASKS, seed=5), seed=1)
    assert first == second
    other = stream(make_policy(name, TASKS, seed=6), seed=1)
    assert [draw for _, draw in other] != [draw for _, draw in first]


@pytest.mark.parametrize("name", POLICIES)
def test_state_dict_round_trip_gives_identical_future_decisions(name):
    policy = make_policy(name, TASKS, seed=2)
    stream(policy, seed=4, batches=10)
    saved = json.loads(json.dumps(policy.state_dict()))
    continued = stream(policy, seed=9, batches=15)
    restored = make_policy(name, TASKS, seed=2)
    restored.load_state_dict(saved)
    assert stream(restored, seed=9, batches=15) == continued


def test_sec_prefers_the_task_with_signal_and_tac_with_sec_when_no_transfer():
    sec = make_policy("sec", TASKS)
    tac = make_policy("tac", TASKS, alpha=0.5, tau=1.0, transfer=0.0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        signals = random_signals(rng)
        sec.update(signals)
        tac.update(signals)
    assert sec.weights() == tac.weights()
    flat = make_policy("sec", ["flat", "live"], tau=0.2)
    for _ in range(5):
        flat.update(
            {"flat": TaskSignal("flat", 0.0, 1.0, 4), "live": TaskSignal("live", 0.7, 0.5, 4)}
        )
    assert flat.weights()["live"] > 0.8


def test_tac_rewards_aligned_tasks():
    tac = make_policy("tac", TASKS, transfer=2.0)
    for _ in range(10):
        tac.update(
            {
                "math": TaskSignal("math", 0.5, 0.5, 2, np.array([1.0, 0.2, 0.0])),
                "code": TaskSignal("code", 0.5, 0.5, 2, np.array([1.0, 0.0, 0.1])),
                "poem": TaskSignal("poem", 0.5, 0.5, 2, np.array([-1.0, 0.0, 0.0])),
            }
        )
    weights = tac.weights()
    assert weights["poem"] < weights["math"] and weights["poem"] < weights["code"]


def test_tac_projection_keeps_cosines_roughly():
    rng = np.random.default_rng(0)
    base = rng.normal(size=5000)
    near, far = base + 0.3 * rng.normal(size=5000), -base
    exact = make_policy("tac", ["a", "b", "c"], alpha=1.0)
    sketched = make_policy("tac", ["a", "b", "c"], alpha=1.0, projection_dim=512, seed=1)
    signals = {t: TaskSignal(t, 0.5, 0.5, 1, g) for t, g in zip("abc", (base, near, far))}
    exact.update(signals)
    sketched.update(signals)
    assert np.allclose(exact.alignment_, sketched.alignment_, atol=0.08)


def test_worst_task_moves_weight_to_the_lagging_task():
    policy = make_policy("worst_task", TASKS)
    for _ in range(10):
        policy.update(
            {
                "math": TaskSignal("math", 0.5, 0.9, 2),
                "code": TaskSignal("code", 0.5, 0.2, 2),
                "poem": TaskSignal("poem", 0.5, 0.8, 2),
            }
        )
    weights = policy.weights()
    assert max(weights, key=weights.get) == "code"


def test_undrawn_tasks_keep_their_values():
    policy = make_policy("sec", TASKS)
    policy.update({"math": TaskSignal("math", 0.6, 0.5, 2)})
    before = policy.values_.copy()
    policy.update({"math": TaskSignal("math", 0.1, 0.5, 0), "code": TaskSignal("code", 0, 0, 0)})
    assert np.array_equal(policy.values_, before)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: make_policy("ucb", TASKS), "'name'"),
        (lambda: make_policy("sec", TASKS, beta=1), "'beta'"),
        (lambda: make_policy("sec", TASKS, tau=0), "'tau'"),
        (lambda: make_policy("sec", TASKS, alpha=1.5), "'alpha'"),
        (lambda: make_policy("sec", TASKS, floor=0.5), "'floor'"),
        (lambda: make_policy("worst_task", TASKS, eta=-1), "'eta'"),
        (lambda: make_policy("tac", TASKS, projection_dim=0), "'projection_dim'"),
        (lambda: make_policy("sec", []), "'tasks'"),
        (lambda: make_policy("sec", ["a", "a"]), "'tasks'"),
        (lambda: make_policy("sec", TASKS, seed=-1), "'seed'"),
    ],
)
def test_bad_construction_names_the_parameter(call, words):
    with pytest.raises(InvalidParameterError, match=words):
        call()


def test_bad_signals_and_states_are_refused():
    policy = make_policy("tac", TASKS)
    with pytest.raises(InvalidParameterError, match="'signals'"):
        policy.update({"other": TaskSignal("other", 0.1, 0.1, 1)})
    with pytest.raises(InvalidParameterError, match="'signals'"):
        policy.update({"math": TaskSignal("code", 0.1, 0.1, 1)})
    with pytest.raises(InvalidParameterError, match="'math.groups' parameter of TACPolicy.update"):
        policy.update({"math": TaskSignal("math", 0.1, 0.1, -1)})
    with pytest.raises(InvalidParameterError, match="mean_abs_advantage"):
        policy.update({"math": TaskSignal("math", float("nan"), 0.1, 1)})
    with pytest.raises(InvalidParameterError, match="'gradient'"):
        policy.update(
            {
                "math": TaskSignal("math", 0.1, 0.1, 1, np.ones(3)),
                "code": TaskSignal("code", 0.1, 0.1, 1, np.ones(4)),
            }
        )
    with pytest.raises(InvalidParameterError, match="'state'"):
        make_policy("sec", TASKS).load_state_dict(policy.state_dict())
    with pytest.raises(InvalidParameterError, match="'state'"):
        make_policy("tac", TASKS, tau=0.5).load_state_dict(policy.state_dict())
    with pytest.raises(InvalidParameterError, match="'n_groups'"):
        policy.draw(-1)
