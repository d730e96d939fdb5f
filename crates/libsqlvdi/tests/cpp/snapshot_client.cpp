// A snapshot client written against the SDK's headers, as the snapshot sample (SMP snapshot.cpp)
// and storage vendors' agents are: it asks for VDF_SnapshotPrepare, sends BACKUP ... WITH
// SNAPSHOT through sqlcmd, stores the metadata the server writes, answers VDC_PrepareToFreeze,
// "takes the snapshot" at VDC_Snapshot by copying the image vdisim presents while the database
// is frozen (docs/snapshots.md), and for RESTORE ... WITH SNAPSHOT supplies the metadata and
// answers VDC_MountSnapshot by putting the copy back.
//
//   snapshot_client backup  <database> <metadata> <volume image> <captured copy>
//   snapshot_client restore <database> <metadata> <volume image> <captured copy>
//
// Prints key=value lines and sqlcmd's output as "sqlcmd: ..." lines; exits with 0 only if the
// device ended with VD_E_CLOSE, Close returned 0 and sqlcmd exited with 0.
#include <errno.h>
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

// Copies `from` to `to` (creating `to`'s directory), fsynced: the bytes copied, or -1.
static long copy_file(const char* from, const char* to) {
    FILE* in = fopen(from, "rb");
    if (!in) {
        return -1;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", to);
    char* slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        mkdir(dir, 0700);
    }
    FILE* out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    long total = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            total = -1;
            break;
        }
        total += (long)n;
    }
    fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        total = -1;
    }
    fclose(out);
    return total;
}

int main(int argc, char** argv) {
    if (argc != 6 || (strcmp(argv[1], "backup") != 0 && strcmp(argv[1], "restore") != 0)) {
        fprintf(stderr, "usage: %s backup|restore <database> <metadata> <volume> <copy>\n",
                argv[0]);
        return 2;
    }
    bool backup = strcmp(argv[1], "backup") == 0;
    const char* database = argv[2];
    const char* volume = argv[4];
    const char* captured = argv[5];
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
    config.features = VDF_SnapshotPrepare;
    char name[37];
    make_uuid(name);

    int status = vds->Create(name, &config);
    printf("create=%d\n", status);
    if (status != 0) {
        return 1;
    }
    char query[1024];
    snprintf(query, sizeof query,
             backup ? "sqlcmd -S . -U sa -P '%s' -Q \"BACKUP DATABASE [%s] TO "
                      "VIRTUAL_DEVICE='%s' WITH SNAPSHOT\""
                    : "sqlcmd -S . -U sa -P '%s' -Q \"RESTORE DATABASE [%s] FROM "
                      "VIRTUAL_DEVICE='%s' WITH SNAPSHOT, REPLACE\"",
             password, database, name);
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
    while ((status = vd->GetCommand(60000, &cmd)) == 0) {
        int completion = ERROR_SUCCESS;
        unsigned long bytes = 0;
        long copied;
        switch (cmd->commandCode) {
        case VDC_Read:
            bytes = fread(cmd->buffer, 1, cmd->size, file);
            if (bytes != (unsigned long)cmd->size) {
                completion = ERROR_HANDLE_EOF;
            }
            break;
        case VDC_Write:
            bytes = fwrite(cmd->buffer, 1, cmd->size, file);
            if (bytes != (unsigned long)cmd->size) {
                completion = ERROR_DISK_FULL;
            }
            break;
        case VDC_PrepareToFreeze:
            printf("prepare_to_freeze=1\n");
            break;
        case VDC_Snapshot:
            // The metadata is complete: harden it, then take the snapshot.
            fflush(file);
            copied = copy_file(volume, captured);
            printf("snapshot_copied=%ld\n", copied);
            completion = copied > 0 ? ERROR_SUCCESS : ERROR_OPERATION_ABORTED;
            break;
        case VDC_MountSnapshot:
            copied = copy_file(captured, volume);
            printf("mounted=%ld\n", copied);
            completion = copied > 0 ? ERROR_SUCCESS : ERROR_OPERATION_ABORTED;
            break;
        case VDC_Flush:
            fflush(file);
            break;
        case VDC_ClearError:
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
