// OpenBLAS (cblas.h) and LAPACKE (lapacke.h), found through pkg-config's `openblas` entry.
// Debian/Ubuntu: apt-get install libopenblas-dev liblapacke-dev
#include <cblas.h>
#include <lapacke.h>
