"""The GluonNLP zoo (gluonnlp 0.10.0): BERT-style encoders, LSTM language models and the
Transformer translation model, each built by ``gluonnlp.model.get_model`` with
``dataset_name=None``, a small vocabulary built here, random weights and fixed seeds.

Every model is checked at two sequence lengths (and two batch sizes), with dynamic batch and
sequence axes. Models whose ``forward`` takes nested states (language models) or is not a
``HybridBlock`` (the translation model) are wrapped in a ``HybridBlock`` with flat inputs: the
graph exported is the model's own.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import mxnet as mx
import numpy as np

from .spec import Feed, ZooModel

SEED = 20261201
VOCAB_SIZE = 1000
#: (batch, sequence length) of the two feeds
SIZES = ((1, 16), (2, 24))


class GluonNLPMissing(RuntimeError):
    """A model the issue names that gluonnlp 0.10.0's package does not provide."""


def small_vocab() -> Any:
    import gluonnlp as nlp

    counts = nlp.data.count_tokens([f"w{i}" for i in range(VOCAB_SIZE - 4)])
    return nlp.Vocab(counts)


def _seeded() -> None:
    mx.random.seed(SEED)
    np.random.seed(SEED)


def _get(name: str, **kwargs: Any) -> Any:
    import gluonnlp as nlp

    from .spec import no_network

    with no_network(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nlp.model.get_model(name, dataset_name=None, pretrained=False, **kwargs)


def _finish(net: mx.gluon.HybridBlock, ctx: mx.Context, init: mx.init.Initializer,
            feed: Feed) -> mx.gluon.HybridBlock:
    net.collect_params().initialize(init, ctx=ctx)
    net.hybridize(static_alloc=True)
    net(*[mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in feed.values()])
    return net


def _tokens(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    # float32 token ids: MXNet's Embedding default, and what mx.onnx users feed
    return rng.integers(0, VOCAB_SIZE, shape).astype(np.float32)


def _lengths(rng: np.random.Generator, batch: int, length: int) -> np.ndarray:
    lengths = rng.integers(length // 2, length + 1, (batch,)).astype(np.float32)
    lengths[0] = length  # one full-length row
    return lengths


# --- BERT-style encoders ------------------------------------------------------------------


def _bert_feeds(token_types: bool) -> Callable[[np.random.Generator], list[Feed]]:
    def make(rng: np.random.Generator) -> list[Feed]:
        feeds = []
        for batch, length in SIZES:
            feed = {"inputs": _tokens(rng, (batch, length))}
            if token_types:
                feed["token_types"] = rng.integers(0, 2, (batch, length)).astype(np.float32)
            feed["valid_length"] = _lengths(rng, batch, length)
            feeds.append(feed)
        return feeds
    return make


class _RoBERTaEncoder(mx.gluon.HybridBlock):
    """RoBERTa and DistilBERT take no token types; their ``__call__`` passes an empty list in
    their place, which a traced graph cannot hold."""

    def __init__(self, model: mx.gluon.HybridBlock) -> None:
        super().__init__(prefix="")
        with self.name_scope():
            self.model = model

    def hybrid_forward(self, F: Any, inputs: Any, valid_length: Any) -> Any:
        return mx.gluon.HybridBlock.__call__(self.model, inputs, None, valid_length)


def _bert(name: str) -> ZooModel:
    typed = name.startswith(("bert_", "ernie_"))
    feeds = _bert_feeds(typed)

    def build(ctx: mx.Context) -> mx.gluon.HybridBlock:
        _seeded()
        kwargs: dict[str, Any] = {"vocab": small_vocab()}
        if typed:
            kwargs.update(use_pooler=True, use_decoder=False, use_classifier=False)
        elif name.startswith("roberta"):
            kwargs.update(use_decoder=False)
        model, _ = _get(name, **kwargs)
        net = model if typed else _RoBERTaEncoder(model)
        return _finish(net, ctx, mx.init.Normal(0.02), feeds(np.random.default_rng(SEED))[0])

    sequence = {0: "batch", 1: "sequence"}
    axes = {"inputs": sequence, "valid_length": {0: "batch"}}
    if typed:
        axes["token_types"] = sequence
    return ZooModel(name=name, family="nlp", source="gluonnlp", build=build, feeds=feeds,
                    dynamic_axes=axes, ci=name in CI_MODELS)


# --- LSTM language models -----------------------------------------------------------------


class _LanguageModelStep(mx.gluon.HybridBlock):
    """``(tokens, h0, c0, ...)`` -> ``(logits, h1, c1, ...)``: the language model's forward with
    its nested ``begin_state`` list flattened into inputs and outputs."""

    def __init__(self, model: mx.gluon.HybridBlock, nested: bool) -> None:
        super().__init__(prefix="")
        self._nested = nested  # AWD-LSTM: one [h, c] per layer; standard: one [h, c]
        with self.name_scope():
            self.model = model

    def hybrid_forward(self, F: Any, tokens: Any, *states: Any) -> Any:
        if self._nested:
            begin = [[states[i], states[i + 1]] for i in range(0, len(states), 2)]
        else:
            begin = list(states)
        logits, end = self.model(tokens, begin)
        flat = [s for pair in end for s in pair] if self._nested else list(end)
        return (logits, *flat)


def _state_shapes(model: Any, batch: int) -> list[tuple[int, ...]]:
    """The shapes of the flattened begin state at ``batch``."""
    state = model.begin_state(batch_size=batch, func=mx.nd.zeros)
    flat = [s for pair in state for s in pair] if isinstance(state[0], (list, tuple)) else state
    return [tuple(s.shape) for s in flat]


def _language_model(name: str) -> ZooModel:
    nested = name.startswith("awd_")
    built: dict[str, Any] = {}

    def model() -> Any:
        if "model" not in built:
            _seeded()
            # dropout=0: inference never drops, and StandardRNN's dropout calls nd.Dropout
            # inside hybrid_forward, which cannot be traced (a gluonnlp 0.10.0 bug)
            extra = {} if nested else {"dropout": 0.0, "hparam_allow_override": True}
            built["model"], _ = _get(name, vocab=small_vocab(), **extra)
        return built["model"]

    def feeds(rng: np.random.Generator) -> list[Feed]:
        out = []
        for batch, length in SIZES:
            feed = {"tokens": _tokens(rng, (length, batch))}  # time-major, as the model is
            for i, shape in enumerate(_state_shapes(model(), batch)):
                feed[f"state{i}"] = (0.5 * rng.standard_normal(shape)).astype(np.float32)
            out.append(feed)
        return out

    def build(ctx: mx.Context) -> mx.gluon.HybridBlock:
        from .spec import ZooInit

        net = _LanguageModelStep(model(), nested)
        _seeded()
        return _finish(net, ctx, ZooInit(magnitude=2.0), feeds(np.random.default_rng(SEED))[0])

    # the flattened begin state: one [h, c] of (layers, batch, hidden) for the standard LSTM,
    # one [h, c] per layer for AWD-LSTM (gluonnlp's own hyper-parameters say how many)
    from gluonnlp.model import language_model

    layers = getattr(language_model, f"{name}_hparams")["num_layers"]
    axes = {"tokens": {0: "sequence", 1: "batch"}}
    axes.update({f"state{i}": {1: "batch"} for i in range(2 * layers if nested else 2)})

    return ZooModel(name=name, family="nlp", source="gluonnlp", build=build, feeds=feeds,
                    dynamic_axes=axes, ci=name in CI_MODELS)


# --- the Transformer translation model ----------------------------------------------------


class _TransformerEncode(mx.gluon.HybridBlock):
    """NMTModel.encode: source embedding and encoder, as one graph."""

    def __init__(self, model: Any) -> None:
        super().__init__(prefix="")
        with self.name_scope():
            self.src_embed = model.src_embed
            self.encoder = model.encoder

    def hybrid_forward(self, F: Any, src: Any, valid_length: Any) -> Any:
        outputs, _ = self.encoder(self.src_embed(src), None, valid_length)
        return outputs


class _TransformerDecodeStep(mx.gluon.HybridBlock):
    """NMTModel.decode_step with its states as inputs and outputs: the embeddings of the steps
    so far, the encoder memory and its mask in; the next-token logits and the grown step
    embeddings out (TransformerOneStepDecoder.forward, traced)."""

    def __init__(self, model: Any) -> None:
        super().__init__(prefix="")
        with self.name_scope():
            self.tgt_embed = model.tgt_embed
            self.decoder = model.one_step_ahead_decoder
            self.tgt_proj = model.tgt_proj

    def hybrid_forward(self, F: Any, step: Any, previous: Any, memory: Any,
                       memory_mask: Any) -> Any:
        embedded = F.expand_dims(self.tgt_embed(step), axis=1)
        inputs = F.concat(previous, embedded, dim=1)
        # the decoder's HybridBlock.forward: its own forward builds the concat imperatively
        output, states, _ = mx.gluon.HybridBlock.forward(self.decoder, inputs,
                                                         [memory, memory_mask])
        return self.tgt_proj(output), states[0]


def _transformer_en_de_512(vocab: Any) -> Any:
    """``transformer_en_de_512`` as gluonnlp builds it, minus its vocabulary loading, which
    fails for ``dataset_name=None`` in 0.10.0 (``None + '_src'``)."""
    from gluonnlp.model import transformer
    from gluonnlp.model.translation import NMTModel

    hparams = transformer.transformer_en_de_hparams
    encoder, decoder, one_step = transformer.get_transformer_encoder_decoder(
        units=hparams["num_units"], hidden_size=hparams["hidden_size"],
        dropout=hparams["dropout"], num_layers=hparams["num_layers"],
        num_heads=hparams["num_heads"], max_src_length=530, max_tgt_length=549,
        scaled=hparams["scaled"])
    return NMTModel(src_vocab=vocab, tgt_vocab=vocab, encoder=encoder, decoder=decoder,
                    one_step_ahead_decoder=one_step, share_embed=hparams["share_embed"],
                    embed_size=hparams["embed_size"], tie_weights=hparams["tie_weights"],
                    embed_initializer=hparams["embed_initializer"], prefix="transformer_")


def _translation(name: str, part: str) -> ZooModel:
    units = 512
    built: dict[str, Any] = {}

    def model(ctx: mx.Context) -> Any:
        if "model" not in built:
            _seeded()
            net = _transformer_en_de_512(small_vocab())
            net.initialize(mx.init.Xavier(magnitude=2.0), ctx=ctx)
            built["model"] = net
        return built["model"]

    if part == "encoder":
        def feeds(rng: np.random.Generator) -> list[Feed]:
            return [{"src": _tokens(rng, (b, t)), "valid_length": _lengths(rng, b, t)}
                    for b, t in SIZES]
        axes = {"src": {0: "batch", 1: "sequence"}, "valid_length": {0: "batch"}}
        wrap: Callable[[Any], mx.gluon.HybridBlock] = _TransformerEncode
    else:
        def feeds(rng: np.random.Generator) -> list[Feed]:
            out = []
            for (batch, length), steps in zip(SIZES, (3, 5), strict=True):
                mask = (np.arange(length)[None, :] <
                        _lengths(rng, batch, length)[:, None]).astype(np.float32)
                out.append({
                    "step": _tokens(rng, (batch,)),
                    "previous": rng.standard_normal((batch, steps, units)).astype(np.float32),
                    "memory": rng.standard_normal((batch, length, units)).astype(np.float32),
                    "memory_mask": mask})
            return out
        axes = {"step": {0: "batch"}, "previous": {0: "batch", 1: "steps"},
                "memory": {0: "batch", 1: "sequence"},
                "memory_mask": {0: "batch", 1: "sequence"}}
        wrap = _TransformerDecodeStep

    def build(ctx: mx.Context) -> mx.gluon.HybridBlock:
        net = wrap(model(ctx))
        net.hybridize(static_alloc=True)
        feed = feeds(np.random.default_rng(SEED))[0]
        net(*[mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in feed.values()])
        return net

    return ZooModel(name=f"{name}_{part}", family="nlp", source="gluonnlp", build=build,
                    feeds=feeds, dynamic_axes=axes, ci=f"{name}_{part}" in CI_MODELS)


# --- named but not in the package ---------------------------------------------------------


def _missing(name: str, why: str) -> ZooModel:
    def build(ctx: mx.Context) -> mx.gluon.HybridBlock:
        raise GluonNLPMissing(why)

    def feeds(rng: np.random.Generator) -> list[Feed]:
        return [{"data": np.zeros((b, t), np.float32)} for b, t in SIZES]

    return ZooModel(name=name, family="nlp", source="gluonnlp", build=build, feeds=feeds,
                    dynamic_axes={"data": {0: "batch", 1: "sequence"}})


_NO_GPT2 = ("GPT-2 is not part of the gluonnlp 0.10.0 package: its model code lives in the "
            "repository's scripts/text_generation, which pip does not install")

#: in the CI subset (nox -s conformance)
CI_MODELS = {"bert_12_768_12", "standard_lstm_lm_200", "transformer_en_de_512_decoder_step"}

BERT_STYLE = ("bert_12_768_12", "bert_24_1024_16", "roberta_12_768_12", "roberta_24_1024_16",
              "distilbert_6_768_12", "ernie_12_768_12")
LANGUAGE_MODELS = ("standard_lstm_lm_200", "standard_lstm_lm_650", "standard_lstm_lm_1500",
                   "awd_lstm_lm_600", "awd_lstm_lm_1150")


def all_models() -> list[ZooModel]:
    try:
        import gluonnlp  # noqa: F401
    except ImportError:
        return []
    return ([_bert(n) for n in BERT_STYLE]
            + [_language_model(n) for n in LANGUAGE_MODELS]
            + [_translation("transformer_en_de_512", p) for p in ("encoder", "decoder_step")]
            + [_missing(n, _NO_GPT2) for n in ("gpt2_117m", "gpt2_345m")])
