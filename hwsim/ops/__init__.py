"""Device-independent work counting, one module per op family (see docs/counting.md).

Importing this package registers every family with :mod:`hwsim.ops.registry`.
"""

from hwsim.ops import (  # noqa: F401  (imported for their registrations)
    attention,
    conv,
    data_movement,
    elementwise,
    matmul,
    misc,
    ml,
    normalization,
    pool,
    quantize,
    recurrent,
    reduce,
    sequence,
    shape,
)
from hwsim.ops.count import count_node, count_work
from hwsim.ops.registry import is_supported, supported_ops
from hwsim.ops.work import OpWork, WorkKind, WorkTable

__all__ = ["OpWork", "WorkKind", "WorkTable", "count_node", "count_work", "is_supported", "supported_ops"]
