"""Shape rules for contrib (com.microsoft), sequence, ONNX-ML and other schema-less ops.

Imported at the end of :mod:`hwsim.graph.shape_rules`; registers with its ``shape_rule``.
"""
