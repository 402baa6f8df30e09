"""Workload transforms: pure functions WorkTable -> WorkTable (training, sparsity, dtype...)."""
