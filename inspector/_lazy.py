"""Module-level names whose heavy module is imported on first use (cryptography, ~0.1 s).

``lazy_import(globals(), {"x509": ("cryptography.x509", None), "NameOID": ("cryptography.x509.oid",
"NameOID")})`` binds each name to a placeholder; the first attribute access or call of any of them
imports every module of the group and puts the real objects in the module's globals in their place,
so later code (``isinstance``, ``except InvalidSignature:``) sees the real ones.  A capture without
certificates thus never imports cryptography (issue 9: start-up of the command-line csv path).
A module-level expression must not touch a placeholder (it would import at once): resolve such
constants inside the functions that use them.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_import(namespace: dict[str, Any], names: dict[str, tuple[str, str | None]]) -> Callable[[], None]:
    """Bind ``names`` (name -> (module, attribute or None for the module itself)) in ``namespace``
    to placeholders; return the function that imports them all (idempotent)."""
    done = False

    def load() -> None:
        nonlocal done
        if done:
            return
        for name, (module, attr) in names.items():
            obj = importlib.import_module(module)
            namespace[name] = getattr(obj, attr) if attr else obj
        done = True

    class _Placeholder:
        __slots__ = ("_name",)

        def __init__(self, name: str) -> None:
            self._name = name

        def __getattr__(self, attr: str) -> Any:
            load()
            return getattr(namespace[self._name], attr)

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            load()
            return namespace[self._name](*args, **kwargs)

        def __repr__(self) -> str:
            module, attr = names[self._name]
            return f"<not yet imported: {module}{'.' + attr if attr else ''}>"

    for name in names:
        namespace[name] = _Placeholder(name)
    return load
