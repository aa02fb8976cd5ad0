"""Opt-in attachment of serde to the mxnet namespace, as the design note sketches."""
from __future__ import annotations

import sys


def install() -> list[str]:
    """Attach ``mx.serde``, ``mx.gluon.import_from``/``export_to`` and
    ``mx.mod.Module.import_from``/``export_to``. Existing MXNet attributes are never replaced.
    Returns the attribute paths that were added."""
    import mxnet as mx

    from . import gluon as serde_gluon
    from . import module as serde_module

    serde = sys.modules[__package__]
    added = []

    def attach(owner, name, value, label):
        if not hasattr(owner, name):
            setattr(owner, name, value)
            added.append(label)

    attach(mx, "serde", serde, "mx.serde")
    attach(mx.gluon, "import_from", serde_gluon.import_from, "mx.gluon.import_from")
    attach(mx.gluon, "export_to", serde_gluon.export, "mx.gluon.export_to")
    attach(mx.mod.Module, "import_from", staticmethod(serde_module.import_from),
           "mx.mod.Module.import_from")

    def export_to(self, output_format="onnx", *, filename_prefix, **kwargs):
        return serde_module.export(self, None, output_format, filename_prefix=filename_prefix,
                                   **kwargs)

    attach(mx.mod.Module, "export_to", export_to, "mx.mod.Module.export_to")
    return added
