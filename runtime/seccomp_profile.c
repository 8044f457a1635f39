/* Placeholder until the default profile lands (owned by the security work). */
#include "security.h"

const char *security_default_seccomp_json(void)
{
        return NULL;
}
