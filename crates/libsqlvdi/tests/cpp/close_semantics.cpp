// Close semantics through the SDK's C++ classes (vdi-facts §3.3 Close), plus the command and
// device pointers an application keeps too long.
//
//   close_semantics <set-name> <second-set-name>
//   close_semantics --delete-open <set-name>   delete the set object with a device open
//
// The Rust test runs a server thread that configures <set-name> for a BACKUP, sends two
// Writes and waits for the client's abort. Prints key=value lines; the test checks them.
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

// `delete` of a set whose device is open and holds a command: the destructor closes the set,
// so the server sees the client leave while this process is still alive.
static int delete_open(char* name) {
    ClientVirtualDeviceSet* vds = new ClientVirtualDeviceSet();
    VDConfig config;
    memset(&config, 0, sizeof config);
    config.deviceCount = 1;
    SHOW("create", vds->Create(name, &config));
    SHOW("get_configuration", vds->GetConfiguration(20000, &config));
    ClientVirtualDevice* vd = NULL;
    SHOW("open_device", vds->OpenDevice(name, &vd));
    VDC_Command* cmd = NULL;
    SHOW("get_command", vd == NULL ? -1 : vd->GetCommand(20000, &cmd));
    delete vds;
    SHOW("deleted", 1);
    // Stay alive until the test saw the server's reaction: it must come from the destructor,
    // not from this process exiting.
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL) {
        return 1;
    }
    SHOW("exiting", 1);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "--delete-open") == 0) {
        umask(0);
        return delete_open(argv[2]);
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s <set-name> <second-set-name>\n", argv[0]);
        return 2;
    }
    umask(0);
    ClientVirtualDeviceSet* vds = new ClientVirtualDeviceSet();
    VDConfig config;
    memset(&config, 0, sizeof config);
    config.deviceCount = 1;

    SHOW("close_never_created", vds->Close());

    SHOW("create", vds->Create(argv[1], &config));
    SHOW("get_configuration", vds->GetConfiguration(20000, &config));
    ClientVirtualDevice* vd = NULL;
    SHOW("open_device", vds->OpenDevice(argv[1], &vd));
    if (vd == NULL) {
        return 1;
    }
    ClientVirtualDevice* again = (ClientVirtualDevice*)1;
    SHOW("open_device_again", vds->OpenDevice(argv[1], &again));
    SHOW("open_device_again_null", again == NULL);

    // The first Write: completed once (fine), then again (not an active command).
    VDC_Command* first = NULL;
    SHOW("get_first", vd->GetCommand(20000, &first));
    SHOW("first_is_write", first != NULL && first->commandCode == VDC_Write);
    SHOW("complete_first", vd->CompleteCommand(first, ERROR_SUCCESS, first->size, 0));
    SHOW("complete_first_again", vd->CompleteCommand(first, ERROR_SUCCESS, 0, 0));

    // A VDC_Command the library never handed out, and NULL.
    VDC_Command forged;
    memset(&forged, 0, sizeof forged);
    forged.commandCode = VDC_Write;
    SHOW("complete_forged", vd->CompleteCommand(&forged, ERROR_SUCCESS, 0, 0));
    SHOW("complete_null", vd->CompleteCommand(NULL, ERROR_SUCCESS, 0, 0));
    SHOW("get_null", vd->GetCommand(0, NULL));

    // The second Write is held while the set is closed: VD_E_OPEN, and the server aborts.
    VDC_Command* held = NULL;
    SHOW("get_second", vd->GetCommand(20000, &held));
    SHOW("close_with_device_open", vds->Close());

    // The old device object is still valid memory; every call on it is refused.
    VDC_Command* late = (VDC_Command*)1;
    SHOW("stale_get", vd->GetCommand(0, &late));
    SHOW("stale_get_cleared", late == NULL);
    SHOW("stale_complete", vd->CompleteCommand(held, ERROR_SUCCESS, 0, 0));

    SHOW("close_closed", vds->Close());

    // The same object can create a set again; the old device stays refused. The configuration
    // GetConfiguration returned carries server-only feature bits, so it must be cleared first.
    SHOW("create_with_returned_config", vds->Create(argv[2], &config));
    memset(&config, 0, sizeof config);
    config.deviceCount = 1;
    SHOW("create_again", vds->Create(argv[2], &config));
    SHOW("stale_get_after_create", vd->GetCommand(0, &late));
    SHOW("stale_complete_after_create", vd->CompleteCommand(held, ERROR_SUCCESS, 0, 0));
    SHOW("close_again", vds->Close());

    delete vds;
    SHOW("done", 1);
    return 0;
}
