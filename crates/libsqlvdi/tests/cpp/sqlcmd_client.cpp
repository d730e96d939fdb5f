// The SDK-style client driven through sqlcmd, as a vendor's program (and Microsoft's Linux
// sample) is: it creates the set, starts the T-SQL with popen("sqlcmd ..."), serves the
// device, closes the set and prints what sqlcmd said. Built against vdisim's vdi.h; run
// with vdisim's libsqlvdi.so on LD_LIBRARY_PATH and vdisim's sqlcmd first on PATH.
//
//   sqlcmd_client backup  <database> <file>   BACKUP DATABASE ... WITH FORMAT into <file>
//   sqlcmd_client restore <database> <file>   RESTORE DATABASE ... WITH REPLACE from <file>
//   sqlcmd_client close-early <database> <file>
//                     BACKUP, but Close while the device is open and a command is held: Close
//                     returns VD_E_OPEN, the T-SQL fails (3013), the old device is refused
//
// The sa password comes from $VDISIM_SA_PASSWORD (default "vdisim"). Prints key=value lines
// and the sqlcmd output as "sqlcmd: ..." lines; exits with 0 only if the device ended with
// VD_E_CLOSE, Close returned 0 and sqlcmd exited with 0.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vdi.h"
#include "vdierror.h"

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
    if (argc != 4 || (strcmp(argv[1], "backup") != 0 && strcmp(argv[1], "restore") != 0 &&
                      strcmp(argv[1], "close-early") != 0)) {
        fprintf(stderr, "usage: %s backup|restore|close-early <database> <file>\n", argv[0]);
        return 2;
    }
    bool close_early = strcmp(argv[1], "close-early") == 0;
    bool backup = close_early || strcmp(argv[1], "backup") == 0;
    const char* database = argv[2];
    const char* password = getenv("VDISIM_SA_PASSWORD");
    if (password == NULL || *password == '\0') {
        password = "vdisim";
    }
    FILE* file = fopen(argv[3], backup ? "wb" : "rb");
    if (!file) {
        perror(argv[3]);
        return 2;
    }

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

    char query[1024];
    if (backup) {
        snprintf(query, sizeof query,
                 "sqlcmd -S . -U sa -P '%s' -Q \"BACKUP DATABASE [%s] TO VIRTUAL_DEVICE='%s' "
                 "WITH FORMAT, MAXTRANSFERSIZE=1048576\"",
                 password, database, name);
    } else {
        snprintf(query, sizeof query,
                 "sqlcmd -S . -U sa -P '%s' -Q \"RESTORE DATABASE [%s] FROM VIRTUAL_DEVICE='%s' "
                 "WITH REPLACE, MAXTRANSFERSIZE=1048576\"",
                 password, database, name);
    }
    fflush(stdout);
    FILE* sql = popen(query, "r");
    if (sql == NULL) {
        perror("popen sqlcmd");
        vds->Close();
        return 1;
    }

    status = vds->GetConfiguration(10000, &config);
    printf("get_configuration=%d\n", status);
    if (status != 0) {
        if (status == VD_E_TIMEOUT) {
            fprintf(stderr, "GetConfiguration timed out: is the vdisim server running?\n");
        }
        vds->Close();
        pclose(sql);
        return 1;
    }

    ClientVirtualDevice* vd = NULL;
    status = vds->OpenDevice(name, &vd);
    printf("open_device=%d\n", status);
    if (status != 0) {
        vds->Close();
        pclose(sql);
        return 1;
    }

    VDC_Command* cmd;
    unsigned long total = 0;
    if (close_early) {
        printf("get_command=%d\n", vd->GetCommand(60000, &cmd));
        int closed = vds->Close();
        printf("close=%d\n", closed);
        VDC_Command* late = NULL;
        printf("stale_get=%d\n", vd->GetCommand(0, &late));
        printf("stale_complete=%d\n", vd->CompleteCommand(cmd, ERROR_SUCCESS, 0, 0));
        char line[4096];
        while (fgets(line, sizeof line, sql) != NULL) {
            printf("sqlcmd: %s", line);
        }
        pclose(sql);
        fclose(file);
        delete vds;
        fflush(stdout);
        return closed == VD_E_OPEN ? 0 : 1;
    }
    while ((status = vd->GetCommand(60000, &cmd)) == 0) {
        int completion = ERROR_SUCCESS;
        unsigned long bytes = 0;
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
    printf("end=%d\n", status);
    printf("bytes=%lu\n", total);
    fclose(file);

    int closed = vds->Close();
    printf("close=%d\n", closed);

    char line[4096];
    while (fgets(line, sizeof line, sql) != NULL) {
        printf("sqlcmd: %s", line);
    }
    int sqlcmd_status = pclose(sql);
    int sqlcmd_exit = WIFEXITED(sqlcmd_status) ? WEXITSTATUS(sqlcmd_status) : -1;
    printf("sqlcmd_exit=%d\n", sqlcmd_exit);
    delete vds;
    fflush(stdout);
    return status == VD_E_CLOSE && closed == 0 && sqlcmd_exit == 0 ? 0 : 1;
}
