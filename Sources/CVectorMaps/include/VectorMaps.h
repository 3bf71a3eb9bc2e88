// Contiguous runs of the elementary functions that take most time over large arrays, of the
// four arithmetic operations (with an operand that may be one value for all), and of sums of
// rows into accumulators (a reduction over a leading or middle axis), and of small matrix
// products (below a BLAS call's fixed cost), compiled
// three times (baseline x86-64, AVX2, AVX-512) and chosen by the processor at run time. Each
// variant performs the same IEEE operations in the same order on every element (no fused
// multiply-adds), so every variant gives the bits of FluxionKernels' one-element forms
// (`Float.loopExp`, `Double.loopTanh`, …); only the number of lanes differs.

#ifndef FLUXION_VECTOR_MAPS_H
#define FLUXION_VECTOR_MAPS_H

/// A function over `count` contiguous elements from `source` into `destination` (which may be
/// `source`).
typedef void (*fluxion_map_f32)(const float *source, float *destination, long count);
typedef void (*fluxion_map_f64)(const double *source, double *destination, long count);

/// An arithmetic operation over `count` elements: `destination[k] = a[k·strideA] ∘ b[k·strideB]`,
/// each stride 0 (one value for every element) or 1, not both 0.
typedef void (*fluxion_zip_f32)(const float *a, long strideA, const float *b, long strideB, float *destination, long count);
typedef void (*fluxion_zip_f64)(const double *a, long strideA, const double *b, long strideB, double *destination, long count);

/// Sums `rows` rows of `count` contiguous elements, `rowStride` elements apart, into float64
/// accumulators: for each row in order, `sum[k] += x[row·rowStride + k]`. With `error` not
/// NULL (float64 only), each addition is Knuth's TwoSum and its rounding error is added into
/// `error[k]`.
typedef void (*fluxion_sum_rows_f32)(const float *x, long rows, long rowStride, long count, double *sum);
typedef void (*fluxion_sum_rows_f64)(const double *x, long rows, long rowStride, long count, double *sum, double *error);

/// A small matrix product `c[m×n] = a[m×k] · b[k×n]`: element (i, p) of `a` at
/// `a[i·rowStrideA + p·columnStrideA]`, rows of `b` contiguous and `ldb` elements apart, `c`
/// contiguous. Each element of `c` adds its k products in order from zero, one rounding per
/// multiplication and per addition.
typedef void (*fluxion_product_f32)(long m, long n, long k, const float *a, long rowStrideA, long columnStrideA,
                                    const float *b, long ldb, float *c);
typedef void (*fluxion_product_f64)(long m, long n, long k, const double *a, long rowStrideA, long columnStrideA,
                                    const double *b, long ldb, double *c);

/// One instruction set's compilation of the functions.
typedef struct {
    fluxion_map_f32 exp_f32, tanh_f32, sigmoid_f32;
    fluxion_map_f64 exp_f64, tanh_f64, sigmoid_f64;
    fluxion_zip_f32 add_f32, sub_f32, mul_f32, div_f32;
    fluxion_zip_f64 add_f64, sub_f64, mul_f64, div_f64;
    fluxion_sum_rows_f32 sum_rows_f32;
    fluxion_sum_rows_f64 sum_rows_f64;
    fluxion_product_f32 product_f32;
    fluxion_product_f64 product_f64;
} fluxion_vector_maps;

/// The instruction sets, widest last.
enum { FLUXION_LANES_BASELINE = 0, FLUXION_LANES_AVX2 = 1, FLUXION_LANES_AVX512 = 2 };

/// The widest instruction set this processor runs (a `FLUXION_LANES_…` value).
int fluxion_widest_lanes(void);

/// The functions compiled for `lanes` (a `FLUXION_LANES_…` value no wider than
/// `fluxion_widest_lanes()`).
const fluxion_vector_maps *fluxion_vector_maps_for(int lanes);

#endif
