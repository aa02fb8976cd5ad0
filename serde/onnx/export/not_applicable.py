"""MXNet operators that have no place in an exported inference graph, each with its reason.

The report lists them as "not applicable" (not as missing converters). Matching is by exact
name first, then by the first matching pattern.
"""
from __future__ import annotations

import re

_EXACT = {
    "Custom": "runs user Python code (mx.operator.CustomOp): nothing to translate",
    "_CustomFunction": "runs user Python code (autograd.Function)",
    "_CachedOp": "a Gluon executor handle, not an operator of a saved graph",
    "_CachedOpThreadSafe": "a Gluon executor handle, not an operator of a saved graph",
    "_NDArray": "legacy Python callback operator",
    "_Native": "legacy Python callback operator",
    "_NoGradient": "autograd placeholder, never in a forward graph",
    "_CrossDeviceCopy": "moves data between devices; ONNX graphs have no devices",
    "_copyto": "moves data between devices; ONNX graphs have no devices",
    "_contrib_fft": "MXNet implements it for GPU only, so there is no MXNet result to match here",
    "_contrib_ifft": "MXNet implements it for GPU only, so there is no MXNet result to match here",
    "_contrib_MultiBoxTarget": "builds SSD training targets (labels and masks), training only",
    "_contrib_calibrate_entropy": "quantization calibration step, run before export",
    "_shuffle": "a fresh random permutation per call: no ONNX op, training-data augmentation",
    "_sample_unique_zipfian": "candidate sampling for sampled-softmax training",
    "cast_storage": "converts dense/sparse storage; ONNX tensors are dense",
    "_square_sum": "registered for row-sparse storage only (no dense kernel in MXNet 1.9.1)",
    "_contrib_SparseEmbedding": "row-sparse gradient variant of Embedding (training)",
    "_contrib_getnnz": "counts stored entries of a CSR matrix (sparse storage)",
    "_contrib_edge_id": "DGL graph-storage op on CSR matrices",
    "_contrib_dgl_adjacency": "DGL graph-storage op on CSR matrices",
    "_contrib_dgl_subgraph": "DGL graph-storage op on CSR matrices",
    "_contrib_dgl_graph_compact": "DGL graph-storage op on CSR matrices",
    "_contrib_dgl_csr_neighbor_uniform_sample": "DGL graph sampling on CSR matrices",
    "_contrib_dgl_csr_neighbor_non_uniform_sample": "DGL graph sampling on CSR matrices",
    "_contrib_index_copy": "in-place style update used for training buffers",
    "_contrib_hawkesll": "log-likelihood of a Hawkes process for training its parameters",
    "_scatter_elemwise_div": "row-sparse scatter variant (sparse storage)",
    "_scatter_minus_scalar": "row-sparse scatter variant (sparse storage)",
    "_scatter_plus_scalar": "row-sparse scatter variant (sparse storage)",
    "_contrib_allclose": "a test utility comparing two arrays, not a model layer",
    "_npi_share_memory": "asks whether two NDArrays alias memory: no meaning in ONNX",
    "_npx_constraint_check": "raises a Python error when a condition fails (no ONNX effect)",
    "_set_value": "in-place assignment of an NDArray",
    "_imdecode": "decodes image bytes (JPEG/PNG) outside the model",
    "_cvimdecode": "decodes image bytes with OpenCV outside the model",
    "_cvimread": "reads an image file from disk",
    "_cvimresize": "OpenCV preprocessing outside the model",
    "_cvcopyMakeBorder": "OpenCV preprocessing outside the model",
    "_grad_add": "gradient accumulation (training)",
    "_identity_with_attr_like_rhs": "autograd helper, never in a saved forward graph",
    "_zeros_without_dtype": "autograd helper, never in a saved forward graph",
    "_split_v2_backward": "gradient operator",
    "_broadcast_backward": "gradient operator",
    "_slice_assign": "in-place slice assignment of an NDArray",
    "_slice_assign_scalar": "in-place slice assignment of an NDArray",
    "_scatter_set_nd": "in-place scatter into an NDArray",
    "_npi_boolean_mask_assign_scalar": "in-place masked assignment of an NDArray",
    "_npi_boolean_mask_assign_tensor": "in-place masked assignment of an NDArray",
    "_onehot_encode": "legacy NDArray-only op: MXNet 1.9.1's graph executor crashes on it, so "
                      "no saved graph can hold it",
    "fill_element_0index": "legacy NDArray-only op: MXNet 1.9.1's graph executor crashes on "
                           "it, so no saved graph can hold it",
    "reset_arrays": "zeroes buffers in place (optimizer utility)",
}
_PATTERNS = [
    (r"^_backward_|_backward$|^_contrib_backward_|^_npi_backward_",
     "gradient operator: exists only in training graphs"),
    (r"_update$|_update_phase\d$|^_contrib_\w*update|^_mp_|^_multi_|^multi_|^preloaded_multi",
     "optimizer update step: training only"),
    (r"^_sparse_|^_contrib_sparse", "sparse storage op; ONNX tensors are dense"),
    (r"^_image_", "image preprocessing / augmentation (mx.image): runs before the model"),
    (r"^_random_pdf_|^_sample_|^_random_\w*(gamma|poisson|binomial|exponential|randint)|"
     r"^_npi_(bernoulli|choice|exponential|gamma|gumbel|laplace|logistic|multinomial|normal|"
     r"pareto|rayleigh|uniform|weibull)|^_random_normal_like|^_random_exponential_like",
     "random sampler or its density with per-element parameters: training-time sampling; "
     "ONNX's only samplers are fixed-law RandomNormal/RandomUniform/Multinomial"),
    (r"^_npi_(svd|eig|eigh|eigvals|eigvalsh|cholesky|solve|tensorinv|tensorsolve|pinv)|"
     r"^_linalg_(gelqf|syevd|potrf|potri|inverse|trsm)$",
     "matrix factorisation or solve: ONNX has no decomposition or triangular-solve op"),
    (r"^_npi_(unique|bincount|percentile|delete|insert_\w+|histogram)|^_histogram$|"
     r"^_npx_nonzero$",
     "a data-dependent output size with NumPy semantics beyond ONNX's Unique/NonZero"),
    (r"^_npi_(lcm|lcm_scalar|ediff1d|polyval|nan_to_num|powerd|diag_indices_from|"
     r"normal_n|uniform_n)$",
     "NumPy-interface helper with no ONNX counterpart in an inference graph"),
]


def not_applicable_reason(op: str) -> str | None:
    """Why ``op`` has no ONNX export, or None when it should have a converter."""
    if op in _EXACT:
        return _EXACT[op]
    for pattern, reason in _PATTERNS:
        if re.search(pattern, op):
            return reason
    return None
