"""One loader for every configuration file (TOML, YAML, JSON) and one error translator.

:func:`read_mapping` reads a file into a dict or raises one
:class:`~taskorder.exceptions.InvalidParameterError` that names the file;
:func:`describe_validation_error` turns a pydantic ``ValidationError`` into one line
that names every offending key. Probe, train and compare configs all go through both.

Examples
--------
>>> from pydantic import BaseModel, ConfigDict, ValidationError
>>> class Section(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     steps: int
>>> try:
...     Section.model_validate({"step": 3})
... except ValidationError as error:
...     print(describe_validation_error(error))
steps: Field required; step: Extra inputs are not permitted
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = ["SUFFIXES", "describe_validation_error", "read_mapping"]

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


def describe_validation_error(error: Any, limit: int = 8) -> str:
    """One line naming each problem of a pydantic ``ValidationError`` (``key.sub: message``)."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]).replace("validate_", "validate")
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    extra = error.error_count() - limit
    return "; ".join(parts) + (f" (and {extra} more)" if extra > 0 else "")
