#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "runtime/features.h"

int cmd_features(const struct cella_cli *cli, int argc, char **argv)
{
        char *json = cella_features_json();
        printf("%s\n", json);
        free(json);
        return 0;
}
