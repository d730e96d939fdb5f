/*
 * vdi.h -- the VDI client interface of the Linux SDK, written for vdisim's drop-in
 * libsqlvdi.so.
 *
 * Compatible by name, value and layout with the Linux SDK's vdi.h: the structures, the
 * enums, the Win32 completion codes the SDK defines, and the two client classes with their
 * one-pointer object layout and member signatures (so the Itanium-mangled names match).
 * The structures and enums are also usable from C; the classes need C++.
 */
#ifndef VDISIM_VDI_H
#define VDISIM_VDI_H

#include <stdint.h>
#include <time.h>
#include "vdierror.h"

#pragma pack(push, 8)

/* Completion codes for CompleteCommand (Win32 values; windows.h does not exist here). */
#ifndef ERROR_SUCCESS
#define ERROR_SUCCESS 0L
#endif
#ifndef ERROR_ARENA_TRASHED
#define ERROR_ARENA_TRASHED 7L
#endif
#ifndef ERROR_HANDLE_EOF
#define ERROR_HANDLE_EOF 38L
#endif
#ifndef ERROR_HANDLE_DISK_FULL
#define ERROR_HANDLE_DISK_FULL 39L
#endif
#ifndef ERROR_NOT_SUPPORTED
#define ERROR_NOT_SUPPORTED 50L
#endif
#ifndef ERROR_DISK_FULL
#define ERROR_DISK_FULL 112L
#endif
#ifndef ERROR_OPERATION_ABORTED
#define ERROR_OPERATION_ABORTED 995L
#endif

/* Device features (VDConfig.features). */
enum VDFeatures {
    VDF_Removable = 0x1,
    VDF_Rewind = 0x2,
    VDF_Position = 0x10,
    VDF_SkipBlocks = 0x20,
    VDF_ReversePosition = 0x40,
    VDF_Discard = 0x80,
    VDF_FileMarks = 0x100,
    VDF_RandomAccess = 0x200,
    VDF_SnapshotPrepare = 0x400,
    VDF_EnumFrozenFiles = 0x800,
    VDF_VSSWriter = 0x1000,
    VDF_RequestComplete = 0x2000,
    VDF_WriteMedia = 0x10000,
    VDF_ReadMedia = 0x20000,
    VDF_CompleteEnabled = 0x40000,
    VDF_LatchStats = 0x80000000,

    VDF_LikePipe = 0,
    VDF_LikeTape = VDF_FileMarks | VDF_Removable | VDF_Rewind | VDF_Position |
                   VDF_SkipBlocks | VDF_ReversePosition,
    VDF_LikeDisk = VDF_RandomAccess
};

/* Command codes (VDC_Command.commandCode). */
enum VDCommands {
    VDC_Read = 1,
    VDC_Write,
    VDC_ClearError,
    VDC_Rewind,
    VDC_WriteMark,
    VDC_SkipMarks,
    VDC_SkipBlocks,
    VDC_Load,
    VDC_GetPosition,
    VDC_SetPosition,
    VDC_Discard,
    VDC_Flush,
    VDC_Snapshot,
    VDC_MountSnapshot,
    VDC_PrepareToFreeze,
    VDC_FileInfoBegin,
    VDC_FileInfoEnd,
    VDC_GetError,
    VDC_Complete
};

/* The origin of a VDC_SetPosition under VDF_RandomAccess (carried in `size`). */
enum VDWhence {
    VDC_Beginning = 0,
    VDC_Current,
    VDC_End
};

/* The set's configuration: requested by Create, returned by GetConfiguration. */
typedef struct VDConfig {
    uint32_t deviceCount;
    uint32_t features;
    uint32_t prefixZoneSize;
    uint32_t alignment;
    uint32_t softFileMarkBlockSize;
    uint32_t EOMWarningSize;
    uint32_t serverTimeOut;
    uint32_t blockSize;
    uint32_t maxIODepth;
    uint32_t maxTransferSize;
    uint32_t bufferAreaSize;
} VDConfig;

/* A command as the client sees it (read-only; owned by the library until completed). */
typedef struct VDC_Command {
    int32_t commandCode;
    int32_t size;
    int64_t position;
    uint8_t* buffer;
} VDC_Command;

/* A command as the server sees it. */
typedef struct VDS_Command {
    int32_t commandCode;
    int32_t size;
    int64_t inPosition;
    int64_t outPosition;
    uint8_t* buffer;
    uint8_t* completionRoutine;
    uint8_t* completionContext;
    int32_t completionCode;
    int32_t bytesTransferred;
} VDS_Command;

#ifdef __cplusplus

class CVD;
class CVDS;

extern "C" {

/*
 * A device of a set. Objects come from ClientVirtualDeviceSet::OpenDevice and belong to the
 * library; do not delete them. They stay valid memory until their set object is destroyed;
 * after Close every call on them returns an error code.
 */
class ClientVirtualDevice {
public:
    ClientVirtualDevice();
    ~ClientVirtualDevice();

    /* Next command; timeOut in ms, 0 polls, negative waits for ever. */
    int GetCommand(time_t timeOut, VDC_Command** ppCmd);
    int CompleteCommand(VDC_Command* pCmd, int completionCode,
                        unsigned long bytesTransferred, int64_t position);

private:
    CVD* cvd; /* an opaque handle to the library's state */
    friend class ClientVirtualDeviceSet;
};

/* A virtual device set. The caller allocates the object (new, or on the stack). */
class ClientVirtualDeviceSet {
public:
    int Create(char* name, VDConfig* cfg);
    int GetConfiguration(time_t timeout, VDConfig* cfg);
    int OpenDevice(char* name, ClientVirtualDevice** ppVirtualDevice);
    int Close();
    int SignalAbort();
    int OpenInSecondary(char* setName);
    int GetBufferHandle(uint8_t* pBuffer, unsigned int* pBufferHandle);
    int MapBufferHandle(int dwBuffer, uint8_t** ppBuffer);
    void RegisterDeviceClosed(); /* undocumented in the SDK; does nothing here */

    ClientVirtualDeviceSet();
    ~ClientVirtualDeviceSet();

private:
    CVDS* cvds; /* an opaque handle to the library's state */
};

} /* extern "C" */

#endif /* __cplusplus */

#pragma pack(pop)

#endif /* VDISIM_VDI_H */
