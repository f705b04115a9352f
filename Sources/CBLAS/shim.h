// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, pthread variant).
#include <cblas.h>
// OpenBLAS extensions for sizing its thread pool per rank.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
