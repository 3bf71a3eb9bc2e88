// OpenBLAS (cblas.h) and LAPACKE (lapacke.h), found through pkg-config's `openblas` entry.
// Debian/Ubuntu: apt-get install libopenblas-dev liblapacke-dev
#include <cblas.h>
#include <lapacke.h>
// mallopt, to keep large array buffers in the heap (see Storage.swift).
#include <malloc.h>
