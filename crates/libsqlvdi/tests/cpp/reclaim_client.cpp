// A fixed set name after a crash (issue 21): the SDK's Create from a process that then dies
// with SIGKILL, and Create of the same name from the next process.
//
//   reclaim_client die <set-name>    Create, print it, then SIGKILL itself (no Close)
//   reclaim_client hold <set-name>   Create, print it, wait for a line on stdin, then Close
//   reclaim_client create <set-name> Create, print it, then Close
//
// Prints key=value lines; the Rust test checks them.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vdi.h"
#include "vdierror.h"

#define SHOW(key, value)                          \
    do {                                          \
        printf("%s=%d\n", key, (int)(value));     \
        fflush(stdout);                           \
    } while (0)

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s die|hold|create <set-name>\n", argv[0]);
        return 2;
    }
    umask(0);
    ClientVirtualDeviceSet* vds = new ClientVirtualDeviceSet();
    VDConfig config;
    memset(&config, 0, sizeof config);
    config.deviceCount = 1;
    SHOW("create", vds->Create(argv[2], &config));
    if (strcmp(argv[1], "die") == 0) {
        raise(SIGKILL);
        return 3;
    }
    if (strcmp(argv[1], "hold") == 0) {
        char line[16];
        if (fgets(line, sizeof line, stdin) == NULL) {
            return 1;
        }
    }
    SHOW("close", vds->Close());
    delete vds;
    return 0;
}
