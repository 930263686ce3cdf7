/* The header C users include: the types the API needs, then the API itself.
 * (tsp_engine_api.h stays free of preprocessor lines so cffi can read it.) */
#ifndef TSP_ENGINE_H
#define TSP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "tsp_engine_api.h"

#ifdef __cplusplus
}
#endif

#endif /* TSP_ENGINE_H */
