"""The export takes torch's NaN guards out of the reader's attention: same logits, less work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from training.export_reader import SHIP, drop_nan_guards


def _guarded_softmax(path: Path) -> None:
    """x -> Softmax -> Where(IsNaN(s), 0, s) -> Mul by 2: the pattern torch exports."""
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], axis=-1),
        helper.make_node("IsNaN", ["s"], ["nan"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", 1, [], [0.0])),
        helper.make_node("Where", ["nan", "zero", "s"], ["guarded"]),
        helper.make_node("Constant", [], ["two"], value=helper.make_tensor("t", 1, [], [2.0])),
        helper.make_node("Mul", ["guarded", "two"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "guarded",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_the_guard_goes_and_the_output_stays_the_same(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    _guarded_softmax(path)
    x = np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32)
    before = _run(path, x)
    assert drop_nan_guards(path) == 3  # IsNaN, Where and the zero they used
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ops == ["Softmax", "Constant", "Mul"]
    assert np.array_equal(_run(path, x), before)


def test_the_shipped_reader_has_no_nan_guard() -> None:
    ops = {node.op_type for node in onnx.load(str(SHIP / "model.onnx")).graph.node}
    assert "Softmax" in ops and "IsNaN" not in ops
