"""Judge backends: anything that turns a prompt into the judge model's reply.

Every backend is a callable ``backend(prompt) -> str`` with a ``backend_id`` string
(part of the cache key: two backends with the same id must give the same replies).
A backend raises :class:`JudgeBackendError` when it cannot produce a reply; the
:class:`~taskorder.rewards.judge.core.Judge` turns that into a skipped (``None``)
reward.

- :class:`CallableBackend`: any Python function (tests, custom clients).
- :class:`OpenAIBackend`: an OpenAI-compatible ``/v1/chat/completions`` endpoint over
  ``urllib`` (no extra dependency), with a timeout and retries with backoff for a
  server that answers but fails; a refused connection or a timeout fails at once.
- :class:`TransformersBackend`: a local causal LM, greedy decoding (needs the ``trl``
  extra: torch and transformers, imported on first use). Its ``batch(prompts)``
  generates many replies in left-padded batches.

A backend may also have ``concurrency`` (how many requests the
:class:`~taskorder.rewards.judge.core.Judge` sends at once) and ``batch(prompts) ->
list of str`` (the judge then sends a whole batch in one call).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from taskorder.checks import check_float, check_int
from taskorder.exceptions import InvalidParameterError, TaskorderError

__all__ = ["CallableBackend", "JudgeBackendError", "OpenAIBackend", "TransformersBackend"]


class JudgeBackendError(TaskorderError, RuntimeError):
    """A judge backend could not produce a reply (network, server or model failure)."""


class CallableBackend:
    """Wrap a function ``prompt -> str`` as a judge backend.

    Parameters
    ----------
    function : callable
        Returns the judge's reply to a prompt.
    name : str, optional
        Identifier used in cache keys; defaults to the function's qualified name.

    Examples
    --------
    >>> backend = CallableBackend(lambda prompt: "Score: 7", name="always-seven")
    >>> backend("grade this"), backend.backend_id
    ('Score: 7', 'callable:always-seven')
    """

    def __init__(self, function: Callable[[str], str], *, name: str | None = None):
        if not callable(function):
            raise InvalidParameterError(
                "The 'function' parameter of CallableBackend must be callable (prompt -> str). "
                f"Got {type(function).__name__} instead."
            )
        self.function = function
        self.name = name or getattr(function, "__qualname__", type(function).__name__)

    @property
    def backend_id(self) -> str:
        return f"callable:{self.name}"

    def __call__(self, prompt: str) -> str:
        try:
            reply = self.function(prompt)
        except Exception as error:
            raise JudgeBackendError(
                f"The judge function {self.name!r} raised {error!r}."
            ) from error
        if not isinstance(reply, str):
            raise JudgeBackendError(
                f"The judge function {self.name!r} must return a string. Got {type(reply).__name__}."
            )
        return reply


class OpenAIBackend:
    """Call an OpenAI-compatible chat completions endpoint.

    Parameters
    ----------
    base_url : str
        URL up to and including ``/v1``, e.g. ``"http://127.0.0.1:8000/v1"``.
    model : str
        Model name sent in the request.
    api_key : str, optional
        Sent as ``Authorization: Bearer ...`` when given.
    timeout : float, default 30.0
        Seconds allowed for connecting and for each read of one request.
    max_retries : int, default 3
        Extra attempts after HTTP 429/5xx, a connection dropped mid-request or a reply
        that is not the expected JSON: the server is up but failed this request. A
        refused connection, a failed name lookup and a timeout fail at once (a down
        or hung judge does not recover within a backoff; the Judge's circuit breaker
        waits for it instead), as do other HTTP errors.
    backoff : float, default 0.5
        Seconds before the first retry, doubled for each further retry.
    max_tokens : int, default 256
        Reply length limit.
    temperature : float, default 0.0
        Sampling temperature (0: greedy, the reproducible choice for a judge).
    seed : int, default 0
        Sent as the request's ``seed`` for servers that honour it.
    concurrency : int, default 8
        Requests a :class:`~taskorder.rewards.judge.core.Judge` sends at once for a batch.

    Examples
    --------
    >>> OpenAIBackend("http://127.0.0.1:8000/v1", "judge-model").backend_id
    'openai:http://127.0.0.1:8000/v1:judge-model:t=0.0:max=256'
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        concurrency: int = 8,
    ):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidParameterError(
                "The 'base_url' parameter of OpenAIBackend must be an http(s) URL ending in "
                f"/v1. Got {base_url!r} instead."
            )
        timeout = check_float(timeout, "timeout", "OpenAIBackend", minimum=0, low_open=True)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = float(timeout)
        self.max_retries = check_int(max_retries, "max_retries", "OpenAIBackend", minimum=0)
        self.backoff = float(backoff)
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.seed = seed
        self.concurrency = check_int(concurrency, "concurrency", "OpenAIBackend")

    @property
    def backend_id(self) -> str:
        return f"openai:{self.base_url}:{self.model}:t={self.temperature}:max={self.max_tokens}"

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r})"

    def __call__(self, prompt: str) -> str:
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._request(prompt)
            except _Retryable as error:
                last_error = error.__cause__ or error
        raise JudgeBackendError(
            f"The judge endpoint {self.base_url} failed {self.max_retries + 1} times; last "
            f"error: {last_error!r}."
        ) from last_error

    def _request(self, prompt: str) -> str:
        import http.client
        import urllib.error
        import urllib.request

        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=json.dumps(body).encode(), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise _Retryable() from error
            raise JudgeBackendError(
                f"The judge endpoint {self.base_url} answered HTTP {error.code}."
            ) from error
        except (ConnectionResetError, ConnectionAbortedError, http.client.HTTPException) as error:
            raise _Retryable() from error  # the server answered, then broke off
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            if isinstance(
                getattr(error, "reason", None), (ConnectionResetError, ConnectionAbortedError)
            ):
                raise _Retryable() from error
            raise JudgeBackendError(
                f"The judge endpoint {self.base_url} is unreachable or did not answer within "
                f"{self.timeout:g} s: {getattr(error, 'reason', error)!r}."
            ) from error
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise _Retryable() from error
        if not isinstance(content, str):
            raise _Retryable() from TypeError(f"message content is {type(content).__name__}")
        return content


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth retrying (cause attached)."""


class TransformersBackend:
    """Generate the judge's replies with a local causal language model, greedily.

    ``backend(prompt)`` answers one prompt; ``backend.batch(prompts)`` answers many
    with one ``generate`` per ``batch_size`` prompts (left-padded, prompts of similar
    length grouped together), which the :class:`~taskorder.rewards.judge.core.Judge`
    uses for a whole batch of completions. Greedy decoding makes a reply the same
    whichever way it was asked, up to floating-point differences of padded attention.

    Parameters
    ----------
    model : transformers.PreTrainedModel or str
        A loaded model, or a path / hub id loaded with ``AutoModelForCausalLM`` on first use.
    tokenizer : transformers tokenizer, optional
        Required with a model object; loaded from the path when ``model`` is a string.
        It is only read, never changed (padding is built here, not by the tokenizer).
    max_new_tokens : int, default 64
        Reply length limit.
    use_chat_template : bool, default True
        Wrap the prompt as one user message when the tokenizer has a chat template.
    batch_size : int, default 16
        Prompts generated together by :meth:`batch`.
    """

    def __init__(
        self,
        model,
        tokenizer=None,
        *,
        max_new_tokens: int = 64,
        use_chat_template: bool = True,
        batch_size: int = 16,
    ):
        if not isinstance(model, str) and tokenizer is None:
            raise InvalidParameterError(
                "The 'tokenizer' parameter of TransformersBackend is required when 'model' is "
                "a model object. Got None."
            )
        self.model = model
        self.tokenizer = tokenizer
        self.max_new_tokens = check_int(max_new_tokens, "max_new_tokens", "TransformersBackend")
        self.use_chat_template = use_chat_template
        self.batch_size = check_int(batch_size, "batch_size", "TransformersBackend")
        self._lock = threading.Lock()

    @property
    def backend_id(self) -> str:
        if isinstance(self.model, str):
            source = self.model
        else:
            source = getattr(self.model.config, "_name_or_path", "") or f"object-{id(self.model)}"
        return f"transformers:{source}:max={self.max_new_tokens}"

    def _load(self):
        from taskorder.exceptions import require

        require("torch", "trl")
        require("transformers", "trl")
        if isinstance(self.model, str):
            from transformers import AutoModelForCausalLM, AutoTokenizer

            path = self.model
            self.tokenizer = self.tokenizer or AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path)
            self.model.config._name_or_path = path
        return self.model, self.tokenizer

    def __call__(self, prompt: str) -> str:
        return self.batch([prompt])[0]

    def batch(self, prompts) -> list[str]:
        """Return the model's greedy reply to each prompt, in order.

        Raises
        ------
        JudgeBackendError
            When loading or generating fails (out of memory, a broken model...).
        """
        prompts = list(prompts)
        with self._lock:
            try:
                model, tokenizer = self._load()
                encoded = [self._encode(tokenizer, prompt) for prompt in prompts]
                replies: list[str] = [""] * len(prompts)
                # Longest first, so each generate pads little and a too-long batch fails early.
                order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start : start + self.batch_size]
                    texts = self._generate(model, tokenizer, [encoded[i] for i in chunk])
                    for index, text in zip(chunk, texts):
                        replies[index] = text
                return replies
            except Exception as error:
                raise JudgeBackendError(f"Local judge generation failed: {error!r}") from error

    def _encode(self, tokenizer, prompt: str) -> list[int]:
        text = prompt
        if self.use_chat_template and getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        return list(tokenizer(text)["input_ids"])

    def _generate(self, model, tokenizer, sequences: list[list[int]]) -> list[str]:
        """Greedy replies to token sequences, generated together with left padding."""
        import torch

        pad = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        pad = 0 if pad is None else pad
        width = max(len(sequence) for sequence in sequences)
        input_ids = torch.tensor(
            [[pad] * (width - len(sequence)) + sequence for sequence in sequences], dtype=torch.long
        )
        attention_mask = torch.tensor(
            [[0] * (width - len(sequence)) + [1] * len(sequence) for sequence in sequences],
            dtype=torch.long,
        )
        with torch.no_grad():
            output = model.generate(
                input_ids=input_ids.to(model.device),
                attention_mask=attention_mask.to(model.device),
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=pad,
            )
        stop = _stop_ids(model, tokenizer)
        texts = []
        for row in output[:, width:].tolist():
            cut = next((position for position, token in enumerate(row) if token in stop), len(row))
            texts.append(tokenizer.decode(row[:cut], skip_special_tokens=True))
        return texts

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("batch_size", 16)
        self._lock = threading.Lock()


def _stop_ids(model, tokenizer) -> set[int]:
    """Token ids that end a reply: the generation config's and the tokenizer's EOS."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = [] if ids is None else ([ids] if isinstance(ids, int) else list(ids))
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return set(ids)
