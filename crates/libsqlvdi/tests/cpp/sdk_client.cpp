// A VDI client written the way the Linux SDK documentation describes one, against vdisim's
// vdi.h and linked with -lsqlvdi. The server side (here: a vdisim server thread in the Rust
// test) is started once this program prints "set=<name>".
//
//   sdk_client backup  <file>   store the backup stream in <file>
//   sdk_client restore <file>   serve the restore stream from <file>
//
// Prints key=value lines; exits 0 only if the stream ended with VD_E_CLOSE and Close worked.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>

#include "vdi.h"
#include "vdierror.h"

// A random version-4 UUID string, as uuid_generate + uuid_unparse would give.
static void make_uuid(char out[37]) {
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        perror("urandom");
        exit(2);
    }
    close(fd);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
}

int main(int argc, char** argv) {
    if (argc != 3 || (strcmp(argv[1], "backup") != 0 && strcmp(argv[1], "restore") != 0)) {
        fprintf(stderr, "usage: %s backup|restore <file>\n", argv[0]);
        return 2;
    }
    bool backup = strcmp(argv[1], "backup") == 0;
    FILE* file = fopen(argv[2], backup ? "wb" : "rb");
    if (!file) {
        perror(argv[2]);
        return 2;
    }

    // The server must be able to open what we create, whatever the caller's umask.
    umask(0);

    ClientVirtualDeviceSet* vds = new ClientVirtualDeviceSet();
    VDConfig config;
    memset(&config, 0, sizeof config);
    config.deviceCount = 1;

    char name[37];
    make_uuid(name);

    int status = vds->Create(name, &config);
    printf("create=%d\n", status);
    if (status != 0) {
        return 1;
    }
    printf("set=%s\n", name);
    fflush(stdout);

    status = vds->GetConfiguration(20000, &config);
    printf("get_configuration=%d\n", status);
    if (status != 0) {
        if (status == VD_E_TIMEOUT) {
            fprintf(stderr, "no server configured the set in time\n");
        }
        vds->Close();
        return 1;
    }
    printf("features=%u\n", config.features);

    ClientVirtualDevice* vd = NULL;
    status = vds->OpenDevice(name, &vd);
    printf("open_device=%d\n", status);
    if (status != 0) {
        vds->Close();
        return 1;
    }

    VDC_Command* cmd;
    unsigned long total = 0;
    int commands = 0;
    while ((status = vd->GetCommand(20000, &cmd)) == 0) {
        int completion = ERROR_SUCCESS;
        unsigned long bytes = 0;
        commands++;
        switch (cmd->commandCode) {
        case VDC_Read:
            bytes = fread(cmd->buffer, 1, cmd->size, file);
            total += bytes;
            if (bytes != (unsigned long)cmd->size) {
                completion = ERROR_HANDLE_EOF;
            }
            break;
        case VDC_Write:
            bytes = fwrite(cmd->buffer, 1, cmd->size, file);
            total += bytes;
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
        int done = vd->CompleteCommand(cmd, completion, bytes, 0);
        if (done != 0) {
            printf("complete_command=%d\n", done);
            break;
        }
    }
    // The normal end of the stream is VD_E_CLOSE.
    printf("end=%d\n", status);
    printf("commands=%d\n", commands);
    printf("bytes=%lu\n", total);
    fclose(file);

    int closed = vds->Close();
    printf("close=%d\n", closed);
    delete vds;
    fflush(stdout);
    return status == VD_E_CLOSE && closed == 0 ? 0 : 1;
}
