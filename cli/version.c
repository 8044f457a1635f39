#include <stdio.h>

#include "cli/commands.h"

int cmd_version(const struct cella_cli *cli, int argc, char **argv)
{
        printf("cella version %s\ncommit: %s\nspec: 1.2.0\n", CELLA_VERSION, CELLA_COMMIT);
        return 0;
}
