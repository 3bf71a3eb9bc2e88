// The functions of VectorMaps.h. Each element function below is the C spelling of the Swift
// form it stands for (FloatingElement.swift for float32, Float64Functions.swift for float64),
// operation for operation; the tests compare every variant with the Swift forms bit for bit.

#include "VectorMaps.h"
#include <stdint.h>
#include <string.h>

// Every product and sum rounds on its own, as in the Swift forms.
#pragma clang fp contract(off)

static inline uint32_t bits_f32(float x) { uint32_t b; memcpy(&b, &x, 4); return b; }
static inline float from_bits_f32(uint32_t b) { float x; memcpy(&x, &b, 4); return x; }
static inline uint64_t bits_f64(double x) { uint64_t b; memcpy(&b, &x, 8); return b; }
static inline double from_bits_f64(uint64_t b) { double x; memcpy(&x, &b, 8); return x; }

// MARK: float32 (Float.loopExp, Float.loopTanh, Kernel.Sigmoid)

static inline float exp_f32(float x) {
    float clamped = x > -87.33654f ? x : -87.33654f;        // Swift.max(x, low): x unless x < low
    clamped = clamped < 88.72283f ? clamped : 88.72283f;    // Swift.min(…, high)
    float shifted = clamped * 1.442695041f + 12582912.0f;
    float n = shifted - 12582912.0f;
    float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t k = (int32_t)(bits_f32(shifted) - 0x4B400000u);
    int32_t k1 = k >> 1, k2 = k - k1;
    float s1 = from_bits_f32((uint32_t)(k1 + 127) << 23);
    float s2 = from_bits_f32((uint32_t)(k2 + 127) << 23);
    float result = y * s1 * s2;
    return x != x ? x : (x > 88.72283f ? __builtin_inff() : (x < -87.33654f ? 0.0f : result));
}

static inline float tanh_f32(float x) {
    float z = __builtin_fabsf(x);
    float s = x * x;
    float p = -5.70498872745e-3f;
    p = p * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    float small = p * s * x + x;
    float large = 1.0f - 2.0f / (exp_f32(2.0f * z) + 1.0f);
    return __builtin_copysignf(z > 0.625f ? large : small, x);
}

static inline float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

// MARK: float64 (Float64Functions.swift)

static const double rounding_shift = 6755399441055744.0; // 1.5·2⁵²

static inline double select_f64(int mask, double a, double b) { return mask ? a : b; }

static inline double clamped_keeping_nan(double x, double low, double high) {
    double above = select_f64(x < low, low, x);
    return select_f64(above > high, high, above);
}

static inline double power_of_two(double n) {
    return from_bits_f64(bits_f64(n + (rounding_shift + 1023.0)) << 52);
}

static inline double scaled(double y, double n) {
    double half = (n * 0.5 + rounding_shift) - rounding_shift;
    return y * power_of_two(half) * power_of_two(n - half);
}

static inline double expm1_reduced(double r) {
    double r2 = r * r, r4 = r2 * r2;
    double a = (0.5 + r * 0.1666666666666667) + r2 * (0.04166666666666667 + r * 0.008333333333326141);
    double b = (0.0013888888888883752 + r * 0.00019841269874800493) + r2 * (2.4801587325533363e-05 + r * 2.7557255425746435e-06);
    double c = (2.7557273661348637e-07 + r * 2.510520637395701e-08) + r2 * 2.0914679376583935e-09;
    return r + r2 * (a + r4 * (b + r4 * c));
}

static inline double exp_f64(double x) {
    double c = clamped_keeping_nan(x, -746.0, 710.0);
    double n = (c * 1.4426950408889634 + rounding_shift) - rounding_shift;
    double r = (c - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
    return scaled(1.0 + expm1_reduced(r), n);
}

static inline double tanh_f64(double x) {
    double a = __builtin_fabs(x);
    int large = a > 0.55;
    double z = a * a;
    double p = -0.3333333333333333 + z * (-0.02142857142857143 + z * (-0.0002442002442002442 + z * -1.7619065238112858e-08));
    double q = 1.0 + z * (0.4642857142857143 + z * (0.02454212454212454 + z * 0.0002553002553002553));
    double u = 2.0 * a;
    double v = select_f64(u > 40.0, 40.0, u);
    double n = (v * 1.4426950408889634 + rounding_shift) - rounding_shift;
    double r = (v - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
    double e = (1.0 + expm1_reduced(r)) * power_of_two(n);
    double ratio = select_f64(large, 2.0, a * z * p) / select_f64(large, e + 1.0, q);
    return from_bits_f64(bits_f64(select_f64(large, 1.0 - ratio, a + ratio)) | (bits_f64(x) & 0x8000000000000000ull));
}

static inline double sigmoid_f64(double x) { return 1.0 / (1.0 + exp_f64(-x)); }

// MARK: The three compilations

#define FLUXION_MAP(name, type, suffix, isa)                                                     \
    __attribute__((target(isa))) static void name##_##suffix(const type *s, type *d, long n) { \
        for (long k = 0; k < n; k++) d[k] = name(s[k]);                                          \
    }

// The three stride patterns as three loops, so that each vectorises.
#define FLUXION_ZIP(name, op, type, suffix, isa)                                                         \
    __attribute__((target(isa))) static void name##_##suffix(const type *a, long sa, const type *b, long sb, \
                                                              type *d, long n) {                          \
        if (sa == 1 && sb == 1) {                                                                        \
            for (long k = 0; k < n; k++) d[k] = a[k] op b[k];                                            \
        } else if (sa == 1) {                                                                            \
            const type v = b[0];                                                                         \
            for (long k = 0; k < n; k++) d[k] = a[k] op v;                                               \
        } else {                                                                                         \
            const type v = a[0];                                                                         \
            for (long k = 0; k < n; k++) d[k] = v op b[k];                                               \
        }                                                                                                \
    }

// Tiles of c of 4 rows by `width` columns (a few vectors) are held in registers while k rows
// of b go by, each element adding its products in order from zero. A tile past the last row of
// a reads zeros for the missing rows and keeps only its real rows (a single row has its own
// tile); each column left over after the tiles of 8 is four running sums in registers.
#define FLUXION_TILE(type, width)                                                                         \
    {                                                                                                     \
        type t0[width], t1[width], t2[width], t3[width];                                                  \
        for (long j = 0; j < width; j++) t0[j] = t1[j] = t2[j] = t3[j] = 0;                               \
        for (long p = 0; p < k; p++) {                                                                    \
            const type *from = b + p * ldb + j0;                                                          \
            const type *x = a0 + p * columnStrideA;                                                       \
            const type x0 = x[0], x1 = rows > 1 ? x[rowStrideA] : 0;                                      \
            const type x2 = rows > 2 ? x[2 * rowStrideA] : 0, x3 = rows > 3 ? x[3 * rowStrideA] : 0;      \
            for (long j = 0; j < width; j++) {                                                            \
                t0[j] += x0 * from[j];                                                                    \
                t1[j] += x1 * from[j];                                                                    \
                t2[j] += x2 * from[j];                                                                    \
                t3[j] += x3 * from[j];                                                                    \
            }                                                                                             \
        }                                                                                                 \
        type *out = c + i0 * n + j0;                                                                      \
        for (long j = 0; j < width; j++) out[j] = t0[j];                                                  \
        if (rows > 1) for (long j = 0; j < width; j++) out[n + j] = t1[j];                                \
        if (rows > 2) for (long j = 0; j < width; j++) out[2 * n + j] = t2[j];                            \
        if (rows > 3) for (long j = 0; j < width; j++) out[3 * n + j] = t3[j];                            \
    }
// The same for a single row (a product of one row, as a vector times a matrix).
#define FLUXION_ROW_TILE(type, width)                                                                     \
    {                                                                                                     \
        type t0[width];                                                                                   \
        for (long j = 0; j < width; j++) t0[j] = 0;                                                       \
        for (long p = 0; p < k; p++) {                                                                    \
            const type *from = b + p * ldb + j0;                                                          \
            const type x0 = a0[p * columnStrideA];                                                        \
            for (long j = 0; j < width; j++) t0[j] += x0 * from[j];                                       \
        }                                                                                                 \
        for (long j = 0; j < width; j++) c[i0 * n + j0 + j] = t0[j];                                      \
    }
#define FLUXION_PRODUCT(type, width, suffix, attributes)                                                  \
    attributes static void product_##type##_##suffix(long m, long n, long k, const type *a, long rowStrideA,  \
                                                     long columnStrideA, const type *restrict b, long ldb,    \
                                                     type *restrict c) {                                      \
        for (long i0 = 0; i0 < m; i0 += 4) {                                                                  \
            const long rows = m - i0 < 4 ? m - i0 : 4;                                                        \
            const type *a0 = a + i0 * rowStrideA;                                                             \
            long j0 = 0;                                                                                      \
            if (rows == 1) {                                                                                  \
                for (; j0 + width <= n; j0 += width) FLUXION_ROW_TILE(type, width)                            \
                for (; j0 + 8 <= n; j0 += 8) FLUXION_ROW_TILE(type, 8)                                        \
            } else {                                                                                          \
                for (; j0 + width <= n; j0 += width) FLUXION_TILE(type, width)                                \
                for (; j0 + 8 <= n; j0 += 8) FLUXION_TILE(type, 8)                                            \
            }                                                                                                 \
            for (; j0 < n; j0++) {                                                                            \
                type s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                                          \
                for (long p = 0; p < k; p++) {                                                                \
                    const type *x = a0 + p * columnStrideA;                                                   \
                    const type y = b[p * ldb + j0];                                                           \
                    s0 += x[0] * y;                                                                           \
                    if (rows > 1) s1 += x[rowStrideA] * y;                                                    \
                    if (rows > 2) s2 += x[2 * rowStrideA] * y;                                                \
                    if (rows > 3) s3 += x[3 * rowStrideA] * y;                                                \
                }                                                                                             \
                type *out = c + i0 * n + j0;                                                                  \
                out[0] = s0;                                                                                  \
                if (rows > 1) out[n] = s1;                                                                    \
                if (rows > 2) out[2 * n] = s2;                                                                \
                if (rows > 3) out[3 * n] = s3;                                                                \
            }                                                                                                 \
        }                                                                                                     \
    }
#define FLUXION_PRODUCTS(suffix, attributes) \
    FLUXION_PRODUCT(float, 32, suffix, attributes) \
    FLUXION_PRODUCT(double, 16, suffix, attributes)

// Rows into accumulators, row after row, so that each accumulator receives its terms in order.
// Columns go in blocks of 32 whose accumulators stay in registers for all the rows (each lane
// one accumulator), written back once; a tail narrower than a block is added the same way from
// memory. TwoSum as Summation.add.
/// `v` added to the compensated sum (*s, *e): TwoSum keeps the addition's rounding error in *e.
static inline __attribute__((always_inline)) void add_compensated(double *s, double *e, double v) {
    double t = *s + v;
    double z = t - *s;
    *e += (*s - (t - z)) + (v - z);
    *s = t;
}

#define FLUXION_SUM_BLOCK 32
#define FLUXION_SUM_ROWS(suffix, attributes)                                                           \
    attributes static void sum_rows_f32_##suffix(const float *x, long rows, long rowStride, long count,    \
                                                 double *sum) {                                          \
        long k0 = 0;                                                                                    \
        for (; k0 + FLUXION_SUM_BLOCK <= count; k0 += FLUXION_SUM_BLOCK) {                              \
            double s[FLUXION_SUM_BLOCK];                                                                \
            for (long k = 0; k < FLUXION_SUM_BLOCK; k++) s[k] = sum[k0 + k];                            \
            for (long r = 0; r < rows; r++) {                                                           \
                const float *row = x + r * rowStride + k0;                                              \
                for (long k = 0; k < FLUXION_SUM_BLOCK; k++) s[k] += (double)row[k];                     \
            }                                                                                           \
            for (long k = 0; k < FLUXION_SUM_BLOCK; k++) sum[k0 + k] = s[k];                            \
        }                                                                                               \
        for (long r = 0; r < rows; r++) {                                                               \
            const float *row = x + r * rowStride;                                                       \
            for (long k = k0; k < count; k++) sum[k] += (double)row[k];                                  \
        }                                                                                               \
    }                                                                                                   \
    attributes static void sum_rows_f64_##suffix(const double *x, long rows, long rowStride, long count,   \
                                                 double *sum, double *error) {                           \
        long k0 = 0;                                                                                    \
        for (; k0 + FLUXION_SUM_BLOCK <= count; k0 += FLUXION_SUM_BLOCK) {                              \
            double s[FLUXION_SUM_BLOCK], e[FLUXION_SUM_BLOCK];                                          \
            for (long k = 0; k < FLUXION_SUM_BLOCK; k++) s[k] = sum[k0 + k];                            \
            if (!error) {                                                                               \
                for (long r = 0; r < rows; r++) {                                                       \
                    const double *row = x + r * rowStride + k0;                                         \
                    for (long k = 0; k < FLUXION_SUM_BLOCK; k++) s[k] += row[k];                         \
                }                                                                                       \
            } else {                                                                                    \
                for (long k = 0; k < FLUXION_SUM_BLOCK; k++) e[k] = error[k0 + k];                      \
                for (long r = 0; r < rows; r++) {                                                       \
                    const double *row = x + r * rowStride + k0;                                         \
                    for (long k = 0; k < FLUXION_SUM_BLOCK; k++) add_compensated(&s[k], &e[k], row[k]); \
                }                                                                                       \
                for (long k = 0; k < FLUXION_SUM_BLOCK; k++) error[k0 + k] = e[k];                      \
            }                                                                                           \
            for (long k = 0; k < FLUXION_SUM_BLOCK; k++) sum[k0 + k] = s[k];                            \
        }                                                                                               \
        for (long r = 0; r < rows; r++) {                                                               \
            const double *row = x + r * rowStride;                                                      \
            for (long k = k0; k < count; k++) {                                                         \
                if (error) add_compensated(&sum[k], &error[k], row[k]); else sum[k] += row[k];          \
            }                                                                                           \
        }                                                                                               \
    }

#define FLUXION_MAPS(suffix, isa)                                                   \
    FLUXION_MAP(exp_f32, float, suffix, isa)                                        \
    FLUXION_MAP(tanh_f32, float, suffix, isa)                                       \
    FLUXION_MAP(sigmoid_f32, float, suffix, isa)                                    \
    FLUXION_MAP(exp_f64, double, suffix, isa)                                       \
    FLUXION_MAP(tanh_f64, double, suffix, isa)                                      \
    FLUXION_MAP(sigmoid_f64, double, suffix, isa)                                   \
    FLUXION_ZIP(add_f32, +, float, suffix, isa)                                     \
    FLUXION_ZIP(sub_f32, -, float, suffix, isa)                                     \
    FLUXION_ZIP(mul_f32, *, float, suffix, isa)                                     \
    FLUXION_ZIP(div_f32, /, float, suffix, isa)                                     \
    FLUXION_ZIP(add_f64, +, double, suffix, isa)                                    \
    FLUXION_ZIP(sub_f64, -, double, suffix, isa)                                    \
    FLUXION_ZIP(mul_f64, *, double, suffix, isa)                                    \
    FLUXION_ZIP(div_f64, /, double, suffix, isa)                                    \
    FLUXION_SUM_ROWS(suffix, __attribute__((target(isa))))                          \
    FLUXION_PRODUCTS(suffix, __attribute__((target(isa))))                          \
    static const fluxion_vector_maps maps_##suffix = {                              \
        exp_f32_##suffix, tanh_f32_##suffix, sigmoid_f32_##suffix,                  \
        exp_f64_##suffix, tanh_f64_##suffix, sigmoid_f64_##suffix,                  \
        add_f32_##suffix, sub_f32_##suffix, mul_f32_##suffix, div_f32_##suffix,     \
        add_f64_##suffix, sub_f64_##suffix, mul_f64_##suffix, div_f64_##suffix,     \
        sum_rows_f32_##suffix, sum_rows_f64_##suffix,                               \
        product_float_##suffix, product_double_##suffix};

#if defined(__x86_64__)
FLUXION_MAPS(baseline, "sse2")
FLUXION_MAPS(avx2, "avx2")
FLUXION_MAPS(avx512, "avx512f")

int fluxion_widest_lanes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return FLUXION_LANES_AVX512;
    if (__builtin_cpu_supports("avx2")) return FLUXION_LANES_AVX2;
    return FLUXION_LANES_BASELINE;
}

const fluxion_vector_maps *fluxion_vector_maps_for(int lanes) {
    switch (lanes) {
    case FLUXION_LANES_AVX512: return &maps_avx512;
    case FLUXION_LANES_AVX2: return &maps_avx2;
    default: return &maps_baseline;
    }
}
#else
#define FLUXION_NO_TARGET(name, type)                                           \
    static void name##_baseline(const type *s, type *d, long n) {              \
        for (long k = 0; k < n; k++) d[k] = name(s[k]);                          \
    }
FLUXION_NO_TARGET(exp_f32, float)
FLUXION_NO_TARGET(tanh_f32, float)
FLUXION_NO_TARGET(sigmoid_f32, float)
FLUXION_NO_TARGET(exp_f64, double)
FLUXION_NO_TARGET(tanh_f64, double)
FLUXION_NO_TARGET(sigmoid_f64, double)
#define FLUXION_ZIP_NO_TARGET(name, op, type)                                                             \
    static void name##_baseline(const type *a, long sa, const type *b, long sb, type *d, long n) {       \
        for (long k = 0; k < n; k++) d[k] = a[k * sa] op b[k * sb];                                       \
    }
FLUXION_ZIP_NO_TARGET(add_f32, +, float)
FLUXION_ZIP_NO_TARGET(sub_f32, -, float)
FLUXION_ZIP_NO_TARGET(mul_f32, *, float)
FLUXION_ZIP_NO_TARGET(div_f32, /, float)
FLUXION_ZIP_NO_TARGET(add_f64, +, double)
FLUXION_ZIP_NO_TARGET(sub_f64, -, double)
FLUXION_ZIP_NO_TARGET(mul_f64, *, double)
FLUXION_ZIP_NO_TARGET(div_f64, /, double)
FLUXION_SUM_ROWS(baseline, )
FLUXION_PRODUCTS(baseline, )
static const fluxion_vector_maps maps_baseline = {
    exp_f32_baseline, tanh_f32_baseline, sigmoid_f32_baseline,
    exp_f64_baseline, tanh_f64_baseline, sigmoid_f64_baseline,
    add_f32_baseline, sub_f32_baseline, mul_f32_baseline, div_f32_baseline,
    add_f64_baseline, sub_f64_baseline, mul_f64_baseline, div_f64_baseline,
    sum_rows_f32_baseline, sum_rows_f64_baseline,
    product_float_baseline, product_double_baseline};

int fluxion_widest_lanes(void) { return FLUXION_LANES_BASELINE; }
const fluxion_vector_maps *fluxion_vector_maps_for(int lanes) { (void)lanes; return &maps_baseline; }
#endif
