import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import (
    CallableBackend,
    Judge,
    JudgeBackendError,
    JudgementCache,
    JudgeReward,
    OpenAIBackend,
    task_router,
)
from taskorder.rewards.judge import parse_score, parse_verdict


class FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions following the server's script, one step per request.

    Steps: ``"ok:<content>"``, ``"500"``, ``"404"``, ``"garbage"`` (200 with a body that
    is not JSON), ``"sleep:<seconds>:<content>"``. When the script runs out, the last
    step repeats.
    """

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with server.lock:
            server.requests.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            step = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        kind, _, rest = step.partition(":")
        if kind == "sleep":
            seconds, _, rest = rest.partition(":")
            time.sleep(float(seconds))
            kind = "ok"
        if kind in {"500", "404"}:
            self.send_response(int(kind))
            self.end_headers()
            return
        payload = (
            b"<html>definitely not json"
            if kind == "garbage"
            else json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": rest}}]}
            ).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except BrokenPipeError:  # the client gave up (timeout test)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    httpd.daemon_threads = True
    httpd.lock = threading.Lock()
    httpd.requests = []
    httpd.script = ["ok:Score: 7"]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def backend_for(server, **options):
    options = {"timeout": 2.0, "max_retries": 2, "backoff": 0.01, **options}
    return OpenAIBackend(server.url, "judge-model", api_key="sk-test", **options)


def test_http_backend_scores_and_sends_an_openai_request(server):
    judge = Judge(backend_for(server))
    assert judge.score("What is 2+2?", "4", rubric="Correct.") == pytest.approx(6 / 9)
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "judge-model" and request["body"]["temperature"] == 0.0
    assert "What is 2+2?" in request["body"]["messages"][0]["content"]
    assert request["auth"] == "Bearer sk-test"


def test_http_500_is_retried_then_succeeds(server):
    server.script = ["500", "500", "ok:Score: 10"]
    assert Judge(backend_for(server)).score("q", "a", rubric="r") == 1.0
    assert len(server.requests) == 3


@pytest.mark.parametrize("step", ["500", "garbage", "404"])
def test_persistent_failures_give_none_and_are_counted(server, step, caplog):
    server.script = [step]
    judge = Judge(backend_for(server))
    reward = JudgeReward(judge)
    assert reward(prompts=["q"], completions=["a"], rubric=["r"]) == [None]
    assert judge.stats_["backend_errors"] == 1
    assert len(server.requests) == (1 if step == "404" else 3)  # 404 is not retried
    assert "Judge backend" in caplog.text


def test_timeout_gives_none_within_the_limit_and_is_not_retried(server):
    server.script = ["sleep:1.5:Score: 9"]
    backend = backend_for(server, timeout=0.3, max_retries=2)
    started = time.monotonic()
    with pytest.raises(JudgeBackendError, match="did not answer within 0.3 s"):
        backend("prompt")
    assert time.monotonic() - started < 1.0
    assert len(server.requests) == 1
    assert Judge(backend).score("q", "a", rubric="r") is None


def test_unparsable_replies_give_none(server):
    server.script = ["ok:I would give it an eight."]
    judge = Judge(backend_for(server))
    assert judge.score("q", "a", rubric="r") is None
    assert judge.stats_["unparsable"] == 1 and judge.stats_["backend_errors"] == 0


def test_unreachable_endpoint_gives_none():
    backend = OpenAIBackend("http://127.0.0.1:9/v1", "m", timeout=0.5, max_retries=1, backoff=0.01)
    assert Judge(backend).score("q", "a", rubric="r") is None


def test_memory_cache_avoids_repeat_requests(server):
    judge = Judge(backend_for(server))
    for _ in range(3):
        assert judge.score("q", "a", rubric="r") == pytest.approx(6 / 9)
    assert len(server.requests) == 1
    assert judge.stats_["cache_hits"] == 2
    judge.score("q", "another answer", rubric="r")
    assert len(server.requests) == 2


def test_sqlite_cache_survives_a_new_judge(server, tmp_path):
    path = tmp_path / "judge.sqlite"
    Judge(backend_for(server), cache=JudgementCache(path)).score("q", "a", rubric="r")
    server.script = ["500"]  # the server is now broken, the disk cache still answers
    fresh = Judge(backend_for(server), cache=JudgementCache(path))
    assert fresh.score("q", "a", rubric="r") == pytest.approx(6 / 9)
    assert len(server.requests) == 1


def test_failures_are_not_cached(server):
    server.script = ["500", "500", "500", "ok:Score: 4"]
    judge = Judge(backend_for(server), cooldown=0)  # no breaker: ask again at once
    assert judge.score("q", "a", rubric="r") is None
    assert judge.score("q", "a", rubric="r") == pytest.approx(3 / 9)


def test_parallel_requests_keep_row_order(server):
    server.script = ["ok:Score: 5"]
    reward = JudgeReward(Judge(backend_for(server), cache=False), max_workers=4)
    out = reward(
        prompts=[f"q{i}" for i in range(8)],
        completions=[f"a{i}" for i in range(8)],
        rubric=["r"] * 4 + [None] * 4,
    )
    assert out == [pytest.approx(4 / 9)] * 4 + [None] * 4
    assert len(server.requests) == 4


def referee(verdict_for_completion):
    """A callable judge that finds which side is the completion and rules accordingly."""

    def judge(prompt):
        first = prompt.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
        if verdict_for_completion == "tie":
            return "Winner: tie"
        completion_is_a = first == "COMPLETION"
        wins = verdict_for_completion == "win"
        return "Winner: A" if completion_is_a == wins else "Winner: B"

    return judge


@pytest.mark.parametrize(("verdict", "expected"), [("win", 1.0), ("lose", 0.0), ("tie", 0.5)])
def test_pairwise_against_reference_with_a_callable(verdict, expected):
    reward = JudgeReward(Judge(referee(verdict)), mode="reference")
    prompts = [f"question {i}" for i in range(12)]  # both display orders occur
    out = reward(prompts=prompts, completions=["COMPLETION"] * 12, reference=["REFERENCE"] * 12)
    assert out == [expected] * 12
    assert reward.__name__ == "judge_reference"


def test_display_order_is_seeded():
    seen = []
    judge = Judge(lambda prompt: seen.append(prompt) or "Winner: tie", seed=1, cache=False)
    judge.compare("q", "c", "r")
    judge.compare("q", "c", "r")
    assert seen[0] == seen[1]


def test_callable_backend_failures_are_contained():
    def broken(prompt):
        raise RuntimeError("model crashed")

    judge = Judge(broken)
    assert JudgeReward(judge)(prompts=["q"], completions=["a"], rubric=["r"]) == [None]
    assert Judge(lambda prompt: 42).score("q", "a", rubric="r") is None
    assert judge.stats_["backend_errors"] == 1


def test_judge_reward_in_a_router_with_conversational_prompts(conversational):
    reward = JudgeReward(Judge(lambda prompt: "Score: 1" if "bad" in prompt else "Score: 10"))
    route = task_router({"chat": reward})
    prompts = [[{"role": "user", "content": "Say hi"}]] * 2
    out = route(
        prompts=prompts,
        completions=[conversational("hi"), conversational("bad")],
        task=["chat", "chat"],
        rubric=["Greets", "Greets"],
    )
    assert out == [1.0, 0.0]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Score: 1", 1),
        ("**Score:** 10", 10),
        ("score: 5.", 5),
        ("Score: 0", None),
        ("Score: 8/10", None),
        ("Score 8", None),
        ("The score: 4 and Score: 5", None),
        ("", None),
    ],
)
def test_parse_score_is_strict(reply, expected):
    assert parse_score(reply, 1, 10) == expected


def test_parse_verdict_is_strict():
    assert parse_verdict("Winner: a") == "A"
    assert parse_verdict("winner: Tie.") == "tie"
    assert parse_verdict("A is the winner") is None


def test_bad_configuration_is_refused():
    with pytest.raises(InvalidParameterError, match="'low' and 'high'"):
        Judge(lambda p: "", low=5, high=5)
    with pytest.raises(InvalidParameterError, match="'mode' parameter of JudgeReward"):
        JudgeReward(Judge(lambda p: ""), mode="vibes")
    with pytest.raises(InvalidParameterError, match="'base_url' parameter of OpenAIBackend"):
        OpenAIBackend("localhost:8000", "m")
    with pytest.raises(InvalidParameterError, match="'function' parameter of CallableBackend"):
        CallableBackend("not callable")
    assert "sk-" not in repr(OpenAIBackend("http://x/v1", "m", api_key="sk-secret"))


@pytest.fixture
def refusing_url():
    """A local URL where nothing listens: connections are refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def hanging_url():
    """A local server that accepts connections (kernel backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()


def batch_of(n):
    return {
        "prompts": [f"question {i}" for i in range(n)],
        "completions": [f"answer {i}" for i in range(n)],
        "rubric": ["be right"] * n,
    }


@pytest.mark.parametrize("dead", ["refusing_url", "hanging_url"])
def test_a_dead_judge_costs_one_failure_per_batch_not_one_per_completion(dead, request):
    """Default retries and backoff: 64 completions used to cost 64 x 3.5 s when refused."""
    url = request.getfixturevalue(dead)
    backend = OpenAIBackend(url, "m", timeout=1.0)  # default max_retries=3, backoff=0.5
    judge = Judge(backend)
    reward = JudgeReward(judge)
    started = time.monotonic()
    assert reward(**batch_of(64)) == [None] * 64
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"{elapsed:.1f} s for a batch against a dead judge"
    assert 1 <= judge.stats_["backend_errors"] <= backend.concurrency
    assert judge.stats_["backend_errors"] + judge.stats_["circuit_open"] == 64
    # the next batch, within the cooldown, does not wait at all
    started = time.monotonic()
    assert reward(**batch_of(64)) == [None] * 64
    assert time.monotonic() - started < 0.5
    assert judge.stats_["circuit_open"] >= 64


def test_the_breaker_lets_requests_through_again_after_the_cooldown(server):
    server.script = ["404", "ok:Score: 7"]
    judge = Judge(backend_for(server), cooldown=0.3)
    assert judge.score("q", "a", rubric="r") is None
    assert judge.score("q", "b", rubric="r") is None  # open: not sent
    assert len(server.requests) == 1 and judge.stats_["circuit_open"] == 1
    time.sleep(0.35)
    assert judge.score("q", "c", rubric="r") == pytest.approx(6 / 9)
    assert len(server.requests) == 2


def test_a_failing_function_is_called_once_per_batch():
    calls = []

    def broken(prompt):
        calls.append(prompt)
        raise RuntimeError("judge crashed")

    judge = Judge(broken)
    assert JudgeReward(judge)(**batch_of(5)) == [None] * 5
    assert len(calls) == 1 and judge.stats_["circuit_open"] == 4
    assert Judge(broken, cooldown=0).score("q", "a", rubric="r") is None  # breaker off
    assert JudgeReward(Judge(broken, cooldown=0))(**batch_of(3)) == [None] * 3
    assert len(calls) == 1 + 1 + 3


@pytest.mark.parametrize("mode", ["rubric", "reference"])
def test_blank_completions_get_the_minimum_without_a_request(mode):
    asked = []
    judge = Judge(lambda prompt: asked.append(prompt) or "Score: 10\nWinner: tie")
    reward = JudgeReward(judge, mode=mode)
    completions = ["", "  \n\t", "a real answer"]
    out = reward(prompts=["q"] * 3, completions=completions, **{mode: ["target"] * 3})
    assert out == [0.0, 0.0, 1.0 if mode == "rubric" else 0.5]
    assert len(asked) == 1 and "a real answer" in asked[0]
    assert judge.stats_["empty"] == 2
    assert judge.score("q", " ", rubric="r") == 0.0 and judge.compare("q", "", "ref") == 0.0
    assert len(asked) == 1


def test_a_batch_is_sent_concurrently(server):
    server.script = ["sleep:0.4:Score: 5"]
    reward = JudgeReward(Judge(backend_for(server)))  # OpenAIBackend: 8 at once
    started = time.monotonic()
    assert reward(**batch_of(16)) == [pytest.approx(4 / 9)] * 16
    elapsed = time.monotonic() - started
    assert len(server.requests) == 16
    assert elapsed < 16 * 0.4 / 2, f"{elapsed:.1f} s: not concurrent"


def test_repeated_prompts_in_a_batch_are_asked_once(server):
    judge = Judge(backend_for(server))
    out = JudgeReward(judge)(prompts=["q"] * 6, completions=["same"] * 6, rubric=["r"] * 6)
    assert out == [pytest.approx(6 / 9)] * 6
    assert len(server.requests) == 1 and judge.stats_["cache_hits"] == 5
