"""Make the third-party Core ML fixtures of the import suite: small PyTorch modules converted
by coremltools' own converter, in both formats, with the inputs and the torch outputs (the
oracle) beside them. CI reads the committed files and needs no torch.

    pip install torch==2.13.0 coremltools==9.0
    python -m conformance.coreml_fixtures.make_fixtures

writes ``<name>.mlmodel`` (NeuralNetwork, iOS 14 rank-N layers), ``<name>.mlpackage`` (ML
Program, iOS 15) and ``<name>.npz`` (``input_*`` and ``output_*`` arrays) here.
"""
from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261202


def _modules() -> dict[str, tuple[Callable[[], object], list[tuple[int, ...]]]]:
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(x + self.bn2(self.conv2(y)))

    class Upsample(nn.Module):
        def __init__(self, mode: str) -> None:
            super().__init__()
            self.conv, self.mode = nn.Conv2d(3, 4, 3, padding=1), mode

        def forward(self, x):
            kwargs = {"align_corners": False} if self.mode == "bilinear" else {}
            return nn.functional.interpolate(self.conv(x), scale_factor=2, mode=self.mode,
                                             **kwargs)

    class DeconvPadPermute(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.deconv = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)

        def forward(self, x):
            y = nn.functional.pad(self.deconv(x), (1, 2, 0, 1))
            return y.permute(0, 2, 3, 1)

    class Recurrent(nn.Module):
        def __init__(self, kind: str, bidirectional: bool = False) -> None:
            super().__init__()
            cls = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
            self.rnn = cls(6, 5, batch_first=True, bidirectional=bidirectional)

        def forward(self, x):
            return self.rnn(x)[0]

    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(12, 16), nn.LayerNorm(16), nn.GELU(),
                                     nn.Linear(16, 4))

        def forward(self, x):
            return self.net(x)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                                    batch_first=True)

        def forward(self, x):
            return self.block(x)

    def separable(cin: int, cout: int, stride: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin), nn.BatchNorm2d(cin),
                             nn.ReLU6(), nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout),
                             nn.ReLU6())

    mobile = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU6(),
                           separable(8, 16, 2), separable(16, 16, 1),
                           nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))
    audio = nn.Sequential(nn.Conv1d(1, 8, 9, stride=2, padding=4), nn.ReLU(),
                          nn.MaxPool1d(2), nn.Conv1d(8, 8, 5, padding=2), nn.ReLU(),
                          nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(8, 3))
    cnn = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3),
                        nn.ReLU(), nn.Flatten(), nn.Linear(8 * 5 * 5, 10), nn.Softmax(dim=1))
    return {
        "plain_cnn": (lambda: cnn, [(2, 3, 16, 16)]),
        "residual_block": (Residual, [(2, 8, 10, 10)]),
        "depthwise_separable": (lambda: separable(4, 8, 1), [(2, 4, 12, 12)]),
        "upsample_nearest": (lambda: Upsample("nearest"), [(2, 3, 6, 7)]),
        "upsample_bilinear": (lambda: Upsample("bilinear"), [(2, 3, 6, 7)]),
        "deconv_pad_permute": (DeconvPadPermute, [(2, 3, 5, 5)]),
        "lstm": (lambda: Recurrent("lstm"), [(2, 7, 6)]),
        "gru": (lambda: Recurrent("gru"), [(2, 7, 6)]),
        "bidirectional_lstm": (lambda: Recurrent("lstm", True), [(2, 7, 6)]),
        "mlp_layernorm_gelu": (Mlp, [(3, 12)]),
        "transformer_encoder": (Encoder, [(2, 5, 16)]),
        "mobilenet_like": (lambda: mobile, [(2, 3, 32, 32)]),
        "audio_conv1d": (lambda: audio, [(2, 1, 64)]),
    }


def make(names: list[str] | None = None) -> list[str]:
    import coremltools as ct
    import torch

    made = []
    torch.backends.mha.set_fastpath_enabled(False)  # the fused encoder op has no converter
    for name, (build, shapes) in _modules().items():
        if names and name not in names:
            continue
        torch.manual_seed(SEED)
        module = build().eval()
        for m in module.modules():  # non-trivial BatchNorm statistics
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
        rng = np.random.default_rng(SEED)
        inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        with torch.no_grad():
            traced = torch.jit.trace(module, tuple(torch.from_numpy(x) for x in inputs))
            outputs = traced(*[torch.from_numpy(x) for x in inputs])
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        types = [ct.TensorType(name=f"input_{k}", shape=x.shape) for k, x in enumerate(inputs)]
        for fmt, target, suffix in (("neuralnetwork", ct.target.iOS14, ".mlmodel"),
                                    ("mlprogram", ct.target.iOS15, ".mlpackage")):
            model = ct.convert(traced, inputs=types, convert_to=fmt,
                               minimum_deployment_target=target,
                               compute_precision=ct.precision.FLOAT32 if fmt == "mlprogram"
                               else None)
            path = HERE / f"{name}{suffix}"
            if path.is_dir():
                shutil.rmtree(path)
            model.save(str(path))
        spec = model.get_spec()
        out_names = [o.name for o in spec.description.output]
        np.savez(HERE / f"{name}.npz",
                 **{f"input_{k}": x for k, x in enumerate(inputs)},
                 **{f"output_{n}": o.numpy() for n, o in zip(out_names, outputs, strict=True)})
        made.append(name)
        print(f"made {name}: inputs {shapes}, outputs {[tuple(o.shape) for o in outputs]}",
              flush=True)
    return made


if __name__ == "__main__":
    make(sys.argv[1:] or None)
