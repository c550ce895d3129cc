/* The names of the layer caps (relay.h): no dependency but relay.h, so
 * the room protocol's fuzz target links it as it is. */
#include <string.h>

#include "sfu/relay.h"

int mr_layer_cap_parse(const char *name)
{
    static const char *const names[] = {
        [MR_LAYER_CAP_HIGH] = "high", [MR_LAYER_CAP_MEDIUM] = "medium", [MR_LAYER_CAP_LOW] = "low"};
    for (int i = 0; name && i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
