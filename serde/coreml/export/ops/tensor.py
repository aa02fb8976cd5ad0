"""Shape and layout: reshape, transpose, concat, slicing, splitting, padding and resizing."""
from __future__ import annotations

from ..context import CoremlContext, MxNode, blob_shape
from ..registry import register

#: Core ML permute and slice name the rank-5 blob's axes as (Seq, C, H, W) = 0..3.
_PERMUTE_INDEX = {"C": 1, "H": 2, "W": 3}
_SLICE_AXIS = {"C": "channel", "H": "height", "W": "width"}


def _out_chw(node: MxNode, ctx: CoremlContext, k: int = 0) -> tuple[int, int, int]:
    shape = ctx.shape(node.outputs[k])
    chw = blob_shape(shape)
    if chw is None:
        raise node.fail(f"makes a rank-{len(shape)} tensor; Core ML's fixed-rank layers hold "
                        f"rank 1 to 4 (batch first)")
    if shape[0] != ctx.shape(node.inputs[0])[0]:
        raise node.fail("changes the batch axis, which Core ML's fixed-rank layers keep")
    return chw


@register("Reshape", "reshape", "expand_dims", "squeeze", "reshape_like", "_npx_reshape")
def reshape(node: MxNode, ctx: CoremlContext) -> list[str]:
    """Every reshape as the MXNet output shape it infers: a reshape of (C, H, W)."""
    chw = _out_chw(node, ctx)
    if chw == ctx.blob(node.inputs[0]):
        return [node.inputs[0]]
    return [ctx.layer("add_reshape", node.name, node.outputs[0], chw, input_name=node.inputs[0],
                      target_shape=chw, mode=0)]


@register("transpose")
def transpose(node: MxNode, ctx: CoremlContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0]))
    axes = tuple(int(a) % rank for a in node.tuple("axes", ())) or tuple(reversed(range(rank)))
    if axes[0] != 0:
        raise node.fail(f"axes {axes} move the batch axis; Core ML permutes within (C, H, W)")
    names = [ctx.axis(node, node.inputs[0], a) for a in axes[1:]]
    if rank == 2:
        return [node.inputs[0]]
    if rank == 3:  # (N, A, B) lives as (A, 1, B): its transpose swaps C and W
        dims = (0, 3, 2, 1) if names == ["W", "C"] else (0, 1, 2, 3)
    else:
        dims = (0, *(_PERMUTE_INDEX[n] for n in names))
    if dims == (0, 1, 2, 3):
        return [node.inputs[0]]
    before = ctx.blob(node.inputs[0])
    after = tuple(before[d - 1] for d in dims[1:])
    return [ctx.layer("add_permute", node.name, node.outputs[0], after,
                      input_name=node.inputs[0], dim=dims)]


def _swap_to_channels(ctx: CoremlContext, node: MxNode, tensor: str, axis: str) -> str:
    """Permute ``axis`` into C (its own inverse)."""
    if axis == "C":
        return tensor
    dims = (0, 2, 1, 3) if axis == "H" else (0, 3, 2, 1)
    c, h, w = ctx.blob(tensor)
    chw = (h, c, w) if axis == "H" else (w, h, c)
    return ctx.layer("add_permute", f"{node.name}_to_{axis}", None, chw, input_name=tensor,
                     dim=dims)


@register("Concat", "concat")
def concat(node: MxNode, ctx: CoremlContext) -> list[str]:
    axis = ctx.axis(node, node.inputs[0], node.int("dim", 1))
    if len(node.inputs) == 1:
        return [node.inputs[0]]
    chw = _out_chw(node, ctx)
    if axis == "C":
        return [ctx.layer("add_elementwise", node.name, node.outputs[0], chw,
                          input_names=list(node.inputs), mode="CONCAT")]
    moved = [_swap_to_channels(ctx, node, t, axis) for t in node.inputs]
    swapped = (chw[1], chw[0], chw[2]) if axis == "H" else (chw[2], chw[1], chw[0])
    joined = ctx.layer("add_elementwise", f"{node.name}_concat", None, swapped,
                       input_names=moved, mode="CONCAT")
    dims = (0, 2, 1, 3) if axis == "H" else (0, 3, 2, 1)
    return [ctx.layer("add_permute", node.name, node.outputs[0], chw, input_name=joined,
                      dim=dims)]


def _slice(ctx: CoremlContext, node: MxNode, tensor: str, axis: str, begin: int, end: int,
           step: int, out: str | None) -> str:
    c, h, w = ctx.blob(tensor)
    size = {"C": c, "H": h, "W": w}[axis]
    begin, end, _ = slice(begin, end, step).indices(size)
    count = max(0, -(-(end - begin) // step))
    if count == size and step == 1:
        return tensor
    if step < 0:
        raise node.fail("a reversing slice has no Core ML fixed-rank layer")
    chw = {"C": (count, h, w), "H": (c, count, w), "W": (c, h, count)}[axis]
    return ctx.layer("add_slice", f"{node.name}_{axis}", out, chw, input_name=tensor,
                     axis=_SLICE_AXIS[axis], start_index=begin, end_index=end, stride=step)


@register("slice_axis")
def slice_axis(node: MxNode, ctx: CoremlContext) -> list[str]:
    axis = ctx.axis(node, node.inputs[0], node.int("axis"))
    end = node.optional("end")
    size = ctx.shape(node.inputs[0])[node.int("axis")]
    return [_slice(ctx, node, node.inputs[0], axis, node.int("begin"),
                   size if end is None else int(end), 1, node.outputs[0])]


@register("slice", "crop")
def slice_(node: MxNode, ctx: CoremlContext) -> list[str]:
    shape = ctx.shape(node.inputs[0])
    begin, end = node.tuple("begin"), node.tuple("end")
    step = node.tuple("step", ()) or (None,) * len(begin)
    cuts = []
    for k, (b, e, s) in enumerate(zip(begin, end, step, strict=False)):
        b = 0 if b is None else int(b)
        e = shape[k] if e is None else int(e)
        s = 1 if s is None else int(s)
        if slice(b, e, s).indices(shape[k]) != (0, shape[k], 1):
            cuts.append((k, b, e, s))
    tensor = node.inputs[0]
    for i, (k, b, e, s) in enumerate(cuts):
        out = node.outputs[0] if i == len(cuts) - 1 else None
        tensor = _slice(ctx, node, tensor, ctx.axis(node, node.inputs[0], k), b, e, s, out)
    return [tensor]


@register("SliceChannel", "split")
def split(node: MxNode, ctx: CoremlContext) -> list[str]:
    axis_index = node.int("axis", 1)
    axis = ctx.axis(node, node.inputs[0], axis_index)
    parts = node.int("num_outputs")
    size = ctx.shape(node.inputs[0])[axis_index]
    # squeeze_axis drops the split axis from each part: the shape conformance after the
    # converter (convert._conform) reshapes every part to MXNet's shape
    step = size // parts
    if axis == "C":
        c, h, w = ctx.blob(node.inputs[0])
        outs = list(node.outputs[:parts])
        for out in outs:
            ctx.made(out, (step, h, w))
        ctx.builder.add_split(name=ctx.unique_name(node.name), input_name=node.inputs[0],
                              output_names=outs)
        return outs
    return [_slice(ctx, node, node.inputs[0], axis, k * step, (k + 1) * step, 1,
                   node.outputs[k]) for k in range(parts)]


@register("Pad", "pad")
def pad(node: MxNode, ctx: CoremlContext) -> list[str]:
    widths = [int(v) for v in node.tuple("pad_width")]
    if len(widths) != 8 or any(widths[:4]):
        raise node.fail("Core ML pads H and W of an (N, C, H, W) input only")
    top, bottom, left, right = widths[4:]
    mode = node.str("mode", "constant")
    kinds = {"constant": "constant", "edge": "replication", "reflect": "reflection"}
    if mode not in kinds:
        raise node.fail(f"pad mode {mode!r} has no Core ML padding")
    return [ctx.layer("add_padding", node.name, node.outputs[0], _out_chw(node, ctx),
                      input_name=node.inputs[0], top=top, bottom=bottom, left=left,
                      right=right, value=node.float("constant_value", 0.0),
                      padding_type=kinds[mode])]


@register("UpSampling")
def upsampling(node: MxNode, ctx: CoremlContext) -> list[str]:
    if node.str("sample_type", "nearest") != "nearest" or len(node.inputs) != 1:
        raise node.fail("Core ML converts nearest UpSampling of one input (bilinear "
                        "UpSampling is a learned deconvolution)")
    scale = node.int("scale")
    return [ctx.layer("add_upsample", node.name, node.outputs[0], _out_chw(node, ctx),
                      input_name=node.inputs[0], scaling_factor_h=scale,
                      scaling_factor_w=scale, mode="NN")]


@register("_contrib_BilinearResize2D")
def bilinear_resize(node: MxNode, ctx: CoremlContext) -> list[str]:
    c, h, w = ctx.blob(node.inputs[0])
    chw = _out_chw(node, ctx)
    mode = node.str("mode", "size")
    if mode not in ("size", "odd_scale", "to_even_down", "to_even_up", "to_odd_down",
                    "to_odd_up", "like"):
        raise node.fail(f"BilinearResize2D mode {mode!r} is not converted")
    align = node.bool("align_corners", True)
    if chw[1] % h == 0 and chw[2] % w == 0:
        ctx.require(4)  # the upsample layer's corner-alignment modes came with iOS 13
        return [ctx.layer("add_upsample", node.name, node.outputs[0], chw,
                          input_name=node.inputs[0], scaling_factor_h=chw[1] // h,
                          scaling_factor_w=chw[2] // w, mode="BILINEAR",
                          linear_upsample_mode="ALIGN_CORNERS_TRUE" if align
                          else "ALIGN_CORNERS_FALSE")]
    if not align:
        raise node.fail("align_corners=False to a size that is not a whole multiple: Core "
                        "ML's resize-bilinear has no half-pixel sampling")
    ctx.require(3)  # the resize-bilinear layer (iOS 12) samples any target size
    return [ctx.layer("add_resize_bilinear", node.name, node.outputs[0], chw,
                      input_name=node.inputs[0], target_height=chw[1], target_width=chw[2],
                      mode="STRICT_ALIGN_ENDPOINTS_MODE")]
