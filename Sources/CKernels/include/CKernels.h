// Umbrella header of the CKernels module: every kernel's declarations.
#include "half_convert.h"
#include "linear_combine.h"
#include "sparse_combine.h"
#include "adamw.h"
#include "silu.h"
#include "sincos.h"
#include "vector_width.h"
#include "conv3x3.h"
