/* Everything a plugin needs from the ABI. */
#ifndef TESSERA_PLUGIN_H
#define TESSERA_PLUGIN_H
#include "abi.h"
#include "types.h"
#include "classes.h"
#include "host.h"
#endif
