#include "frost.h"
#include <sodium.h>
int frost_dummy(void){return sodium_init();}
