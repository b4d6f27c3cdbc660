"""Packaging: the typed package, and stubs that cover the native module."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import cmp_protocol
from cmp_protocol import _native


def _stub() -> ast.Module:
    path = Path(cmp_protocol.__file__).with_name("_native.pyi")
    return ast.parse(path.read_text())


def test_py_typed_and_stub_are_installed() -> None:
    here = Path(cmp_protocol.__file__).parent
    assert (here / "py.typed").exists()
    assert (here / "_native.pyi").exists()


def test_stub_lists_every_native_name_and_member() -> None:
    tree = _stub()
    stub_classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    stub_funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for name, obj in vars(_native).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(obj):
            assert name in stub_classes, f"class {name} missing from _native.pyi"
            members = {
                n.name
                for n in stub_classes[name].body
                if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
            }
            for m in vars(obj):
                if m.startswith("_") and m not in ("__call__", "__bytes__"):
                    continue
                assert m in members, f"{name}.{m} missing from _native.pyi"
        elif callable(obj):
            assert name in stub_funcs, f"function {name} missing from _native.pyi"


def test_public_api_is_exported() -> None:
    for name in cmp_protocol.__all__:
        assert hasattr(cmp_protocol, name), name
