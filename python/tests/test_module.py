"""The package as a whole: what it exports and that everything is documented."""

from __future__ import annotations

import inspect

import pytest

import halfopen
from halfopen import _native, cli, firewall, view, watch


def test_init_re_exports_the_native_module() -> None:
    public = {name for name in _native.__all__ if not name.startswith("_")}
    assert public <= set(halfopen.__all__)
    for name in halfopen.__all__:
        assert getattr(halfopen, name) is getattr(_native, name)


def public_members(obj: object) -> list[tuple[str, object]]:
    return [(n, m) for n, m in inspect.getmembers(obj) if not n.startswith("_")]


@pytest.mark.parametrize("name", [n for n in halfopen.__all__ if n not in ("__version__", "TCP_STATES")])
def test_everything_exported_has_a_docstring(name: str) -> None:
    obj = getattr(halfopen, name)
    assert (obj.__doc__ or "").strip(), name
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        for member, value in public_members(obj):
            assert (getattr(value, "__doc__", None) or "").strip(), f"{name}.{member}"


@pytest.mark.parametrize("module", [halfopen, cli, firewall, view, watch])
def test_python_modules_document_their_functions(module: object) -> None:
    assert (getattr(module, "__doc__", None) or "").strip()
    for name, value in public_members(module):
        if inspect.isfunction(value) or inspect.isclass(value):
            if getattr(value, "__module__", None) != getattr(module, "__name__", None):
                continue
            assert (value.__doc__ or "").strip(), f"{getattr(module, '__name__')}.{name}"
