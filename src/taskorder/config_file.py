"""One config system: a strict pydantic base, one file loader and one error translator.

- :class:`StrictModel`: the base of every settings model (unknown keys are errors,
  values are frozen once validated); built in code or with ``Model.from_value(value)``,
  a bad value raises one ``InvalidParameterError`` naming model, key and value.
- :func:`read_mapping` reads a TOML, YAML or JSON file into a dict or raises one
  :class:`~taskorder.exceptions.InvalidParameterError` that names the file.
- :func:`validate_config` validates a mapping against a model and translates a
  pydantic ``ValidationError`` into one ``InvalidParameterError`` naming every
  offending key (:func:`describe_validation_error` writes that line).

Probe, real-model (train) and evaluation settings all go through these;
:func:`taskorder.configs.load_config` tells the file kinds apart.

Examples
--------
>>> class Section(StrictModel):
...     steps: int
>>> validate_config(Section, {"steps": 3}, "run.toml")
Section(steps=3)
>>> validate_config(Section, {"step": 3}, "run.toml")
Traceback (most recent call last):
...
taskorder.exceptions.InvalidParameterError: run.toml: invalid config: steps: Field required; step: unknown key (accepted: steps).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Self, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from taskorder.exceptions import InvalidParameterError

__all__ = [
    "SUFFIXES",
    "StrictModel",
    "describe_validation_error",
    "read_mapping",
    "validate_config",
]

_Model = TypeVar("_Model", bound=BaseModel)


class StrictModel(BaseModel):
    """The base of every taskorder settings model: unknown keys fail, values are frozen.

    Built in code (``Settings(a=1)``), a bad value raises one
    :class:`~taskorder.exceptions.InvalidParameterError` naming the model, the field,
    what was expected and what was given; read from a file, :func:`validate_config`
    names the file instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _invalid(type(self), error) from None

    @classmethod
    def from_value(cls, value: Any) -> Self:
        """``value`` as this model: an instance as it is, else validated like a file's section.

        ``value`` is a mapping of fields, or anything a ``mode="before"`` validator of
        the model turns into one (a plain string for
        :class:`~taskorder.trl.model_source.ModelSpec`). A bad value raises the same one
        :class:`~taskorder.exceptions.InvalidParameterError` as building the model in
        code (``Invalid <Model>: <key>: <problem>``), never pydantic's ``ValidationError``.

        Examples
        --------
        >>> class Section(StrictModel):
        ...     steps: int = 1
        >>> Section.from_value({"steps": 2})
        Section(steps=2)
        >>> Section.from_value({"steps": "two"})
        Traceback (most recent call last):
        ...
        taskorder.exceptions.InvalidParameterError: Invalid Section: steps: Input should be a valid integer, unable to parse string as an integer (got 'two').
        """
        if isinstance(value, cls):
            return value
        try:
            return cls.model_validate(value)
        except ValidationError as error:
            raise _invalid(cls, error) from None


def _invalid(model: type[BaseModel], error: ValidationError) -> InvalidParameterError:
    """The one error of a settings model built from bad values (see :class:`StrictModel`)."""
    problem = InvalidParameterError(
        f"Invalid {model.__name__}: {describe_validation_error(error, model=model)}."
    )
    # Validated inside another model, pydantic wraps this error; the translator
    # opens it up again so the message names the whole key path.
    problem.validation_error = error  # type: ignore[attr-defined]
    problem.model = model  # type: ignore[attr-defined]
    return problem


#: File suffixes a configuration may have.
SUFFIXES = (".toml", ".yaml", ".yml", ".json")


def _parse(text: str, suffix: str) -> Any:
    if suffix == ".toml":
        import tomllib

        return tomllib.loads(text)
    if suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    return json.loads(text)


def read_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level table of a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file.

    Raises
    ------
    InvalidParameterError
        Missing or unreadable file, unknown suffix, undecodable bytes, a syntax error,
        or a top level that is not a table; the message names the file.
    """
    path = Path(os.path.expanduser(str(path)))
    if not path.is_file():
        raise InvalidParameterError(f"{path}: no such configuration file.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidParameterError(
            f"{path}: expected a .toml, .yaml, .yml or .json configuration file. Got {suffix!r}."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidParameterError(
            f"{path}: not a UTF-8 text file (byte {error.start} cannot be decoded); "
            "a configuration must be TOML, YAML or JSON text."
        ) from None
    except OSError as error:
        raise InvalidParameterError(f"{path}: cannot be read ({error.strerror}).") from None
    try:
        data = _parse(text, suffix)
    except RecursionError:
        raise InvalidParameterError(f"{path}: nested too deeply to read.") from None
    except Exception as error:
        raise InvalidParameterError(
            f"{path}: not valid {suffix[1:].upper()} ({str(error)[:300]})."
        ) from None
    if not isinstance(data, dict):
        raise InvalidParameterError(
            f"{path}: expected a table of settings at the top level. Got {type(data).__name__}."
        )
    return data


def _accepted(model: type[BaseModel] | None, path: tuple[Any, ...]) -> list[str] | None:
    """The keys the (nested) settings model at ``path`` inside ``model`` accepts."""
    for key in path:
        field = model.model_fields.get(key) if model is not None else None
        if field is None:
            return None
        kinds = get_args(field.annotation) or (field.annotation,)
        model = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
    return sorted(model.model_fields) if model is not None else None


def _problems(
    error: Any, prefix: tuple[Any, ...] = (), model: type[BaseModel] | None = None
) -> list[tuple[str, str]]:
    """``(key path, message)`` per problem; a nested model's own error is opened up."""
    out = []
    for item in error.errors():
        loc = (*prefix, *item["loc"])
        inner = (item.get("ctx") or {}).get("error")
        nested = getattr(inner, "validation_error", None)
        if nested is not None:
            out += _problems(nested, loc, getattr(inner, "model", None))
            continue
        message = item["msg"].removeprefix("Value error, ").rstrip(".")
        if item["type"] == "extra_forbidden":
            accepted = _accepted(model, tuple(item["loc"][:-1]))
            message = "unknown key" + (f" (accepted: {', '.join(accepted)})" if accepted else "")
        elif item["type"] not in ("missing", "value_error") and isinstance(
            item.get("input"), (int, float, str)
        ):
            message += f" (got {repr(item['input'])[:60]})"
        out.append((".".join(str(p) for p in loc).replace("validate_", "validate"), message))
    return out


def describe_validation_error(
    error: Any, limit: int = 8, *, model: type[BaseModel] | None = None
) -> str:
    """One line naming each problem of a pydantic ``ValidationError`` (``key.sub: message``).

    Parameters
    ----------
    error : pydantic.ValidationError
        The error to describe.
    limit : int, default 8
        Most problems named; the rest are counted.
    model : type of pydantic.BaseModel, optional
        The model that was validated: an unknown key's message then lists the keys
        accepted where it was found.
    """
    problems = _problems(error, model=model)
    parts = [f"{where}: {message}" if where else message for where, message in problems[:limit]]
    extra = len(problems) - limit
    return "; ".join(parts) + (f" (and {extra} more)" if extra > 0 else "")


def validate_config(model: type[_Model], data: Any, where: str) -> _Model:
    """``data`` validated as ``model``; one :class:`InvalidParameterError` otherwise.

    Parameters
    ----------
    model : type of pydantic.BaseModel
        The settings model (a :class:`StrictModel`).
    data : mapping
        The settings, e.g. what :func:`read_mapping` returned.
    where : str
        The file (or a description of the source) the message starts with.

    Raises
    ------
    InvalidParameterError
        ``"<where>: invalid config: <key>: <problem>; ..."``, chained to nothing (the
        pydantic traceback says no more than the message).
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidParameterError(
            f"{where}: invalid config: {describe_validation_error(error, model=model)}."
        ) from None
