/*
 * vdierror.h -- VDI error codes, written for vdisim's drop-in libsqlvdi.so.
 *
 * Compatible by name and value with the Linux VDI SDK's vdierror.h: every code is
 * MAKE_HRESULT(1, 0x77, n), a negative int on Linux. Success is 0. Plain C and C++.
 */
#ifndef VDISIM_VDIERROR_H
#define VDISIM_VDIERROR_H

#ifndef MAKE_HRESULT
/* Computed in unsigned arithmetic, then converted: the same bits as the SDK's macro. */
#define MAKE_HRESULT(sev, fac, code) \
    ((int)(((unsigned int)(sev) << 31) | ((unsigned int)(fac) << 16) | (unsigned int)(code)))
#endif

#define VD_ERROR(code) MAKE_HRESULT(1, 0x77, code)

#define VD_E_NOTOPEN       VD_ERROR(2)  /* the object was not open */
#define VD_E_TIMEOUT       VD_ERROR(3)  /* the wait ran out of time */
#define VD_E_ABORT         VD_ERROR(4)  /* an abort blocks everything except termination */
#define VD_E_SECURITY      VD_ERROR(5)  /* the security environment could not be created */
#define VD_E_INVALID       VD_ERROR(6)  /* an invalid parameter was supplied */
#define VD_E_INSTANCE_NAME VD_ERROR(7)  /* the instance name was not recognised */
#define VD_E_NOTSUPPORTED  VD_ERROR(9)  /* the requested configuration is invalid */
#define VD_E_MEMORY        VD_ERROR(10) /* out of memory */
#define VD_E_UNEXPECTED    VD_ERROR(11) /* unexpected internal error */
#define VD_E_PROTOCOL      VD_ERROR(12) /* the call is not legal in the current state */
#define VD_E_OPEN          VD_ERROR(13) /* all devices are open */
#define VD_E_CLOSE         VD_ERROR(14) /* the object is now closed */
#define VD_E_BUSY          VD_ERROR(15) /* the resource is busy */

#ifndef SUCCEEDED
#define SUCCEEDED(hr) ((int)(hr) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) ((int)(hr) < 0)
#endif

#endif /* VDISIM_VDIERROR_H */
