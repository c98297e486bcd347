"""Wave-equation processing operators and applications, under PyLops 2.x names
(``pylops.waveeqprocessing``).

    MDC                     Multi-dimensional convolution, distributed over G's blocks.
    MDD                     Multi-dimensional deconvolution (MDC and our LSQR/CGLS).
    PhaseShift              Phase shift in the f-k domain, distributed over frequencies.
    Deghosting              Single-component wavefield decomposition (our solvers).
    PressureToVelocity      Pressure to vertical velocity conversion, over frequencies.
    UpDownComposition2D/3D  Up-down wavefield composition, distributed over frequencies.
    WavefieldDecomposition  Multi-component wavefield decomposition (our solvers).
    BlendingContinuous      Continuous blending, distributed over sources.
    BlendingGroup           Group blending, distributed over sources.
    BlendingHalf            Half blending, distributed over sources.
    SeismicInterpolation    Seismic interpolation (our operators and solvers).
    Kirchhoff               Kirchhoff demigration/migration, distributed over shots.
    LSM                     Least-squares migration (Kirchhoff and our solvers).
    Marchenko               Marchenko redatuming (our MDC and solvers).
"""

from pylops_distributed.waveeqprocessing.blending import (BlendingContinuous, BlendingGroup,
                                                          BlendingHalf)
from pylops_distributed.waveeqprocessing.kirchhoff import Kirchhoff
from pylops_distributed.waveeqprocessing.lsm import LSM
from pylops_distributed.waveeqprocessing.marchenko import Marchenko
from pylops_distributed.waveeqprocessing.mdd import MDC, MDD
from pylops_distributed.waveeqprocessing.oneway import Deghosting, PhaseShift
from pylops_distributed.waveeqprocessing.seismicinterpolation import SeismicInterpolation
from pylops_distributed.waveeqprocessing.wavedecomposition import (PressureToVelocity,
                                                                   UpDownComposition2D,
                                                                   UpDownComposition3D,
                                                                   WavefieldDecomposition)

__all__ = ["MDC", "MDD", "PhaseShift", "Deghosting", "PressureToVelocity", "UpDownComposition2D",
           "UpDownComposition3D", "WavefieldDecomposition", "BlendingContinuous", "BlendingGroup",
           "BlendingHalf", "SeismicInterpolation", "Kirchhoff", "LSM", "Marchenko"]
