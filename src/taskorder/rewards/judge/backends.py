"""Judge backends: anything that turns a prompt into the judge model's reply.

Every backend is a callable ``backend(prompt) -> str`` with a ``backend_id`` string
(part of the cache key: two backends with the same id must give the same replies).
A backend raises :class:`JudgeBackendError` when it cannot produce a reply; the
:class:`~taskorder.rewards.judge.core.Judge` turns that into a skipped (``None``)
reward.

- :class:`CallableBackend`: any Python function (tests, custom clients).
- :class:`OpenAIBackend`: an OpenAI-compatible ``/v1/chat/completions`` endpoint over
  ``urllib`` (no extra dependency), with a timeout and retries with backoff.
- :class:`TransformersBackend`: a local causal LM, greedy decoding (needs the ``trl``
  extra: torch and transformers, imported on first use).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from taskorder.exceptions import InvalidParameterError, TaskorderError
from taskorder.rewards._common import check_count

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
            raise JudgeBackendError(f"The judge function {self.name!r} raised {error!r}.") from error
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
        Extra attempts after a timeout, connection error, HTTP 429/5xx or a reply
        that is not the expected JSON. Other HTTP errors fail at once.
    backoff : float, default 0.5
        Seconds before the first retry, doubled for each further retry.
    max_tokens : int, default 256
        Reply length limit.
    temperature : float, default 0.0
        Sampling temperature (0: greedy, the reproducible choice for a judge).
    seed : int, default 0
        Sent as the request's ``seed`` for servers that honour it.

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
    ):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidParameterError(
                "The 'base_url' parameter of OpenAIBackend must be an http(s) URL ending in "
                f"/v1. Got {base_url!r} instead."
            )
        if not timeout > 0:
            raise InvalidParameterError(
                f"The 'timeout' parameter of OpenAIBackend must be positive. Got {timeout!r}."
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = float(timeout)
        self.max_retries = check_count(max_retries, "max_retries", "OpenAIBackend", minimum=0)
        self.backoff = float(backoff)
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.seed = seed

    @property
    def backend_id(self) -> str:
        return (
            f"openai:{self.base_url}:{self.model}:t={self.temperature}:max={self.max_tokens}"
        )

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
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise _Retryable() from error
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
    """Generate the judge's reply with a local causal language model, greedily.

    Parameters
    ----------
    model : transformers.PreTrainedModel or str
        A loaded model, or a path / hub id loaded with ``AutoModelForCausalLM`` on first use.
    tokenizer : transformers tokenizer, optional
        Required with a model object; loaded from the path when ``model`` is a string.
    max_new_tokens : int, default 64
        Reply length limit.
    use_chat_template : bool, default True
        Wrap the prompt as one user message when the tokenizer has a chat template.
    """

    def __init__(self, model, tokenizer=None, *, max_new_tokens: int = 64, use_chat_template: bool = True):
        if not isinstance(model, str) and tokenizer is None:
            raise InvalidParameterError(
                "The 'tokenizer' parameter of TransformersBackend is required when 'model' is "
                "a model object. Got None."
            )
        self.model = model
        self.tokenizer = tokenizer
        self.max_new_tokens = check_count(max_new_tokens, "max_new_tokens", "TransformersBackend")
        self.use_chat_template = use_chat_template
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
        import torch

        with self._lock:
            try:
                model, tokenizer = self._load()
                text = prompt
                if self.use_chat_template and getattr(tokenizer, "chat_template", None):
                    text = tokenizer.apply_chat_template(
                        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
                    )
                inputs = tokenizer(text, return_tensors="pt").to(model.device)
                pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
                with torch.no_grad():
                    output = model.generate(
                        **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad
                    )
                new_tokens = output[0, inputs["input_ids"].shape[1]:]
                return tokenizer.decode(new_tokens, skip_special_tokens=True)
            except Exception as error:
                raise JudgeBackendError(f"Local judge generation failed: {error!r}") from error

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
