/* Tangent: dense tensors with automatic differentiation for C.
 * The umbrella header; see README.md for a tour. */
#ifndef TANGENT_TANGENT_H
#define TANGENT_TANGENT_H

#include "tangent/tensor.h"
#include "tangent/device.h"
#include "tangent/io.h"
#include "tangent/autodiff.h"
#include "tangent/einsum.h"
#include "tangent/linalg.h"
#include "tangent/fft.h"
#include "tangent/nn.h"
#include "tangent/op.h"
#include "tangent/sizes.h"

#endif
