"""Suite-wide settings.

One intra-op thread: the tiny models' matrices are far too small to gain from
a second thread, and with two threads OpenMP spin-waits make the suite ~40x
slower whenever another process shares the 2 cores (measured; see
docs/performance.md).
"""

import torch

torch.set_num_threads(1)
