// A striped BACKUP over two devices, each served by its own thread (the SDK's multi-threaded
// client shape), plus the calls that involve two devices or the buffer area: completing one
// device's command on the other, GetBufferHandle/MapBufferHandle of a command's buffer, and a
// set object destroyed by `delete` at the end.
//
//   striped_client <set-name> <file-prefix>    stripe d is stored in <file-prefix>.<d>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <string>
#include <thread>

#include "vdi.h"
#include "vdierror.h"

#define SHOW(key, value)                          \
    do {                                          \
        printf("%s=%d\n", key, (int)(value));     \
        fflush(stdout);                           \
    } while (0)

struct Stripe {
    ClientVirtualDevice* device;
    FILE* file;
    VDC_Command* first;  // a command already taken by the main thread
    int end;
    unsigned long bytes;
};

static int serve(ClientVirtualDevice* vd, VDC_Command* cmd, FILE* file, unsigned long* total) {
    int completion = ERROR_SUCCESS;
    unsigned long bytes = 0;
    switch (cmd->commandCode) {
    case VDC_Write:
        bytes = fwrite(cmd->buffer, 1, cmd->size, file);
        *total += bytes;
        if (bytes != (unsigned long)cmd->size) {
            completion = ERROR_DISK_FULL;
        }
        break;
    case VDC_Flush:
        fflush(file);
        break;
    case VDC_ClearError:
    case VDC_Complete:
        break;
    default:
        completion = ERROR_NOT_SUPPORTED;
        break;
    }
    return vd->CompleteCommand(cmd, completion, bytes, 0);
}

static void run(Stripe* s) {
    s->bytes = 0;
    int status = serve(s->device, s->first, s->file, &s->bytes);
    VDC_Command* cmd;
    while (status == 0 && (status = s->device->GetCommand(20000, &cmd)) == 0) {
        status = serve(s->device, cmd, s->file, &s->bytes);
    }
    s->end = status;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <set-name> <file-prefix>\n", argv[0]);
        return 2;
    }
    umask(0);
    ClientVirtualDeviceSet* vds = new ClientVirtualDeviceSet();
    VDConfig config;
    memset(&config, 0, sizeof config);
    config.deviceCount = 2;
    SHOW("create", vds->Create(argv[1], &config));
    SHOW("get_configuration", vds->GetConfiguration(20000, &config));

    std::string names[2] = {argv[1], std::string(argv[1]) + "_1"};
    Stripe stripes[2];
    for (int d = 0; d < 2; d++) {
        stripes[d].device = NULL;
        int status = vds->OpenDevice(&names[d][0], &stripes[d].device);
        printf("open_device_%d=%d\n", d, status);
        if (status != 0) {
            return 1;
        }
        std::string path = std::string(argv[2]) + "." + std::to_string(d);
        stripes[d].file = fopen(path.c_str(), "wb");
        SHOW("get_first", stripes[d].device->GetCommand(20000, &stripes[d].first));
    }
    ClientVirtualDevice* none = (ClientVirtualDevice*)1;
    SHOW("open_device_all_open", vds->OpenDevice(&names[0][0], &none));

    // Device 1 completing device 0's command.
    SHOW("complete_on_wrong_device",
         stripes[1].device->CompleteCommand(stripes[0].first, ERROR_SUCCESS, 0, 0));

    // A command's buffer, as another process of the set would name it.
    unsigned int handle = 0;
    uint8_t* mapped = NULL;
    SHOW("get_buffer_handle", vds->GetBufferHandle(stripes[0].first->buffer, &handle));
    SHOW("map_buffer_handle", vds->MapBufferHandle((int)handle, &mapped));
    SHOW("mapped_same_address", mapped == stripes[0].first->buffer);
    uint8_t local = 0;
    SHOW("get_buffer_handle_foreign", vds->GetBufferHandle(&local, &handle));

    std::thread threads[2];
    for (int d = 0; d < 2; d++) {
        threads[d] = std::thread(run, &stripes[d]);
    }
    for (int d = 0; d < 2; d++) {
        threads[d].join();
        fclose(stripes[d].file);
        printf("end_%d=%d\n", d, stripes[d].end);
        printf("bytes_%d=%lu\n", d, stripes[d].bytes);
    }
    SHOW("close", vds->Close());
    delete vds;
    SHOW("done", 1);
    return 0;
}
