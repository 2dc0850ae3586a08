"""Which of our ops `torch.use_deterministic_algorithms(True)` lets through on CUDA.

`deterministic=true` (the default; Lightning calls ``use_deterministic_algorithms``) makes
PyTorch raise a RuntimeError for an op that has no deterministic CUDA kernel, and switch
to a slower deterministic kernel for some others. Its docstring lists both groups; the two
tables below transcribe the entries as the ATen ops that carry them, with the docstring
phrase beside each, so a test can (1) check that every phrase is still in the installed
torch's docstring and (2) record every ATen op our models, losses and σ probes run
(`record_ops`, on the CPU) and fail if one is in `CUDA_RAISES`. A GPU is needed to run
the kernels themselves: `make gpu-check` does that.

What the audit found and how each is handled (docs/reproduce-cifar.md):
  - ``AdaptiveAvgPool2d`` backward raises: ResNet-18 pools with a plain ``mean`` instead.
  - ``NLLLoss`` is listed as raising; the kernel that raises is ``nll_loss2d_forward``
    (spatial targets, summed or averaged). Our cross-entropy is per sample
    (``reduction="none"``) on (batch, classes) logits, so it runs ``nll_loss_forward``:
    the test asserts that ``nll_loss2d`` never appears.
  - MaxPool2d (VGG-19), convolutions, ``gather`` (max-pool's double backward in the σ
    probes) and the embedding backward (DistilBERT) have deterministic CUDA kernels,
    chosen under the flag (`CUDA_SLOWER`).
  - cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG`` set before its first call: `prepare` sets
    it (Lightning sets it too, but only when the Trainer is built).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from torch.utils._python_dispatch import TorchDispatchMode

# ATen op (prefix before the overload) → the docstring entry that names it.
CUDA_RAISES: dict[str, str] = {
    "avg_pool3d_backward": "torch.nn.AvgPool3d",
    "_adaptive_avg_pool2d_backward": "torch.nn.AdaptiveAvgPool2d",
    "adaptive_avg_pool2d_backward": "torch.nn.AdaptiveAvgPool2d",
    "_adaptive_avg_pool3d_backward": "torch.nn.AdaptiveAvgPool3d",
    "adaptive_max_pool2d_backward": "torch.nn.AdaptiveMaxPool2d",
    "fractional_max_pool2d_backward": "torch.nn.FractionalMaxPool2d",
    "fractional_max_pool3d_backward": "torch.nn.FractionalMaxPool3d",
    "max_unpool2d": "torch.nn.MaxUnpool2d",
    "max_unpool3d": "torch.nn.MaxUnpool3d",
    "upsample_linear1d_backward": "torch.nn.functional.interpolate",
    "upsample_bilinear2d_backward": "torch.nn.functional.interpolate",
    "upsample_bicubic2d_backward": "torch.nn.functional.interpolate",
    "upsample_trilinear3d_backward": "torch.nn.functional.interpolate",
    "reflection_pad1d_backward": "torch.nn.ReflectionPad1d",
    "reflection_pad2d_backward": "torch.nn.ReflectionPad2d",
    "reflection_pad3d_backward": "torch.nn.ReflectionPad3d",
    "nll_loss2d_forward": "torch.nn.NLLLoss",
    "_ctc_loss_backward": "torch.nn.CTCLoss",
    "_embedding_bag_backward": "torch.nn.EmbeddingBag",
    "put_": "torch.Tensor.put_",
    "histc": "torch.histc",
    "bincount": "torch.bincount",
    "median": "torch.median",
    "grid_sampler_2d_backward": "torch.nn.functional.grid_sample",
}

# ATen op → the docstring entry: allowed under the flag, which picks a deterministic kernel.
CUDA_SLOWER: dict[str, str] = {
    "convolution": "torch.nn.Conv2d",
    "convolution_backward": "torch.nn.Conv2d",
    "replication_pad2d_backward": "torch.nn.ReplicationPad2d",
    "cumsum": "torch.cumsum",
    "index_put": "torch.Tensor.index_put",
    "index_put_": "torch.Tensor.index_put",
    "scatter_add": "torch.Tensor.scatter_add_",
    "scatter_add_": "torch.Tensor.scatter_add_",
    "gather": "torch.gather",
    "index_add": "torch.index_add",
    "index_add_": "torch.index_add",
    "index_select_backward": "torch.index_select",
    "repeat_interleave": "torch.repeat_interleave",
    "index_copy": "torch.Tensor.index_copy",
    "index_copy_": "torch.Tensor.index_copy",
    "scatter": "torch.Tensor.scatter",
    "scatter_reduce": "torch.Tensor.scatter_reduce",
    "max_pool3d_with_indices_backward": "torch.nn.MaxPool3d",
    "embedding_dense_backward": "torch.nn.Embedding",
}

CUBLAS_WORKSPACE = ":4096:8"  # one of the two settings cuBLAS documents as reproducible


def prepare() -> None:
    """Set ``CUBLAS_WORKSPACE_CONFIG`` unless the user did: before any cuBLAS call, so that
    a process whose first run was `deterministic=false` still gets the reproducible
    workspace later (cuBLAS reads it once). Harmless on the CPU."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        self.ops.add(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def record_ops(fn: Callable[[], object]) -> set[str]:
    """The ATen ops (names without overload) that `fn()` dispatches, backward included."""
    with _Recorder() as rec:
        fn()
    return rec.ops


def flagged(ops: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(ops that raise on CUDA under the flag, ops that get a slower deterministic kernel)."""
    return (
        {op: CUDA_RAISES[op] for op in sorted(ops) if op in CUDA_RAISES},
        {op: CUDA_SLOWER[op] for op in sorted(ops) if op in CUDA_SLOWER},
    )
