"""Accord: emergency information sharing and joint response for the SCO member states.

One thing happens on import, before anything loads numpy: OpenBLAS is told which kernels to use on x86-64 machines
with AVX2 and FMA (the Haswell kernels, which every such CPU runs). Left to choose by the CPU, it picks other kernels
on AVX-512 machines, whose sums are rounded in another order; the outbreak detectors' model fits on nearly singular
series (a trend over weeks of zeros) then end differently on different machines, and no longer as R's do. An
operator's own `OPENBLAS_CORETYPE` is kept. See docs/surveillance.md, "Same results on every machine".
"""

from __future__ import annotations

import os
from pathlib import Path


def _pin_blas_kernels() -> None:
    if "OPENBLAS_CORETYPE" in os.environ:
        return
    try:
        cpu = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    flags = next((line.split(":", 1)[1].split() for line in cpu.splitlines() if line.startswith("flags")), [])
    if "avx2" in flags and "fma" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"


_pin_blas_kernels()
